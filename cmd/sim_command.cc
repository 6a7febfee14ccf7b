// `paxcron sim`: runs seeds through the deterministic simulator. A contract other tools rely on:
// one line per seed, then "N passed, N failed"; non-zero exit on any violation, with the exact
// command line that replays each failing seed.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cmd/commands.h"
#include "common/assert.h"
#include "cron/job_spec.h"
#include "sim/explain.h"
#include "sim/html_report.h"
#include "sim/progress.h"
#include "sim/report.h"

namespace paxcron::cmd {
namespace {

struct SimArgs {
  sim::SimOptions options;
  uint64_t first_seed = 1;
  uint64_t last_seed = 1;
  std::string trace_path;
  std::string html_path;  // --html: the timeline page of the run
  bool explain = false;   // --explain: the violation in plain words
  uint32_t threads = 0;   // 0: one per core
};

std::optional<uint64_t> ParseUint(std::string_view text) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

Result<SimArgs> ParseSimArgs(const std::vector<std::string>& args) {
  SimArgs out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    auto value = [&]() -> Result<std::string> {
      if (i + 1 >= args.size()) return Status::Error(fmt::format("{} needs a value", flag));
      return args[++i];
    };
    auto number = [&](uint64_t lo, uint64_t hi) -> Result<uint64_t> {
      Result<std::string> v = value();
      if (!v.ok()) return v.status();
      std::optional<uint64_t> n = ParseUint(v.value());
      if (!n || *n < lo || *n > hi) {
        return Status::Error(
            fmt::format("{}: '{}' is not a number in {}-{}", flag, v.value(), lo, hi));
      }
      return *n;
    };
    if (flag == "--seed") {
      Result<uint64_t> n = number(0, UINT64_MAX);
      if (!n.ok()) return n.status();
      out.first_seed = out.last_seed = n.value();
    } else if (flag == "--seeds") {
      Result<std::string> v = value();
      if (!v.ok()) return v.status();
      const size_t dash = v.value().find('-');
      std::optional<uint64_t> a, b;
      if (dash != std::string::npos) {
        a = ParseUint(std::string_view(v.value()).substr(0, dash));
        b = ParseUint(std::string_view(v.value()).substr(dash + 1));
      }
      if (!a || !b || *a > *b) {
        return Status::Error(
            fmt::format("--seeds: '{}' is not a range A-B with A <= B", v.value()));
      }
      out.first_seed = *a;
      out.last_seed = *b;
    } else if (flag == "--nodes") {
      Result<uint64_t> n = number(1, 9);
      if (!n.ok()) return n.status();
      out.options.nodes = static_cast<uint32_t>(n.value());
    } else if (flag == "--duration") {
      Result<std::string> v = value();
      if (!v.ok()) return v.status();
      Result<int64_t> d = sim::ParseDuration(v.value());
      if (!d.ok()) return Status::Error("--duration: " + d.status().message());
      out.options.duration_us = d.value();
    } else if (flag == "--faults") {
      Result<std::string> v = value();
      if (!v.ok()) return v.status();
      Result<sim::FaultSet> f = sim::ParseFaults(v.value());
      if (!f.ok()) return f.status();
      out.options.faults = f.value();
      out.options.faults_text = v.value();
    } else if (flag == "--inject-bug") {
      Result<std::string> v = value();
      if (!v.ok()) return v.status();
      Result<sim::BugSet> b = sim::ParseBug(v.value());
      if (!b.ok()) return b.status();
      out.options.bugs = b.value();
      out.options.bug_name = v.value();
    } else if (flag == "--trace") {
      Result<std::string> v = value();
      if (!v.ok()) return v.status();
      out.trace_path = v.value();
    } else if (flag == "--html") {
      Result<std::string> v = value();
      if (!v.ok()) return v.status();
      out.html_path = v.value();
    } else if (flag == "--explain") {
      out.explain = true;
    } else if (flag == "--threads") {
      Result<uint64_t> n = number(1, 256);
      if (!n.ok()) return n.status();
      out.threads = static_cast<uint32_t>(n.value());
    } else if (flag == "--mode") {
      Result<std::string> v = value();
      if (!v.ok()) return v.status();
      Result<paxos::Mode> m = sim::ParseMode(v.value());
      if (!m.ok()) return m.status();
      out.options.mode = m.value();
    } else if (flag == "--intensity") {
      Result<uint64_t> n = number(1, 3);
      if (!n.ok()) return n.status();
      out.options.intensity = static_cast<uint32_t>(n.value());
    } else if (flag == "--jobs") {
      Result<uint64_t> n = number(0, 100'000);
      if (!n.ok()) return n.status();
      out.options.cron_jobs = static_cast<uint32_t>(n.value());
    } else if (flag == "--scheduler") {
      Result<std::string> v = value();
      if (!v.ok()) return v.status();
      Result<sim::SchedulerMode> m = sim::ParseSchedulerMode(v.value());
      if (!m.ok()) return m.status();
      out.options.scheduler = m.value();
    } else if (flag == "--history") {
      Result<std::string> v = value();
      if (!v.ok()) return v.status();
      out.options.history_job = v.value();
    } else if (flag == "--history-max") {
      Result<uint64_t> n = number(1, cron::kHistoryMaxLimit);
      if (!n.ok()) return n.status();
      out.options.cron_history_max = static_cast<uint32_t>(n.value());
    } else if (flag == "--snapshot-every") {
      Result<uint64_t> n = number(0, 1'000'000'000);
      if (!n.ok()) return n.status();
      out.options.snapshot_every_slots = n.value();
      out.options.snapshot_keep_slots = n.value() / 4;
    } else if (flag == "--proposals") {
      Result<uint64_t> n = number(0, 100'000);
      if (!n.ok()) return n.status();
      out.options.proposals_per_sec = static_cast<uint32_t>(n.value());
    } else {
      return Status::Error(fmt::format("unknown option '{}' (try 'paxcron sim --help')", flag));
    }
  }
  if (!out.trace_path.empty() && out.first_seed != out.last_seed) {
    return Status::Error("--trace writes one run: use it with --seed N, not --seeds");
  }
  if (!out.html_path.empty() && out.first_seed != out.last_seed) {
    return Status::Error("--html draws one run: use it with --seed N, not --seeds");
  }
  if (out.explain && out.first_seed != out.last_seed) {
    return Status::Error(
        "--explain explains one run: use it with --seed N (a sweep prints each failing seed's "
        "replay command)");
  }
  if (sim::IsFastBug(out.options.bugs) && out.options.mode != paxos::Mode::kFast) {
    return Status::Error(fmt::format("--inject-bug {} is a Fast Paxos bug: use it with --mode fast",
                                     out.options.bug_name));
  }
  return out;
}

}  // namespace

void PrintSimHelp() {
  std::printf(
      "usage: paxcron sim [--seed N | --seeds A-B] [--nodes 3|5|7] [--duration 10m]\n"
      "                   [--faults LIST] [--trace FILE] [--html FILE] [--explain]\n"
      "                   [--inject-bug NAME] [--threads N] [--mode multi|fast]\n"
      "                   [--intensity 1|2|3] [--proposals N] [--jobs N]\n"
      "                   [--scheduler named|fenced|plain] [--snapshot-every N]\n"
      "                   [--history JOB] [--history-max N]\n"
      "\n"
      "Simulates a paxcron cluster on virtual time. Every seed runs a safety phase with the\n"
      "chosen faults for --duration, then a liveness phase (partitions healed, loss off, every\n"
      "node restarted) in which a new proposal must be applied by every node within 15s.\n"
      "Checkers: agreement, validity, lease safety (judged on true time), durability, replica\n"
      "state checksums, liveness; with --jobs also at-most-once, fencing, history,\n"
      "exactly-once (for jobs that must run: missed=all, on_unknown=relaunch; see below)\n"
      "and lateness (a run starts within 1 s of its time, on its leader's clock, while the\n"
      "world is, and was for 30 s, fully healthy; within 12 s across one failover while a\n"
      "connected majority is up). Same seed and build: the same run, byte for byte.\n"
      "\n"
      "options:\n"
      "  --seed N           run one seed (default 1)\n"
      "  --seeds A-B        run seeds A to B inclusive\n"
      "  --nodes N          cluster size, 1-9 (default 5)\n"
      "  --duration D       safety phase length: 500ms, 90s, 10m, 1h (default 60s)\n"
      "  --faults LIST      comma list of none, partition, crash, drop, dup, reorder, skew,\n"
      "                     scheduler, disk, all (default none). disk flips bits in one node's\n"
      "                     durable files: found at its next restart, it stays down (the run\n"
      "                     goes on without it). skew-beyond-bound makes clocks drift\n"
      "                     far beyond the bound the lease assumes: the lease checker is then\n"
      "                     expected to fail. With --jobs, crash also pauses nodes (a frozen\n"
      "                     process wakes with stale beliefs) and scheduler takes the datacenter\n"
      "                     scheduler down for intervals. clock-jump (not in all) jumps the\n"
      "                     leader's wall clock by 1-10 minutes; the clock guard must keep it\n"
      "                     from launching by it (the early checker)\n"
      "  --trace FILE       write the run as JSON Lines (schema: sim/TRACE.md); one seed only\n"
      "  --html FILE        write the run as one self-contained page: a space-time diagram of\n"
      "                     the nodes, messages, crashes, partitions, roles and leases, opened\n"
      "                     on the violation if a checker failed; one seed only\n"
      "  --explain          say in plain words which invariant broke, on which nodes, when,\n"
      "                     and the messages around it; one seed only\n"
      "  --inject-bug NAME  switch on a classic bug. Consensus: no-phase1-recovery,\n"
      "                     ack-before-persist, skip-fsync, lease-no-drift-margin,\n"
      "                     no-lease-wait, small-quorum. Cron (with --jobs): "
      "retry-without-lookup,\n"
      "                     launch-before-commit, stale-leader-launch, name-without-time,\n"
      "                     no-reconcile, missed-all-skips, coarse-poll, local-clock-apply,\n"
      "                     no-clock-guard (with --faults ...,clock-jump). Fast Paxos (with\n"
      "                     --mode fast): fast-quorum-too-small, recovery-picks-any\n"
      "  --mode MODE        multi (Multi-Paxos, default) or fast (Fast Paxos: proposers send\n"
      "                     straight to the acceptors in fast rounds; paxos/replica_fast.cc)\n"
      "  --threads N        seeds run in parallel on N threads (default: all cores)\n"
      "  --intensity N      how often faults strike: 1 gentle, 2 default, 3 harsh\n"
      "  --proposals N      client commands per simulated second without --jobs (default 100)\n"
      "  --jobs N           run the replicated cron with N random jobs (schedules from every\n"
      "                     10 s to hourly, '?' hashing, time zones, every policy), launched on a\n"
      "                     simulated datacenter scheduler that is also the oracle; the liveness\n"
      "                     phase then lasts 60 s and ends with the history check\n"
      "  --scheduler MODE   named (dedupes by run name), fenced (rejects stale lease epochs) or\n"
      "                     plain (neither; refuses requests older than 2 s) (default named)\n"
      "  --history JOB      with --jobs: after each seed, print the job's replicated run history\n"
      "                     (job names are job000, job001, ...): last success, last failure,\n"
      "                     expected runs missing, every record kept\n"
      "  --history-max N    with --jobs: each job keeps its last N finished runs (default: all,\n"
      "                     up to 10000, so that the final check sees every run); what left\n"
      "                     the history is checked against the scheduler only\n"
      "  --snapshot-every N each node snapshots its state every N applied slots and compacts\n"
      "                     its log, keeping N/4 slots for lagging peers; a peer behind that\n"
      "                     fetches the snapshot in chunks (default 1000; 0: never)\n"
      "\n"
      "output: one line per seed, then 'N passed, N failed'. Exit status 1 if any seed failed,\n"
      "2 on bad usage. Each failure prints the command that replays it. On a terminal, a\n"
      "sweep draws a progress line on stderr.\n");
}

namespace {

// The sweep's progress line on stderr, only when stderr is a terminal (never in CI logs), at
// most five times a second. Measures wall time: cmd/ may, sim/ may not.
class ProgressLine {
 public:
  explicit ProgressLine(uint64_t total)
      : total_(total), on_(total > 1 && isatty(STDERR_FILENO) == 1) {}
  ~ProgressLine() { Clear(); }
  // Erases the line before other output reaches the terminal.
  void Clear() {
    if (on_ && drawn_) std::fprintf(stderr, "\r\033[K");
    drawn_ = false;
  }
  void Draw(uint64_t done, uint64_t failed) {
    if (!on_) return;
    const auto now = std::chrono::steady_clock::now();
    if (drawn_ && now - last_ < std::chrono::milliseconds(200) && done < total_) return;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    std::fprintf(stderr, "\r\033[K%s", sim::FormatProgress(done, total_, failed, elapsed).c_str());
    std::fflush(stderr);
    drawn_ = true;
  }

 private:
  uint64_t total_;
  bool on_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_ = start_;
};

// --explain and --html, after the one run they need.
int ReportOneRun(const SimArgs& a, sim::Timeline& timeline, const sim::RunResult& r,
                 std::FILE* html) {
  timeline.Finish();
  std::optional<sim::Explanation> explanation;
  if (!r.ok) explanation = sim::Explain(r.violation, &timeline);
  if (a.explain) {
    if (explanation) {
      std::printf("%s", sim::FormatExplanation(*explanation).c_str());
    } else {
      std::printf("seed %llu passed: no checker found a violation\n",
                  static_cast<unsigned long long>(r.seed));
    }
  }
  if (html == nullptr) return 0;
  sim::SimOptions o = a.options;
  o.seed = r.seed;
  const std::string page =
      sim::RenderTimelineHtml(timeline, o, r, explanation ? &*explanation : nullptr);
  const bool written = std::fwrite(page.data(), 1, page.size(), html) == page.size();
  if (std::fclose(html) != 0 || !written) {
    std::fprintf(stderr, "paxcron sim: cannot write '%s'\n", a.html_path.c_str());
    return 2;
  }
  std::printf("%s\n", sim::HtmlSummaryLine(a.html_path, page.size(), timeline).c_str());
  return 0;
}

}  // namespace

int RunSim(const std::vector<std::string>& args) {
  if (std::find(args.begin(), args.end(), "--help") != args.end()) {
    PrintSimHelp();
    return 0;
  }
  Result<SimArgs> parsed = ParseSimArgs(args);
  if (!parsed.ok()) {
    std::fprintf(stderr, "paxcron sim: %s\n", parsed.status().message().c_str());
    return 2;
  }
  const SimArgs& a = parsed.value();
  const uint64_t count = a.last_seed - a.first_seed + 1;
  sim::Trace trace;
  if (!a.trace_path.empty() && !trace.OpenFile(a.trace_path)) {
    std::fprintf(stderr, "paxcron sim: cannot write trace file '%s'\n", a.trace_path.c_str());
    return 2;
  }
  std::FILE* html = nullptr;
  if (!a.html_path.empty() && (html = std::fopen(a.html_path.c_str(), "w")) == nullptr) {
    std::fprintf(stderr, "paxcron sim: cannot write '%s'\n", a.html_path.c_str());
    return 2;
  }
  // The page and the explanation read the run from the trace's own lines.
  sim::Timeline timeline(a.options.nodes, sim::ExpectedSpanUs(a.options));
  const bool one_run_report = html != nullptr || a.explain;
  if (one_run_report) trace.SetListener([&](std::string_view l) { timeline.OnLine(l); });
  const uint32_t threads = static_cast<uint32_t>(std::min<uint64_t>(
      count, a.threads != 0 ? a.threads : std::max(1u, std::thread::hardware_concurrency())));

  // Seeds run on worker threads; lines are printed in seed order as soon as each is ready.
  std::vector<std::optional<sim::RunResult>> results(count);
  std::optional<sim::RunResult> only;  // the run, when --html or --explain report on it
  std::mutex mu;
  std::atomic<uint64_t> next{0};
  uint64_t printed = 0, passed = 0, failed = 0;
  ProgressLine progress(count);
  auto flush_ready = [&]() {  // REQUIRES: mu held
    while (printed < count && results[printed].has_value()) {
      const sim::RunResult& r = *results[printed];
      progress.Clear();
      std::printf("%s\n", sim::FormatResultLine(r).c_str());
      if (!r.history.empty()) std::printf("%s", r.history.c_str());
      if (r.ok) {
        ++passed;
      } else {
        ++failed;
        std::printf("  replay: %s\n", sim::ReplayCommand(a.options, r.seed).c_str());
      }
      std::fflush(stdout);
      if (one_run_report) only = std::move(results[printed]);
      results[printed].reset();
      ++printed;
    }
    progress.Draw(printed, failed);
  };
  auto worker = [&]() {
    for (uint64_t i = next++; i < count; i = next++) {
      sim::SimOptions o = a.options;
      o.seed = a.first_seed + i;
      sim::RunResult r = sim::RunSeed(o, trace.enabled() ? &trace : nullptr);
      std::lock_guard<std::mutex> lock(mu);
      results[i] = std::move(r);
      flush_ready();
    }
  };
  std::vector<std::thread> workers;
  for (uint32_t j = 1; j < threads; ++j) workers.emplace_back(worker);
  worker();
  for (auto& t : workers) t.join();
  progress.Clear();
  trace.Close();
  if (one_run_report) {
    PAXCRON_ASSERT(count == 1 && only.has_value());
    const int status = ReportOneRun(a, timeline, *only, html);
    if (status != 0) return status;
  }
  std::printf("%llu passed, %llu failed\n", static_cast<unsigned long long>(passed),
              static_cast<unsigned long long>(failed));
  return failed == 0 ? 0 : 1;
}

}  // namespace paxcron::cmd
