// Unit tests of the consensus core, driven by hand: a tiny in-test driver that follows the
// contract of replica.h (persist, then send, then apply) over a perfect, instant network whose
// links the test can cut.
#include "paxos/replica.h"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "paxos/ballot.h"

namespace paxcron::paxos {
namespace {

class Cluster {
 public:
  explicit Cluster(uint32_t n, Bugs bugs = {}) : disks_(n + 1), applied_(n + 1) {
    for (uint32_t i = 1; i <= n; ++i) members_.push_back(NodeId(i));
    replicas_.resize(n + 1);
    bugs_ = bugs;
    for (uint32_t i = 1; i <= n; ++i) Start(i);
  }

  Config ConfigOf(uint32_t i) const {
    Config c;
    c.self = NodeId(i);
    c.members = members_;
    c.bugs = bugs_;
    return c;
  }
  void Start(uint32_t i) {
    replicas_[i] = std::make_unique<Replica>(ConfigOf(i), i, disks_[i], NowOf());
    applied_[i].clear();
    Pump(i);
  }
  void Crash(uint32_t i) { replicas_[i].reset(); }
  Now NowOf() const { return Now{now_us_, 1'800'000'000'000'000 + wall_skew_us_ + now_us_}; }
  Replica& r(uint32_t i) { return *replicas_[i]; }
  DurableState& disk(uint32_t i) { return disks_[i]; }
  const std::vector<std::string>& applied(uint32_t i) const { return applied_[i]; }
  void Cut(uint32_t a, uint32_t b) { cut_.insert({a, b}), cut_.insert({b, a}); }
  void Isolate(uint32_t a) {
    for (NodeId m : members_) Cut(a, m.value);
  }
  void HealAll() { cut_.clear(); }
  void set_wall_skew(int64_t us) { wall_skew_us_ = us; }

  void Pump(uint32_t i) {
    Ready ready = replicas_[i]->TakeReady();
    for (const PersistOp& op : ready.persist) disks_[i].Apply(op);  // 1. persist
    for (Outgoing& m : ready.messages) {                            // 2. send
      if (!cut_.contains({i, m.to.value})) wire_.push_back(std::move(m));
    }
    for (const Committed& c : ready.committed) {  // 3. apply
      ASSERT_EQ(c.slot.value, applied_[i].size() + 1);
      std::string value = c.entry->noop() ? "noop" : "";
      for (const auto& cmd : c.entry->commands()) value += (value.empty() ? "" : "+") + cmd.data();
      applied_[i].push_back(value);
    }
  }
  // Delivers messages until the network is quiet.
  void Settle() {
    for (int steps = 0; !wire_.empty(); ++steps) {
      ASSERT_LT(steps, 1'000'000) << "the cluster never went quiet";
      Outgoing m = std::move(wire_.front());
      wire_.pop_front();
      if (!replicas_[m.to.value]) continue;  // crashed
      replicas_[m.to.value]->Step(*m.envelope, NowOf());
      Pump(m.to.value);
    }
  }
  // Moves time forward in steps, ticking every live replica and delivering everything.
  void Advance(int64_t us, int64_t step_us = 10'000) {
    for (int64_t done = 0; done < us; done += step_us) {
      now_us_ += step_us;
      for (size_t i = 1; i < replicas_.size(); ++i) {
        if (!replicas_[i]) continue;
        replicas_[i]->Tick(NowOf());
        Pump(static_cast<uint32_t>(i));
      }
      Settle();
    }
  }
  uint32_t Leader() const {
    uint32_t leader = 0;
    for (size_t i = 1; i < replicas_.size(); ++i) {
      if (replicas_[i] && replicas_[i]->role() == Role::kLeader) {
        EXPECT_EQ(leader, 0u) << "two leaders";
        leader = static_cast<uint32_t>(i);
      }
    }
    return leader;
  }
  Status Propose(uint32_t i, const std::string& data) {
    pb::Command c;
    c.set_id(++command_id_);
    c.set_data(data);
    Status s = replicas_[i]->Propose(c, NowOf());
    Pump(i);
    Settle();
    return s;
  }

 private:
  std::vector<NodeId> members_;
  Bugs bugs_;
  std::vector<std::unique_ptr<Replica>> replicas_;
  std::vector<DurableState> disks_;
  std::vector<std::vector<std::string>> applied_;
  std::deque<Outgoing> wire_;
  std::set<std::pair<uint32_t, uint32_t>> cut_;
  int64_t now_us_ = 1'000'000;
  int64_t wall_skew_us_ = 0;
  uint64_t command_id_ = 0;
};

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

}  // namespace
}  // namespace paxcron::paxos
