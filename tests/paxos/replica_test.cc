// Unit tests of the consensus core, driven by hand through the in-test driver of test_cluster.h.
#include "paxos/replica.h"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "paxos/ballot.h"
#include "tests/paxos/test_cluster.h"

namespace paxcron::paxos {
namespace {

using test::Cluster;

TEST(Replica, ElectsOneLeaderWithALeaseAndEveryReplicaAppliesTheSameLog) {
  Cluster c(3);
  c.Advance(1'000'000);
  const uint32_t leader = c.Leader();
  ASSERT_NE(leader, 0u);
  EXPECT_TRUE(c.r(leader).HoldsLease(c.NowOf().mono_us));
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(c.Propose(leader, "cmd" + std::to_string(i)).ok());
  c.Advance(200'000);
  ASSERT_EQ(c.applied(1).size(), 20u);
  EXPECT_EQ(c.applied(1), c.applied(2));
  EXPECT_EQ(c.applied(1), c.applied(3));
  EXPECT_EQ(c.applied(1).front(), "cmd0");
}

TEST(Replica, FollowersForwardProposalsToTheLeader) {
  Cluster c(3);
  c.Advance(1'000'000);
  const uint32_t leader = c.Leader();
  const uint32_t follower = leader == 1 ? 2 : 1;
  ASSERT_TRUE(c.Propose(follower, "via-follower").ok());
  c.Advance(100'000);
  ASSERT_FALSE(c.applied(leader).empty());
  EXPECT_EQ(c.applied(leader).back(), "via-follower");
}

TEST(Replica, ALaggingReplicaCatchesUpOnEverySlotItMissed) {
  Cluster c(3);
  c.Advance(1'000'000);
  const uint32_t leader = c.Leader();
  const uint32_t lagging = leader == 3 ? 2 : 3;
  c.Isolate(lagging);
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(c.Propose(leader, "v" + std::to_string(i)).ok());
  c.Advance(100'000);
  EXPECT_TRUE(c.applied(lagging).empty());
  c.HealAll();
  c.Advance(1'000'000);
  EXPECT_EQ(c.applied(lagging).size(), 300u);
  EXPECT_EQ(c.applied(lagging), c.applied(leader));
}

TEST(Replica, AGranterRefusesAnotherCandidateWhileTheLeaseRuns) {
  Cluster c(3);
  c.Advance(1'000'000);
  const uint32_t leader = c.Leader();
  const uint32_t rival = leader == 1 ? 2 : 1;
  // The rival stops hearing the leader and campaigns, but the third node still serves the lease.
  c.Cut(leader, rival);
  c.Advance(1'500'000);
  EXPECT_EQ(c.Leader(), leader);
  EXPECT_TRUE(c.r(leader).HoldsLease(c.NowOf().mono_us));
  EXPECT_NE(c.r(rival).role(), Role::kLeader);
}

TEST(Replica, ALeaderThatCannotRenewStepsDownAndANewOneWaitsOutTheLease) {
  Cluster c(3);
  c.Advance(1'000'000);
  const uint32_t old_leader = c.Leader();
  const int64_t isolated_at = c.NowOf().mono_us;
  c.Isolate(old_leader);
  c.Advance(3'000'000);
  EXPECT_FALSE(c.r(old_leader).HoldsLease(c.NowOf().mono_us));
  EXPECT_NE(c.r(old_leader).role(), Role::kLeader);
  uint32_t new_leader = 0;
  for (uint32_t i = 1; i <= 3; ++i) {
    if (i != old_leader && c.r(i).role() == Role::kLeader) new_leader = i;
  }
  ASSERT_NE(new_leader, 0u);
  // The new lease cannot have started before the old one's grants ran out (2 s after isolation).
  EXPECT_GT(c.r(new_leader).Lease().expiry_us - isolated_at, 2'000'000);
  EXPECT_GT(c.r(new_leader).Lease().epoch, c.r(old_leader).Lease().epoch);
}

TEST(Replica, ARestartedAcceptorRefusesEveryoneForOneLeaseDuration) {
  Cluster c(3);
  c.Advance(1'000'000);
  const uint32_t leader = c.Leader();
  const uint32_t other = leader == 1 ? 2 : 1;
  c.Crash(other);
  c.Start(other);
  // A prepare from anyone is refused with the time left to wait.
  pb::Envelope prepare;
  prepare.set_from(3);
  prepare.set_to(other);
  *prepare.mutable_prepare()->mutable_ballot() = ToProto(Ballot{1000, NodeId(3)});
  c.r(other).Step(prepare, c.NowOf());
  Ready ready = c.r(other).TakeReady();
  ASSERT_EQ(ready.messages.size(), 1u);
  ASSERT_TRUE(ready.messages[0].envelope->has_nack());
  EXPECT_EQ(ready.messages[0].envelope->nack().lease_remaining_us(), 2'000'000u);
  EXPECT_TRUE(ready.persist.empty());
}

TEST(Replica, ANewLeaderReproposesAValueThatMightHaveBeenChosen) {
  // Node 2 accepted "orphan" in slot 1 in an old ballot; nobody learned it chosen. Whoever leads
  // next must re-propose it (Paxos Made Simple, 2.2), never put something else in slot 1.
  for (bool bug : {false, true}) {
    Bugs bugs;
    bugs.no_phase1_recovery = bug;
    Cluster c(3, bugs);
    pb::Entry orphan;
    orphan.add_commands()->set_data("orphan");
    for (uint32_t i : {1u, 2u}) {
      c.Crash(i);
      c.disk(i).Apply(PersistOp{PersistOp::Kind::kPromise, Ballot{5, NodeId(1)}, Slot(), nullptr});
    }
    c.disk(2).Apply(PersistOp{PersistOp::Kind::kAccept, Ballot{5, NodeId(1)}, Slot(1),
                              std::make_shared<const pb::Entry>(orphan)});
    c.Start(1);
    c.Start(2);
    c.Crash(3);  // with 3 down, every quorum includes node 2
    c.Advance(4'000'000);
    const uint32_t leader = c.Leader();
    ASSERT_NE(leader, 0u);
    ASSERT_TRUE(c.Propose(leader, "new").ok());
    c.Advance(200'000);
    ASSERT_GE(c.applied(leader).size(), 1u);
    if (!bug) {
      EXPECT_EQ(c.applied(leader)[0], "orphan");
    } else {
      EXPECT_EQ(c.applied(leader)[0], "new");  // the bug overwrote a possibly chosen value
    }
  }
}

TEST(Replica, HandOverRevokesTheLeaseAndTheSuccessorNeedNotWait) {
  Cluster c(3);
  c.Advance(1'000'000);
  const uint32_t leader = c.Leader();
  const uint32_t successor = leader == 1 ? 2 : 1;
  ASSERT_TRUE(c.r(leader).HandOver(NodeId(successor), c.NowOf()).ok());
  EXPECT_FALSE(c.r(leader).HoldsLease(c.NowOf().mono_us));
  c.Pump(leader);
  c.Settle();
  c.Advance(100'000);
  EXPECT_EQ(c.Leader(), successor);
  EXPECT_TRUE(c.r(successor).HoldsLease(c.NowOf().mono_us));
  EXPECT_FALSE(c.r(successor).HandOver(NodeId(successor), c.NowOf()).ok());
}

TEST(Replica, ClusterTimeNeverGoesBackEvenWhenTheWallClockDoes) {
  Cluster c(3);
  c.Advance(1'000'000);
  const uint32_t leader = c.Leader();
  ASSERT_TRUE(c.Propose(leader, "a").ok());
  c.set_wall_skew(-60'000'000);  // the wall clock steps back a minute
  ASSERT_TRUE(c.Propose(leader, "b").ok());
  c.Advance(100'000);
  // Read the stamps back from the durable log of the leader.
  uint64_t previous = 0;
  int entries = 0;
  const SlotLog& log = c.disk(leader).slots;
  log.ForEach(Slot(1), log.Last(), [&](Slot, const DurableSlot& s) {
    if (!s.chosen || s.entry->noop()) return;
    EXPECT_GE(s.entry->stamp_us(), previous);
    previous = s.entry->stamp_us();
    ++entries;
  });
  EXPECT_EQ(entries, 2);
}

TEST(Replica, MalformedMessagesAreDroppedAndCountedNeverACrash) {
  Cluster c(3);
  c.Advance(1'000'000);
  const uint32_t node = c.Leader() == 1 ? 2 : 1;
  std::vector<pb::Envelope> bad(6);
  bad[0].set_from(2);  // empty body
  bad[1].set_from(9);  // not a member
  *bad[1].mutable_heartbeat()->mutable_ballot() = ToProto(Ballot{1, NodeId(9)});
  bad[2].set_from(3);  // a ballot that is not the sender's
  *bad[2].mutable_prepare()->mutable_ballot() = ToProto(Ballot{99, NodeId(2)});
  bad[3].set_from(3);  // slot 0
  *bad[3].mutable_accept()->mutable_ballot() = ToProto(Ballot{99, NodeId(3)});
  bad[3].mutable_accept()->mutable_entry();
  bad[4].set_from(3);  // an empty catch-up range
  bad[4].mutable_catchup_request()->set_from_slot(5);
  bad[4].mutable_catchup_request()->set_to_slot(4);
  bad[5].set_from(3);  // addressed to someone else
  bad[5].set_to(3);
  bad[5].mutable_forward();
  for (size_t i = 0; i < bad.size(); ++i) {
    if (i != 5) bad[i].set_to(node);
    c.r(node).Step(bad[i], c.NowOf());
  }
  EXPECT_EQ(c.r(node).invalid_messages(), bad.size());
  EXPECT_TRUE(c.r(node).TakeReady().Empty());
}

TEST(Replica, ALeaderThatMeetsAHigherBallotBoostsAndKeepsItsLease) {
  Cluster c(3);
  c.Advance(1'000'000);
  const uint32_t leader = c.Leader();
  const uint32_t other = leader == 1 ? 2 : 1;
  const Epoch epoch = c.r(leader).Lease().epoch;
  // `other` comes back having promised a far higher ballot (say, from a failed campaign).
  c.Crash(other);
  c.disk(other).Apply(
      PersistOp{PersistOp::Kind::kPromise, Ballot{500, NodeId(other)}, Slot(), nullptr});
  c.Start(other);
  for (int i = 0; i < 20; ++i) {
    c.Advance(50'000);
    ASSERT_TRUE(c.r(leader).HoldsLease(c.NowOf().mono_us));  // never a gap
  }
  EXPECT_EQ(c.Leader(), leader);
  EXPECT_GT(c.r(leader).ballot().round, 500u);
  EXPECT_EQ(c.r(leader).Lease().epoch, epoch);  // the same lease, renewed
  ASSERT_TRUE(c.Propose(leader, "after-boost").ok());
  c.Advance(3'000'000);  // past the restarted node's refusal window
  EXPECT_EQ(c.applied(other), c.applied(leader));
}

TEST(Replica, ACandidatePersistsItsOwnBallotBeforeAnyPrepareLeaves) {
  Cluster c(3);
  Replica& r = c.r(1);
  Now now = c.NowOf();
  now.mono_us += 10'000'000;  // far past any election timeout
  r.Tick(now);
  Ready ready = r.TakeReady();
  ASSERT_EQ(r.role(), Role::kCandidate);
  ASSERT_FALSE(ready.persist.empty());
  EXPECT_EQ(ready.persist[0].kind, PersistOp::Kind::kPromise);
  EXPECT_EQ(ready.persist[0].ballot, r.ballot());
  EXPECT_FALSE(ready.messages.empty());  // the prepares, sent only after that write
}

TEST(SlotLog, GrowsDenselyAndReportsOnlySlotsWithValues) {
  SlotLog log;
  EXPECT_EQ(log.Last(), Slot(0));
  EXPECT_EQ(log.Find(Slot(1)), nullptr);
  log.Mutable(Slot(3)).entry = std::make_shared<const pb::Entry>();
  EXPECT_EQ(log.Last(), Slot(3));
  EXPECT_EQ(log.Find(Slot(2)), nullptr);  // a hole
  EXPECT_NE(log.Find(Slot(3)), nullptr);
  std::vector<uint64_t> seen;
  log.Mutable(Slot(1)).entry = std::make_shared<const pb::Entry>();
  log.ForEach(Slot(0), Slot(100), [&](Slot s, const DurableSlot&) { seen.push_back(s.value); });
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 3}));
}

TEST(Replica, AMessageFarBeyondTheLogIsRejectedNotAllocated) {
  Cluster c(3);
  c.Advance(1'000'000);
  const uint32_t leader = c.Leader();
  const uint32_t node = leader == 1 ? 2 : 1;
  pb::Envelope accept;
  accept.set_from(leader);
  accept.set_to(node);
  *accept.mutable_accept()->mutable_ballot() = ToProto(c.r(leader).ballot());
  accept.mutable_accept()->set_slot(uint64_t{1} << 40);
  accept.mutable_accept()->mutable_entry();
  c.r(node).Step(accept, c.NowOf());
  EXPECT_EQ(c.r(node).invalid_messages(), 1u);
}

TEST(Replica, ProposingWithoutALeaderIsAnErrorNotACrash) {
  Cluster c(3);
  Status s = c.Propose(1, "too-early");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "no leader known");
}

// The driver may overlap its fsync with the followers' only for the leader's requests: every
// reply is a claim about this acceptor's durable state.
TEST(Replica, OnlyTheLeadersRequestsMayLeaveBeforeTheFsync) {
  pb::Envelope m;
  m.mutable_accept();
  EXPECT_TRUE(MayLeaveBeforePersist(m));
  m.mutable_heartbeat();
  EXPECT_TRUE(MayLeaveBeforePersist(m));
  m.mutable_promise();
  EXPECT_FALSE(MayLeaveBeforePersist(m));
  m.mutable_accepted();
  EXPECT_FALSE(MayLeaveBeforePersist(m));
  m.mutable_nack();
  EXPECT_FALSE(MayLeaveBeforePersist(m));
  m.mutable_heartbeat_reply();
  EXPECT_FALSE(MayLeaveBeforePersist(m));
  m.mutable_prepare();
  EXPECT_FALSE(MayLeaveBeforePersist(m));
}

// The clock-integrity guard's input: heartbeats carry wall readings, and the leader bounds how
// far a majority's clocks are from its own.
TEST(Replica, TheLeaderMeasuresItsWallClockAgainstTheMajority) {
  Cluster c(3);
  c.Advance(1'000'000);
  const uint32_t leader = c.Leader();
  ASSERT_NE(leader, 0u);
  const uint32_t other = leader % 3 + 1;
  EXPECT_EQ(c.r(other).JudgeOwnClock(c.NowOf(other)).heard, 0u);  // only a leader
  ClockJudgement j = c.r(leader).JudgeOwnClock(c.NowOf(leader));
  EXPECT_EQ(j.heard, 3u);
  EXPECT_EQ(j.agreeing, 3u);
  EXPECT_EQ(j.verdict, ClockVerdict::kAgrees);
  // The leader's wall clock jumps 5 minutes ahead: the others now read 5 minutes behind it.
  c.set_wall_offset(leader, 300'000'000);
  // At once, before any new reading: the jump shows against the monotonic clock.
  EXPECT_EQ(c.r(leader).JudgeOwnClock(c.NowOf(leader)).verdict, ClockVerdict::kOff);
  c.Advance(500'000);
  j = c.r(leader).JudgeOwnClock(c.NowOf(leader));
  ASSERT_TRUE(j.majority.has_value());
  EXPECT_EQ(j.majority->sources, 2u);
  EXPECT_LE(j.majority->interval.hi_us, -300'000'000 + 520'000);  // widened by half of 1 s
  EXPECT_GE(j.majority->interval.lo_us, -300'000'000 - 520'000);
  EXPECT_EQ(j.agreeing, 1u);
  EXPECT_EQ(j.verdict, ClockVerdict::kOff);
  const NodeId peer = c.r(leader).ClockAgreeingPeer(c.NowOf(leader));
  EXPECT_NE(peer.value, 0u);
  EXPECT_NE(peer.value, leader);
}

// A heartbeat's replies that arrive after the leader's own wall clock jumped are read against the
// clock as it is now: they must not look like agreement with the jumped clock.
TEST(Replica, RepliesStraddlingTheLeadersClockJumpDoNotAgreeWithIt) {
  Cluster c(3);
  c.Advance(1'000'000);
  const uint32_t leader = c.Leader();
  ASSERT_NE(leader, 0u);
  ASSERT_EQ(c.r(leader).JudgeOwnClock(c.NowOf(leader)).verdict, ClockVerdict::kAgrees);
  c.TickWithoutDelivery(60'000);  // a heartbeat round leaves, read at the old wall time
  c.set_wall_offset(leader, 300'000'000);
  c.Settle();  // its replies come back after the jump
  const ClockJudgement j = c.r(leader).JudgeOwnClock(c.NowOf(leader));
  EXPECT_EQ(j.heard, 3u);
  EXPECT_EQ(j.agreeing, 1u);
  EXPECT_EQ(j.verdict, ClockVerdict::kOff);
}

}  // namespace
}  // namespace paxcron::paxos
