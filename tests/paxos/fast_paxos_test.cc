// Fast Paxos mode of the consensus core: quorum sizes, the value-picking rule, fast rounds,
// collisions and their coordinated recovery, and the message delays from proposal to learning.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "paxos/fast_pick.h"
#include "paxos/replica.h"
#include "tests/paxos/test_cluster.h"

namespace paxcron::paxos {
namespace {

using test::Cluster;

TEST(FastQuorum, SizesFor3457AcceptorsAsDocumented) {
  const Bugs none;
  // (n, classic, fast), as in config.h.
  const std::vector<std::vector<uint32_t>> expected = {{3, 2, 3}, {4, 3, 3}, {5, 3, 4}, {7, 4, 6}};
  for (const auto& row : expected) {
    EXPECT_EQ(QuorumSize(row[0], none), row[1]) << "n=" << row[0];
    EXPECT_EQ(FastQuorumSize(row[0], none), row[2]) << "n=" << row[0];
  }
}

TEST(FastQuorum, IsTheSmallestSizeWhereTwoFastAndOneClassicQuorumIntersect) {
  const Bugs none;
  for (uint32_t n = 1; n <= 9; ++n) {
    const uint32_t qc = QuorumSize(n, none);
    const uint32_t qf = FastQuorumSize(n, none);
    EXPECT_GT(2 * qf + qc, 2 * n) << "n=" << n;        // every two fast and one classic share one
    EXPECT_LE(2 * (qf - 1) + qc, 2 * n) << "n=" << n;  // one less would not
    EXPECT_LE(qf, n);
  }
  Bugs bug;
  bug.fast_quorum_too_small = true;
  EXPECT_EQ(FastQuorumSize(5, bug), 3u);  // a majority: the bug
}

EntryRef Value(const std::string& data) {
  auto e = std::make_shared<pb::Entry>();
  e->add_commands()->set_data(data);
  return e;
}

Ballot Round(uint64_t round, uint32_t sub) { return Ballot{round, NodeId(1), sub}; }

TEST(FastPick, AClassicRoundForcesItsOneValue) {
  const EntryRef v = Value("v");
  const std::vector<Vote> votes = {{NodeId(1), Round(2, kSubClassic), v},
                                   {NodeId(2), Round(1, kSubFast), Value("w")}};
  const PickResult r = PickValue(votes, 3, 5, Bugs{});
  EXPECT_EQ(r.entry, v);
  EXPECT_TRUE(r.forced);
}

TEST(FastPick, AValueThatMayHaveReachedAFastQuorumIsPicked) {
  // n = 5, fast quorum 4, Q = 3: O4(v) needs 4 - (5 - 3) = 2 votes for v in Q. v has 2, w 1
  // (w wins on hash order otherwise: the rule, not the order, must decide).
  const EntryRef v = Value("v");
  const EntryRef w = Value("w");
  const std::vector<Vote> votes = {{NodeId(1), Round(1, kSubFast), w},
                                   {NodeId(2), Round(1, kSubFast), v},
                                   {NodeId(3), Round(1, kSubFast), v}};
  const PickResult r = PickValue(votes, 3, 5, Bugs{});
  EXPECT_EQ(r.entry, v);
  EXPECT_TRUE(r.forced);
  EXPECT_EQ(r.candidates, 2u);
  Bugs bug;
  bug.recovery_picks_any = true;
  EXPECT_EQ(PickValue(votes, 3, 5, bug).entry, w);  // the bug ignores the rule
}

TEST(FastPick, WithoutO4AnyVotedValueMayBeChosenAndNoVoteMeansFree) {
  // Q = 5: O4 needs 4 votes; 3 against 2 cannot have been chosen. The most-voted value is taken.
  const EntryRef v = Value("v");
  const EntryRef w = Value("w");
  std::vector<Vote> votes;
  for (uint32_t i = 1; i <= 3; ++i) votes.push_back({NodeId(i), Round(1, kSubFast), v});
  for (uint32_t i = 4; i <= 5; ++i) votes.push_back({NodeId(i), Round(1, kSubFast), w});
  const PickResult r = PickValue(votes, 5, 5, Bugs{});
  EXPECT_FALSE(r.forced);
  EXPECT_EQ(r.entry, v);
  EXPECT_EQ(PickValue({}, 3, 5, Bugs{}).entry, nullptr);
}

// The commands the leader applied (no-ops left out), sorted; every replica must have applied the
// same log.
std::vector<std::string> SortedCommandsAllAgreeOn(const Cluster& c, uint32_t leader) {
  for (uint32_t i = 1; i <= 5; ++i) EXPECT_EQ(c.applied(i), c.applied(leader)) << "node " << i;
  std::vector<std::string> applied = c.applied(leader);
  std::erase(applied, "noop");
  std::sort(applied.begin(), applied.end());
  return applied;
}

uint32_t OtherThan(uint32_t leader, uint32_t skip) {
  for (uint32_t i = 1; i <= 5; ++i) {
    if (i != leader && i != skip) return i;
  }
  return 0;
}

// Races two followers for one slot: three acceptors hear `first` first, two hear `second` first.
void Collide(Cluster& c, uint32_t a, uint32_t b, const std::string& first,
             const std::string& second) {
  ASSERT_TRUE(c.ProposeQuiet(a, first).ok());
  ASSERT_TRUE(c.ProposeQuiet(b, second).ok());
  std::set<uint32_t> b_first;
  for (uint32_t i = 1; i <= 5 && b_first.size() < 2; ++i) {
    if (i != a) b_first.insert(i);
  }
  c.Prioritize(b, b_first);
  c.Settle();
}

TEST(FastMode, FollowersProposeStraightToTheAcceptorsAndEveryReplicaAgrees) {
  Cluster c(5, Bugs{}, Mode::kFast);
  c.Advance(1'000'000);
  const uint32_t leader = c.Leader();
  ASSERT_NE(leader, 0u);
  for (int i = 0; i < 40; ++i) {
    const uint32_t at = 1 + static_cast<uint32_t>(i) % 5;
    ASSERT_TRUE(c.Propose(at, "cmd" + std::to_string(i)).ok());
  }
  c.Advance(500'000);
  std::vector<std::string> applied = c.applied(leader);
  std::erase(applied, "noop");
  ASSERT_EQ(applied.size(), 40u);
  for (uint32_t i = 1; i <= 5; ++i) EXPECT_EQ(c.applied(i), c.applied(leader)) << "node " << i;
  EXPECT_EQ(c.fast_events(FastEvent::Kind::kCollision), 0);
  EXPECT_GE(c.fast_events(FastEvent::Kind::kOpen), 1);
}

TEST(FastMode, ACollisionIsRecoveredAndNeitherCommandIsLostOrRepeated) {
  Cluster c(5, Bugs{}, Mode::kFast);
  c.Advance(1'000'000);
  const uint32_t leader = c.Leader();
  const uint32_t a = OtherThan(leader, 0);
  const uint32_t b = OtherThan(leader, a);
  // Three acceptors hear A first, two hear B first: neither can reach a fast quorum of 4.
  Collide(c, a, b, "A", "B");
  c.Advance(1'000'000);
  EXPECT_GE(c.fast_events(FastEvent::Kind::kCollision), 1);
  EXPECT_GE(c.fast_events(FastEvent::Kind::kRecovery), 1);
  EXPECT_EQ(SortedCommandsAllAgreeOn(c, leader), (std::vector<std::string>{"A", "B"}));
}

TEST(FastMode, SustainedCollisionsFallBackToClassicRoundsAndLoseNothing) {
  Cluster c(5, Bugs{}, Mode::kFast);
  c.Advance(1'000'000);
  const uint32_t leader = c.Leader();
  const uint32_t a = OtherThan(leader, 0);
  const uint32_t b = OtherThan(leader, a);
  for (int i = 0; i < 3; ++i) {
    Collide(c, a, b, "a" + std::to_string(i), "b" + std::to_string(i));
  }
  EXPECT_GE(c.fast_events(FastEvent::Kind::kCollision), 3);
  EXPECT_EQ(c.fast_events(FastEvent::Kind::kFallback), 1);
  // During the fallback a follower's command still gets in (classic, through the leader).
  ASSERT_TRUE(c.Propose(a, "during").ok());
  c.Advance(2'000'000);
  EXPECT_EQ(SortedCommandsAllAgreeOn(c, leader),
            (std::vector<std::string>{"a0", "a1", "a2", "b0", "b1", "b2", "during"}));
}

TEST(FastMode, AProposalThatReachedTooFewAcceptorsIsRecoveredAfterATimeout) {
  Cluster c(5, Bugs{}, Mode::kFast);
  c.Advance(1'000'000);
  const uint32_t leader = c.Leader();
  const uint32_t a = OtherThan(leader, 0);
  // Only `a` itself and one other acceptor hear the proposal: no fast quorum, no collision.
  for (uint32_t i = 1; i <= 5; ++i) {
    if (i != a && i != leader) c.Cut(a, i);
  }
  ASSERT_TRUE(c.Propose(a, "partial").ok());
  c.HealAll();
  EXPECT_EQ(c.fast_events(FastEvent::Kind::kRecovery), 0);
  c.Advance(1'000'000);
  EXPECT_GE(c.fast_events(FastEvent::Kind::kRecovery), 1);
  std::vector<std::string> applied = c.applied(leader);
  std::erase(applied, "noop");
  EXPECT_EQ(applied, (std::vector<std::string>{"partial"}));
}

// Compaction, snapshot transfer and the lease keep working when followers propose fast.
TEST(FastMode, ALaggingReplicaFetchesASnapshotOfFastSlotsAndTheLeaderKeepsItsLease) {
  Cluster c(5, Bugs{}, Mode::kFast);
  c.Advance(1'000'000);
  const uint32_t leader = c.Leader();
  const uint32_t lagging = OtherThan(leader, 0);
  const uint32_t proposer = OtherThan(leader, lagging);
  c.Isolate(lagging);
  for (int i = 0; i < 150; ++i) ASSERT_TRUE(c.Propose(proposer, "f" + std::to_string(i)).ok());
  c.Advance(300'000);
  EXPECT_TRUE(c.r(leader).HoldsLease(c.NowOf().mono_us));
  for (uint32_t i = 1; i <= 5; ++i) {
    if (i == lagging) continue;
    ASSERT_TRUE(c.Snapshot(i, 10).ok()) << "node " << i;
  }
  c.HealAll();
  c.Advance(3'000'000);
  EXPECT_EQ(c.installed_snapshots(), 1);
  EXPECT_EQ(c.applied(lagging), c.applied(leader));
  std::vector<std::string> applied = c.applied(leader);
  std::erase(applied, "noop");
  EXPECT_EQ(applied.size(), 150u);
  EXPECT_EQ(c.Leader(), leader);
  EXPECT_TRUE(c.r(leader).HoldsLease(c.NowOf().mono_us));
}

// Lamport 2006, sections 1 and 3.4.3: a fast round learns in two message delays (proposer ->
// acceptors
// -> coordinator), a classic round with a stable leader in three (proposer -> leader ->
// acceptors -> leader).
int DelaysToLearn(Mode mode) {
  Cluster c(5, Bugs{}, mode);
  c.Advance(1'000'000);
  const uint32_t leader = c.Leader();
  const uint32_t follower = OtherThan(leader, 0);
  const Slot before = c.r(leader).commit_index();
  EXPECT_TRUE(c.ProposeQuiet(follower, "x").ok());
  for (int delays = 1; delays <= 10; ++delays) {
    c.DeliverOneDelay();
    if (c.r(leader).commit_index() > before) return delays;
  }
  return -1;
}

TEST(FastMode, LearnsInTwoMessageDelaysAgainstThreeForMultiPaxos) {
  EXPECT_EQ(DelaysToLearn(Mode::kFast), 2);
  EXPECT_EQ(DelaysToLearn(Mode::kMulti), 3);
}

TEST(FastMode, ANewLeaderKeepsAValueAFastQuorumChose) {
  Cluster c(5, Bugs{}, Mode::kFast);
  c.Advance(1'000'000);
  const uint32_t leader = c.Leader();
  const uint32_t follower = OtherThan(leader, 0);
  ASSERT_TRUE(c.ProposeQuiet(follower, "kept").ok());
  c.DeliverOneDelay();  // every acceptor votes; the reports to the leader are then lost
  c.Crash(leader);
  c.Advance(3'000'000);
  const uint32_t next = c.Leader();
  ASSERT_NE(next, 0u);
  ASSERT_NE(next, leader);
  std::vector<std::string> applied = c.applied(next);
  std::erase(applied, "noop");
  EXPECT_EQ(applied, (std::vector<std::string>{"kept"}));
}

}  // namespace
}  // namespace paxcron::paxos
