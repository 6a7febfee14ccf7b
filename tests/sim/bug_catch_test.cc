// Every checker must be able to fail: each classic bug, switched on, is caught within at most 500
// seeds. The test prints the first failing seed and how many seeds it took.
#include <gtest/gtest.h>

#include <string>

#include "sim/report.h"

namespace paxcron::sim {
namespace {

struct BugCase {
  const char* bug;
};

std::string BugTestName(const ::testing::TestParamInfo<BugCase>& param_info) {
  std::string name = param_info.param.bug;
  for (char& c : name) c = c == '-' ? '_' : c;
  return name;
}

class BugCatch : public ::testing::TestWithParam<BugCase> {};

TEST_P(BugCatch, CaughtWithin500Seeds) {
  SimOptions o;
  o.nodes = 5;
  o.duration_us = 120'000'000;  // 2 simulated minutes per seed
  o.faults = ParseFaults("all").value();
  o.faults_text = "all";
  o.bugs = ParseBug(GetParam().bug).value();
  o.bug_name = GetParam().bug;
  for (uint64_t seed = 1; seed <= 500; ++seed) {
    o.seed = seed;
    const RunResult r = RunSeed(o, nullptr);
    if (r.ok) continue;
    std::printf("%s: caught by the %s checker at seed %llu (%llu seeds): %s\n  replay: %s\n",
                GetParam().bug, r.violation.checker.c_str(), static_cast<unsigned long long>(seed),
                static_cast<unsigned long long>(seed), r.violation.detail.c_str(),
                ReplayCommand(o, seed).c_str());
    RecordProperty("caught_at_seed", static_cast<int>(seed));
    EXPECT_FALSE(r.violation.checker.empty());
    return;
  }
  FAIL() << GetParam().bug << " was not caught in 500 seeds";
}

INSTANTIATE_TEST_SUITE_P(Bugs, BugCatch,
                         ::testing::Values(BugCase{"no-phase1-recovery"},
                                           BugCase{"ack-before-persist"}, BugCase{"skip-fsync"},
                                           BugCase{"lease-no-drift-margin"},
                                           BugCase{"no-lease-wait"}, BugCase{"small-quorum"}),
                         BugTestName);

// The Fast Paxos bugs, in --mode fast runs (clients propose at every node at once, so fast
// slots collide and are recovered). Kept short: one simulated minute per seed.
class FastBugCatch : public ::testing::TestWithParam<BugCase> {};

TEST_P(FastBugCatch, CaughtWithin500Seeds) {
  SimOptions o;
  o.nodes = 5;
  o.mode = paxos::Mode::kFast;
  o.duration_us = 60'000'000;
  o.faults = ParseFaults("all").value();
  o.faults_text = "all";
  o.bugs = ParseBug(GetParam().bug).value();
  o.bug_name = GetParam().bug;
  ASSERT_TRUE(IsFastBug(o.bugs));
  for (uint64_t seed = 1; seed <= 500; ++seed) {
    o.seed = seed;
    const RunResult r = RunSeed(o, nullptr);
    if (r.ok) continue;
    std::printf("%s: caught by the %s checker at seed %llu: %s\n  replay: %s\n", GetParam().bug,
                r.violation.checker.c_str(), static_cast<unsigned long long>(seed),
                r.violation.detail.c_str(), ReplayCommand(o, seed).c_str());
    RecordProperty("caught_at_seed", static_cast<int>(seed));
    // A safety checker, not liveness: the bug makes two replicas learn different values.
    EXPECT_NE(r.violation.checker, "liveness") << r.violation.detail;
    return;
  }
  FAIL() << GetParam().bug << " was not caught in 500 seeds";
}

INSTANTIATE_TEST_SUITE_P(Bugs, FastBugCatch,
                         ::testing::Values(BugCase{"fast-quorum-too-small"},
                                           BugCase{"recovery-picks-any"}),
                         BugTestName);

// Teaching mode: with clocks drifting far beyond the bound the lease assumes, the lease checker
// finds overlaps even without any bug in the code.
TEST(SkewBeyondBound, LeaseCheckerFindsOverlaps) {
  SimOptions o;
  o.duration_us = 120'000'000;
  o.faults = ParseFaults("all,skew-beyond-bound").value();
  for (uint64_t seed = 1; seed <= 500; ++seed) {
    o.seed = seed;
    const RunResult r = RunSeed(o, nullptr);
    if (r.ok) continue;
    std::printf("skew-beyond-bound: %s at seed %llu: %s\n", r.violation.checker.c_str(),
                static_cast<unsigned long long>(seed), r.violation.detail.c_str());
    EXPECT_EQ(r.violation.checker, "lease");
    return;
  }
  FAIL() << "skew-beyond-bound never produced a lease overlap in 500 seeds";
}

}  // namespace
}  // namespace paxcron::sim
