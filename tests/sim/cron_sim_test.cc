// The replicated cron in the simulator: correct runs pass every checker in every scheduler mode,
// each classic cron bug is caught within 500 seeds, and a cron run's trace is deterministic.
#include <gtest/gtest.h>

#include "sim/report.h"

namespace paxcron::sim {
namespace {

SimOptions CronRun(uint64_t seed, SchedulerMode mode, int64_t duration_us) {
  SimOptions o;
  o.seed = seed;
  o.nodes = 5;
  o.duration_us = duration_us;
  o.faults = ParseFaults("all").value();
  o.faults_text = "all";
  o.cron_jobs = 20;
  o.scheduler = mode;
  return o;
}

class CronModes : public ::testing::TestWithParam<SchedulerMode> {};

TEST_P(CronModes, EveryCheckerPassesUnderAllFaults) {
  uint64_t started = 0, skipped = 0;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    const RunResult r = RunSeed(CronRun(seed, GetParam(), 120'000'000), nullptr);
    ASSERT_TRUE(r.ok) << FormatResultLine(r);
    started += r.stats.runs_started;
    skipped += r.stats.runs_skipped;
  }
  EXPECT_GT(started, 500u);  // the cron really ran jobs
  std::printf("%s: 10 seeds x 2 min, %llu runs started, %llu skipped\n",
              SchedulerModeName(GetParam()), static_cast<unsigned long long>(started),
              static_cast<unsigned long long>(skipped));
}

INSTANTIATE_TEST_SUITE_P(Modes, CronModes,
                         ::testing::Values(SchedulerMode::kNamed, SchedulerMode::kFenced,
                                           SchedulerMode::kPlain),
                         [](const ::testing::TestParamInfo<SchedulerMode>& param_info) {
                           return std::string(SchedulerModeName(param_info.param));
                         });

struct CronBugCase {
  const char* bug;
  const char* checker;  // which checker must report it ("a|b": either)
  const char* faults = "all";
};

class CronBugCatch : public ::testing::TestWithParam<CronBugCase> {};

// In `plain` mode, the weakest scheduler: nothing outside the cron protects against its bugs.
TEST_P(CronBugCatch, CaughtWithin500Seeds) {
  for (uint64_t seed = 1; seed <= 500; ++seed) {
    SimOptions o = CronRun(seed, SchedulerMode::kPlain, 120'000'000);
    o.faults = ParseFaults(GetParam().faults).value();
    o.faults_text = GetParam().faults;
    o.bugs = ParseBug(GetParam().bug).value();
    o.bug_name = GetParam().bug;
    const RunResult r = RunSeed(o, nullptr);
    if (r.ok) continue;
    std::printf("%s: caught by the %s checker at seed %llu: %s\n  replay: %s\n", GetParam().bug,
                r.violation.checker.c_str(), static_cast<unsigned long long>(seed),
                r.violation.detail.c_str(), ReplayCommand(o, seed).c_str());
    const std::string allowed = std::string("|") + GetParam().checker + "|";
    EXPECT_NE(allowed.find("|" + r.violation.checker + "|"), std::string::npos)
        << r.violation.checker << " is not one of " << GetParam().checker;
    return;
  }
  FAIL() << GetParam().bug << " was not caught in 500 seeds";
}

INSTANTIATE_TEST_SUITE_P(
    Bugs, CronBugCatch,
    ::testing::Values(CronBugCase{"retry-without-lookup", "at-most-once"},
                      // A launch whose begin is then lost runs twice, or runs while a later leader
                      // records the time as skipped: either way the oracle disagrees.
                      CronBugCase{"launch-before-commit", "at-most-once|history"},
                      CronBugCase{"stale-leader-launch", "fencing"},
                      CronBugCase{"name-without-time", "at-most-once"},
                      CronBugCase{"no-reconcile", "history"},
                      CronBugCase{"missed-all-skips", "exactly-once"},
                      CronBugCase{"coarse-poll", "lateness"},
                      CronBugCase{"local-clock-apply", "replica-state|at-most-once"},
                      // A leader whose wall clock jumped minutes ahead fires runs that early.
                      CronBugCase{"no-clock-guard", "early", "all,clock-jump"}),
    [](const ::testing::TestParamInfo<CronBugCase>& param_info) {
      std::string name = param_info.param.bug;
      for (char& c : name) c = c == '-' ? '_' : c;
      return name;
    });

// Replicas that apply at their own clocks diverge; with frequent snapshots the comparison of
// snapshot digests after the same slot sees it before any double start does.
TEST(CronBugCatch, DivergentStatesAreCaughtByComparingSnapshots) {
  for (uint64_t seed = 1; seed <= 500; ++seed) {
    SimOptions o = CronRun(seed, SchedulerMode::kPlain, 120'000'000);
    o.bugs = ParseBug("local-clock-apply").value();
    o.snapshot_every_slots = 20;
    o.snapshot_keep_slots = 5;
    const RunResult r = RunSeed(o, nullptr);
    if (r.ok) continue;
    std::printf("local-clock-apply, snapshots every 20 slots: caught by %s at seed %llu: %s\n",
                r.violation.checker.c_str(), static_cast<unsigned long long>(seed),
                r.violation.detail.c_str());
    EXPECT_EQ(r.violation.checker, "replica-state");
    return;
  }
  FAIL() << "local-clock-apply was not caught in 500 seeds";
}

// A named scheduler deduplicates by run name: a blind retry then starts nothing twice, and the
// history still tells the truth (the duplicate finds the first as "already existed").
TEST(CronBugCatch, ANamedSchedulerAbsorbsBlindRetries) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    SimOptions o = CronRun(seed, SchedulerMode::kNamed, 120'000'000);
    o.bugs = ParseBug("retry-without-lookup").value();
    const RunResult r = RunSeed(o, nullptr);
    EXPECT_TRUE(r.ok) << FormatResultLine(r);
  }
}

