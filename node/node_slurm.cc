// The node's side of the slurm launcher (docs/slurm.md): launches, held lookups and the polling
// of started runs for their end. Methods of Node (node.h); on the loop's thread.
#include <fmt/format.h>

#include <algorithm>

#include "common/assert.h"
#include "cron/run_name.h"
#include "node/node.h"

namespace paxcron::node {
namespace {

constexpr size_t kPollNamesMax = 200;  // runs followed per poll, newest first

}  // namespace

bool Node::IsSlurmRun(const std::string& run_name) const {
  Result<cron::ParsedRunName> parsed = cron::ParseRunName(run_name);
  if (!parsed.ok()) return false;
  const cron::pb::JobState* job = sm_->FindJob(parsed.value().job);
  return job != nullptr && job->spec().launcher() == "slurm";
}

void Node::DoSlurmLaunch(const cron::LaunchRequest& request) {
  ++metrics_.launches;
  const int64_t sent_mono_us = Now().mono_us;
  slurm_->Launch(request, [this, run = request.run_name, epoch = request.epoch, sent_mono_us](
                              cron::LaunchStatus status, std::string detail) {
    const int64_t now = Now().mono_us;
    Log("launch",
        fmt::format("run={} epoch={} status={} launcher=slurm sbatch_ms={} detail=\"{}\"", run,
                    epoch, cron::LaunchStatusName(status), (now - sent_mono_us) / 1000, detail));
    if (leader_->active() && leader_->epoch() == epoch) sbatch_ended_mono_us_[run] = now;
    ReportLaunch(run, status, epoch);
  });
}

// When a lookup's "absent" can be trusted: once every sbatch that could create the run has been
// killed at its deadline, and the controller had the settling time to finish a request it
// received (Slurm has no request deadline: this is the guess the settling time stands for).
// Sbatch calls of earlier leaders were started while they held the lease, before this node's
// started, so they ended by leader_since + timeout; this node's own, when each ended.
int64_t Node::SlurmLookupNotBefore(const std::string& run_name) const {
  const pb::NodeConfig& c = settings_.config;
  const int64_t settle_us = int64_t{c.slurm_settle_ms()} * 1000;
  int64_t t = leader_since_mono_us_ + int64_t{c.slurm_timeout_ms()} * 1000 + settle_us;
  if (auto it = sbatch_ended_mono_us_.find(run_name); it != sbatch_ended_mono_us_.end()) {
    t = std::max(t, it->second + settle_us);
  }
  return t;
}

void Node::RunHeldLookups() {
  const int64_t now = Now().mono_us;
  for (auto it = held_lookups_.begin(); it != held_lookups_.end();) {
    if (it->first > now) {
      ++it;
      continue;
    }
    DoSlurmLookup(it->second);
    it = held_lookups_.erase(it);
  }
}

void Node::DoSlurmLookup(const cron::LookupRequest& request) {
  const uint64_t epoch = leader_->epoch();
  slurm_->Lookup(request.run_name, [this, run = request.run_name, epoch](cron::LookupStatus s) {
    Log("lookup", fmt::format("run={} launcher=slurm status={}", run, cron::LookupStatusName(s)));
    if (s != cron::LookupStatus::kUnknown) sbatch_ended_mono_us_.erase(run);
    if (leader_->active() && leader_->epoch() == epoch) leader_->OnLookupResult(run, s, WallUs());
  });
}

// The runs that Slurm accepted and whose end is not recorded yet are looked up every
// slurm_poll_ms; an ended one's state and exit code are proposed as the run's RunFinished.
void Node::PollSlurm() {
  if (!leader_->active() || slurm_poll_in_flight_) return;
  const int64_t now = Now().mono_us;
  if (now < next_slurm_poll_mono_us_) return;
  next_slurm_poll_mono_us_ = now + int64_t{settings_.config.slurm_poll_ms()} * 1000;
  std::vector<std::pair<int64_t, std::string>> started;  // (scheduled, run)
  sm_->ForEachJob([&](const cron::pb::JobState& job) {
    if (job.spec().launcher() != "slurm") return;
    for (const auto* runs : {&job.history(), &job.open_runs()}) {
      for (const cron::pb::RunRecord& r : *runs) {
        if (r.state() == cron::pb::RUN_STARTED && !r.exit().reported()) {
          started.emplace_back(r.scheduled_s(), r.run_name());
        }
      }
    }
  });
  slurm_finish_proposed_.clear();
  if (started.empty()) return;
  std::sort(started.rbegin(), started.rend());
  if (started.size() > kPollNamesMax) started.resize(kPollNamesMax);
  std::vector<std::string> names;
  for (auto& [t, name] : started) {
    if (ValidateSlurmJobName(name).ok()) names.push_back(std::move(name));
  }
  if (names.empty()) return;
  slurm_poll_in_flight_ = true;
  slurm_->Poll(names, [this, epoch = leader_->epoch()](bool ok, std::vector<SlurmJob> jobs) {
    slurm_poll_in_flight_ = false;
    OnSlurmPolled(ok, jobs, epoch);
  });
}

void Node::OnSlurmPolled(bool ok, const std::vector<SlurmJob>& jobs, uint64_t epoch) {
  if (!ok) Log("slurm_poll_failed");
  if (!leader_->active() || leader_->epoch() != epoch) return;
  std::map<std::string, int> seen;
  for (const SlurmJob& j : jobs) {
    if (++seen[j.name] == 2) {
      // Never expected: the cron launched a run twice, or someone else used the name.
      ++metrics_.slurm_duplicates;
      Log("slurm_duplicate", fmt::format("run={} job_id={}", j.name, j.id));
    }
    if (!IsTerminalSlurmState(j.state) || slurm_finish_proposed_.count(j.name) > 0) continue;
    slurm_finish_proposed_.insert(j.name);
    cron::pb::Command c;
    cron::pb::RunFinished* f = c.mutable_run_finished();
    f->set_run_name(j.name);
    cron::pb::RunExit* e = f->mutable_exit();
    e->set_exit_code(j.exit_code);
    e->set_signal(j.signal);
    e->set_scheduler_state(j.state.substr(0, j.state.find(' ')));
    e->set_scheduler_job_id(j.id);
    e->set_output_tail(fmt::format("slurm job {} {}\n", j.id, j.state));
    Log("run_exit", fmt::format("run={} launcher=slurm job_id={} state={} exit_code={} signal={}",
                                j.name, j.id, j.state, j.exit_code, j.signal));
    ProposeCron(c, 0);  // best effort: the next poll proposes it again if it is lost
  }
  Pump();
}

}  // namespace paxcron::node
