// Each checker, fed a violation directly, reports it. The injected bugs show most of them failing
// in whole runs (bug_catch_test.cc, cron_sim_test.cc); validity and replica-state have no such
// bug, so they are shown failing here.
#include "sim/checkers.h"

#include <gtest/gtest.h>

#include "common/hash.h"

namespace paxcron::sim {
namespace {

paxos::pb::Entry EntryWith(uint64_t id, const std::string& data) {
  paxos::pb::Entry e;
  auto* c = e.add_commands();
  c->set_id(id);
  c->set_data(data);
  return e;
}

TEST(Checkers, ValidityFailsOnACommandNobodyProposed) {
  Checkers c(3);
  c.OnProposed(1, HashBytes("a"));
  c.OnApplied(10, 1, 1, EntryWith(1, "a"), 111, 1001);
  EXPECT_FALSE(c.failed());
  c.OnApplied(20, 1, 2, EntryWith(2, "b"), 222, 1002);
  ASSERT_TRUE(c.failed());
  EXPECT_EQ(c.violation().checker, "validity");
}

TEST(Checkers, ValidityFailsOnAProposedIdWithOtherData) {
  Checkers c(3);
  c.OnProposed(1, HashBytes("a"));
  c.OnApplied(10, 1, 1, EntryWith(1, "forged"), 111, 1001);
  ASSERT_TRUE(c.failed());
  EXPECT_EQ(c.violation().checker, "validity");
}

// The guard keeps a leader within its tolerance of a majority's clocks, so `early` judges a run
// against the time those clocks read when they are ahead themselves (clock-jump sweep, seed 47:
// a leader 7.45 s ahead, two of five clocks 2.7 s ahead), and in true time otherwise.
TEST(Checkers, EarlyJudgesARunAgainstAMajoritysClocksWhenTheyAreAhead) {
  Checkers ahead(5);
  ahead.OnCronEarly(10, "j@2026-11-27T00:09:23Z", 1, 7'416'000, 2'741'000, 7'000'000);
  EXPECT_FALSE(ahead.failed());
  Checkers right(5);
  right.OnCronEarly(10, "j@2026-11-27T00:09:23Z", 1, 7'416'000, 0, 7'000'000);
  ASSERT_TRUE(right.failed());
  EXPECT_EQ(right.violation().checker, "early");
  Checkers far(5);
  far.OnCronEarly(10, "j@2026-11-27T00:09:23Z", 1, 205'000'000, 2'741'000, 7'000'000);
  ASSERT_TRUE(far.failed());
  EXPECT_NE(far.violation().detail.find("202.259 s before it by a majority's clocks"),
            std::string::npos)
      << far.violation().detail;
}

TEST(Checkers, ReplicaStateFailsWhenTheSameSlotsGiveDifferentStates) {
  Checkers c(3);
  paxos::pb::Entry noop;
  noop.set_noop(true);
  c.OnApplied(10, 1, 1, noop, 7, 1001);
  c.OnApplied(11, 2, 1, noop, 7, 1001);
  EXPECT_FALSE(c.failed());
  c.OnApplied(12, 3, 1, noop, 7, 9999);  // same value, different state: a nondeterministic apply
  ASSERT_TRUE(c.failed());
  EXPECT_EQ(c.violation().checker, "replica-state");
}

TEST(Checkers, ReplicaStateFailsOnASnapshotThatDisagreesOrThatNobodyApplied) {
  Checkers c(3);
  c.OnProposed(1, HashBytes("a"));
  c.OnApplied(10, 1, 1, EntryWith(1, "a"), 111, 1001);
  c.OnSnapshotInstalled(20, 2, 1, 1001);
  EXPECT_FALSE(c.failed());
  c.OnSnapshotInstalled(30, 3, 1, 9999);
  ASSERT_TRUE(c.failed());
  EXPECT_EQ(c.violation().checker, "replica-state");

  Checkers d(3);
  d.OnSnapshotInstalled(20, 2, 5, 1001);  // slot 5 was never applied anywhere
  ASSERT_TRUE(d.failed());
  EXPECT_EQ(d.violation().checker, "replica-state");
}

TEST(Checkers, ReplicaStateFailsWhenSnapshotsAfterTheSameSlotDiffer) {
  Checkers c(3);
  c.OnSnapshotTaken(10, 1, 1000, 0xabc);
  c.OnSnapshotTaken(20, 2, 1000, 0xabc);
  c.OnSnapshotTaken(30, 3, 2000, 0xdef);  // another slot: nothing to compare
  EXPECT_FALSE(c.failed());
  c.OnSnapshotTaken(40, 3, 1000, 0x123);
  ASSERT_TRUE(c.failed());
  EXPECT_EQ(c.violation().checker, "replica-state");
}

TEST(Checkers, AgreementDurabilityLeaseAndCronCheckersFail) {
  paxos::pb::Entry noop;
  noop.set_noop(true);
  {
    Checkers c(3);
    c.OnApplied(10, 1, 1, noop, 7, 1);
    c.OnApplied(11, 2, 1, noop, 8, 1);
    EXPECT_EQ(c.violation().checker, "agreement");
  }
  {
    Checkers c(3);
    c.OnCrash(1, 5);
    c.OnRecovered(20, 1, 4, 0);
    EXPECT_EQ(c.violation().checker, "durability");
  }
  {
    Checkers c(3);
    c.OnLeaseStart(0, 1, 10, 1000);
    c.OnLeaseStart(500, 2, 20, 2000);
    EXPECT_EQ(c.violation().checker, "lease");
  }
  {
    Checkers c(3);
    c.OnCronStart(5, "j@2026-11-27T00:00:00Z", 2, 1, 3, 4, true);
    EXPECT_EQ(c.violation().checker, "at-most-once");
  }
  {
    Checkers c(3);
    c.OnCronStart(5, "j@2026-11-27T00:00:00Z", 1, 1, 3, 4, false);
    EXPECT_EQ(c.violation().checker, "fencing");
  }
}

}  // namespace
}  // namespace paxcron::sim
