#include "node/slurm_launcher.h"

#include <fmt/format.h>

#include <memory>
#include <set>

#include "common/assert.h"

namespace paxcron::node {
namespace {

constexpr size_t kInFlightMax = 8;       // sbatch/squeue children at once
constexpr size_t kQueueMax = 1024;       // waiting beyond those
constexpr size_t kNameListChars = 8192;  // one squeue --name argument

std::string FirstLine(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  if (s.size() > 300) s = s.substr(s.size() - 300);
  std::string out(s);
  for (char& c : out) {
    if (c == '\n' || c == '"') c = ' ';
  }
  return out;
}

std::vector<std::string> SqueueArgs(const std::string& names) {
  return {"squeue", "--noheader", "--states=all", "--name=" + names,
          "--Format=" + std::string(kSqueueFormat)};
}

}  // namespace

SlurmLauncher::SlurmLauncher(uv_loop_t* loop, SlurmOptions options,
                             std::function<void(std::string_view)> log)
    : options_(std::move(options)), log_(std::move(log)), runner_(loop, kInFlightMax, kQueueMax) {
  PAXCRON_ASSERT(options_.timeout_ms > 0);
}

void SlurmLauncher::Launch(const cron::LaunchRequest& request, LaunchDone done) {
  if (Status s = ValidateSlurmJobName(request.run_name); !s.ok()) {
    done(cron::LaunchStatus::kRejected, s.message());
    return;
  }
  SbatchCommand c = SbatchFor(request);
  const bool queued =
      runner_.Run(std::move(c.argv), std::move(c.env), options_.timeout_ms, [done](ChildResult r) {
        if (r.ok()) {
          Result<std::string> id = ParseSbatchParsable(r.out);
          // Exit 0 without a job id: it may exist all the same.
          if (!id.ok()) return done(cron::LaunchStatus::kUnknown, id.status().message());
          return done(cron::LaunchStatus::kStarted, id.value());
        }
        // Not run at all (timeout(1) exits 126 or 127 when it cannot run sbatch): not submitted.
        if (r.spawn_failed || (!r.timed_out && (r.exit_status == 126 || r.exit_status == 127))) {
          return done(cron::LaunchStatus::kRejected, FirstLine(r.err));
        }
        const std::string why = r.timed_out ? "sbatch timed out" : FirstLine(r.err);
        done(ClassifySbatchFailure(r.timed_out, r.err), why);
      });
  if (!queued) done(cron::LaunchStatus::kRejected, "too many slurm calls waiting");
}

void SlurmLauncher::Lookup(const std::string& run_name, LookupDone done) {
  if (!ValidateSlurmJobName(run_name).ok()) {
    done(cron::LookupStatus::kAbsent);  // such a run could never have been submitted
    return;
  }
  auto log = log_;
  const bool queued = runner_.Run(
      SqueueArgs(run_name), {}, options_.timeout_ms, [this, run_name, done, log](ChildResult r) {
        if (!r.ok()) {
          if (log)
            log(fmt::format("event=squeue_failed run={} error=\"{}\"", run_name,
                            r.timed_out ? "timed out" : FirstLine(r.err)));
          return done(cron::LookupStatus::kUnknown);
        }
        for (const SlurmJob& j : ParseSqueue(r.out)) {
          if (j.name == run_name) return done(cron::LookupStatus::kFound);
        }
        SearchJobcomp({run_name}, [done](bool ok, std::vector<SlurmJob> jobs) {
          if (!ok) return done(cron::LookupStatus::kUnknown);
          done(jobs.empty() ? cron::LookupStatus::kAbsent : cron::LookupStatus::kFound);
        });
      });
  if (!queued) done(cron::LookupStatus::kUnknown);
}

void SlurmLauncher::Poll(const std::vector<std::string>& names, PollDone done) {
  PAXCRON_ASSERT(!names.empty());
  // One squeue call: the caller bounds the number of names (the first list only, else).
  const std::vector<std::string> lists = JoinNames(names, kNameListChars);
  auto wanted = std::make_shared<std::set<std::string>>(names.begin(), names.end());
  const bool queued = runner_.Run(
      SqueueArgs(lists.front()), {}, options_.timeout_ms, [this, wanted, done](ChildResult r) {
        if (!r.ok()) return done(false, {});
        std::vector<SlurmJob> found;
        std::set<std::string> missing = *wanted;
        for (SlurmJob& j : ParseSqueue(r.out)) {
          if (wanted->count(j.name) == 0) continue;
          missing.erase(j.name);
          found.push_back(std::move(j));
        }
        if (missing.empty()) return done(true, std::move(found));
        SearchJobcomp({missing.begin(), missing.end()},
                      [found, done](bool ok, std::vector<SlurmJob> more) mutable {
                        for (SlurmJob& j : more) found.push_back(std::move(j));
                        done(ok, std::move(found));
                      });
      });
  if (!queued) done(false, {});
}

void SlurmLauncher::SearchJobcomp(const std::vector<std::string>& names,
                                  std::function<void(bool ok, std::vector<SlurmJob>)> done) {
  if (options_.jobcomp_file.empty()) return done(true, {});
  std::vector<std::string> argv = {"grep", "-F", "-h"};
  for (const std::string& n : names) {
    argv.push_back("-e");
    argv.push_back("Name=" + n + " ");  // the space: no prefix of a longer name
  }
  argv.push_back("--");
  argv.push_back(options_.jobcomp_file);
  auto wanted = std::make_shared<std::set<std::string>>(names.begin(), names.end());
  const bool queued =
      runner_.Run(std::move(argv), {}, options_.timeout_ms, [wanted, done](ChildResult r) {
        // grep: 0 lines found, 1 none, 2 an error (the file unreadable: the answer is unknown).
        if (r.timed_out || r.spawn_failed || (r.exit_status != 0 && r.exit_status != 1)) {
          return done(false, {});
        }
        std::vector<SlurmJob> jobs;
        size_t start = 0;
        while (start < r.out.size()) {
          size_t end = r.out.find('\n', start);
          if (end == std::string::npos) end = r.out.size();
          std::optional<SlurmJob> j =
              ParseJobcompLine(std::string_view(r.out).substr(start, end - start));
          if (j.has_value() && wanted->count(j->name) > 0) jobs.push_back(std::move(*j));
          start = end + 1;
        }
        done(true, std::move(jobs));
      });
  if (!queued) done(false, {});
}

}  // namespace paxcron::node