TEST(CronDeterminism, SameSeedSameTrace) {
  auto trace_of = [](uint64_t seed) {
    Trace trace;
    trace.CaptureInMemory();
    EXPECT_TRUE(RunSeed(CronRun(seed, SchedulerMode::kPlain, 60'000'000), &trace).ok);
    return trace.captured();
  };
  const std::string a = trace_of(4);
  EXPECT_TRUE(a == trace_of(4));
  for (const char* ev : {"launch_begin", "launch_rpc", "started", "launch_end", "cron_leader"}) {
    EXPECT_NE(a.find(std::string("\"ev\":\"") + ev + "\""), std::string::npos) << ev;
  }
}

// With the clock guard on, a leader whose wall clock jumps by minutes stands aside before it
// launches anything by it: no run starts early, none twice, none unfenced. (Liveness under
// clock-jump is not yet met: a few seeds miss a must-run time or a steady lateness bound, see
// papers/benchmarks.md; this test counts them and checks safety only.)
TEST(ClockJump, TheGuardKeepsEveryRunFromStartingEarly) {
  uint64_t trips = 0, liveness_failures = 0;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    SimOptions o = CronRun(seed, SchedulerMode::kPlain, 120'000'000);
    o.faults = ParseFaults("all,clock-jump").value();
    o.faults_text = "all,clock-jump";
    const RunResult r = RunSeed(o, nullptr);
    trips += r.stats.clock_guard_trips;
    if (r.ok) continue;
    ASSERT_TRUE(r.violation.checker == "exactly-once" || r.violation.checker == "lateness" ||
                r.violation.checker == "history")
        << FormatResultLine(r) << "\n  replay: " << ReplayCommand(o, seed);
    ++liveness_failures;
  }
  std::printf(
      "clock-jump, 40 seeds x 2 min: the guard acted %llu times; %llu seeds failed a "
      "liveness-side checker\n",
      static_cast<unsigned long long>(trips), static_cast<unsigned long long>(liveness_failures));
  EXPECT_GT(trips, 0u);
}

}  // namespace
}  // namespace paxcron::sim
