// One replica of the Multi-Paxos core: acceptor, learner and (when elected) leader, with a
// master lease. Pure and I/O-free: it never reads a clock, a socket, a file or a global random
// source. Not thread-safe: one driver thread owns it.
//
// THE DRIVER CONTRACT (both the simulator and the real node follow it, like etcd raft's Ready):
//   1. Feed input: Step(message, now), Tick(now) or Propose(command, now). `now` carries the
//      node's monotonic time (leases, timers) and wall time (only for stamping new entries).
//   2. Take the output: Ready ready = replica.TakeReady().
//   3. Persist ready.persist durably (fsync). Nothing in ready.messages may leave the node before
//      that: a promise or an accepted reply is a claim about durable state.
//   4. Send ready.messages (messages to self are delivered back through Step like any other).
//   5. Apply ready.committed to the state machine, in order.
//   6. Call Tick(now) again no later than ready.next_wakeup (local monotonic time).
// Before any external action taken under the lease, ask HoldsLease(now) with a fresh clock
// reading: a process that was paused wakes with a stale belief (PITFALLS: "Leases").
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "common/prng.h"
#include "common/status.h"
#include "paxos/config.h"
#include "paxos/paxos.pb.h"
#include "paxos/slot_log.h"
#include "paxos/types.h"

namespace paxcron::paxos {

struct Now {
  LocalMicros mono_us = 0;  // monotonic local clock: leases and timers
  int64_t wall_us = 0;      // wall clock: only stamps new entries (cluster time)
};

// One write the driver must make durable before sending the messages of the same Ready.
struct PersistOp {
  enum class Kind { kPromise, kAccept, kChosen };
  Kind kind = Kind::kPromise;
  Ballot ballot;   // kPromise: the promised ballot; kAccept: the accepted ballot
  Slot slot;       // kAccept, kChosen
  EntryRef entry;  // kAccept, kChosen
};

// What survives a crash: the acceptor's promise and every accepted or chosen value.
struct DurableState {
  Ballot promised;
  SlotLog slots;
  void Apply(const PersistOp& op);
};

// A chosen value, handed over in slot order.
struct Committed {
  Slot slot;
  EntryRef entry;
};

struct LeaseView {
  bool held = false;
  Epoch epoch;
  LocalMicros expiry_us = 0;  // local monotonic time; valid while now < expiry_us
};

// One message to send. A broadcast is one envelope (to == 0) shared by one Outgoing per member.
struct Outgoing {
  NodeId to;
  std::shared_ptr<const pb::Envelope> envelope;
};

struct Ready {
  std::vector<PersistOp> persist;
  std::vector<Outgoing> messages;
  std::vector<Committed> committed;
  LocalMicros next_wakeup_us = 0;
  bool Empty() const { return persist.empty() && messages.empty() && committed.empty(); }
};

enum class Role { kFollower, kCandidate, kLeader };

class Replica {
 public:
  // `durable` is what the node persisted before it (re)started; `rng_seed` seeds election
  // jitter. A restarted replica does not know which leases it granted, so it refuses to help
  // anyone for one lease duration (Paxos Made Live, 5.2).
  Replica(Config config, uint64_t rng_seed, const DurableState& durable, Now now);

  void Step(const pb::Envelope& message, Now now);
  void Tick(Now now);
  // Leader: queues the command. Follower: forwards it to the known leader. Errors: no leader
  // known, or the leader's queue is full.
  Status Propose(pb::Command command, Now now);
  // Leader only: revoke the lease and ask `successor` to campaign at once.
  Status HandOver(NodeId successor, Now now);

  Ready TakeReady();

  bool HoldsLease(LocalMicros now_us) const { return lease_.held && now_us < lease_.expiry_us; }
  const LeaseView& Lease() const { return lease_; }
  Role role() const { return role_; }
  Ballot ballot() const { return ballot_; }
  Slot commit_index() const { return commit_index_; }
  NodeId leader_hint() const { return leader_hint_; }
  const Config& config() const { return config_; }
  uint64_t invalid_messages() const { return invalid_messages_; }  // dropped as malformed

 private:
  using SlotState = DurableSlot;  // the in-memory log mirrors what is on disk
  struct Inflight {
    EntryRef entry;
    std::set<NodeId> acks;
    LocalMicros sent_us = 0;
  };
  struct LeaseRequest {
    LocalMicros sent_us = 0;
    std::set<NodeId> grants;
  };
  struct Grant {    // a lease this acceptor granted
    NodeId holder;  // NodeId(0): unknown (after a restart): refuse everyone
    LocalMicros expiry_us = 0;
  };

  // replica.cc: shared plumbing, learning, timers.
  bool WellFormed(const pb::Envelope& m) const;
  void Send(NodeId to, pb::Envelope envelope);
  void Broadcast(pb::Envelope envelope);
  uint32_t Quorum() const;
  void Persist(PersistOp op);
  // `entry` null: the value already in the log is the chosen one.
  void MarkChosen(Slot slot, EntryRef entry);
  void AdvanceCommit();
  void LearnCommitIndex(NodeId from, Slot leader_commit, const Ballot& b, Now now);
  void MaybeRequestCatchup(NodeId from, Slot known_commit, Now now);
  void OnCatchupRequest(NodeId from, const pb::CatchupRequest& m);
  void OnCatchupReply(const pb::CatchupReply& m);
  void ResetElectionTimer(Now now);
  void BecomeFollower(NodeId leader, Now now);
  void EndLease();
  LocalMicros NextWakeup() const;
  void NoteRound(uint64_t round) { max_round_seen_ = std::max(max_round_seen_, round); }

  // replica_acceptor.cc: phase 1b, phase 2b, lease grants.
  bool GrantBlocks(NodeId requester, LocalMicros now_us) const;
  void OnPrepare(NodeId from, const pb::Prepare& m, Now now);
  void OnAccept(NodeId from, const pb::Accept& m, Now now);
  void OnHeartbeat(NodeId from, const pb::Heartbeat& m, Now now);
  void OnTimeoutNow(NodeId from, const pb::TimeoutNow& m, Now now);
  void SendNack(NodeId to, const pb::Ballot& refused, LocalMicros lease_remaining_us,
                bool candidate_behind);

  // replica_leader.cc: election, phase 1a/2a, pipelining, lease renewal.
  void StartCampaign(Now now);
  void OnPromise(NodeId from, const pb::Promise& m, Now now);
  void OnNack(NodeId from, const pb::Nack& m, Now now);
  void BecomeLeader(Now now);
  void ProposePending(Now now);
  void ProposeAt(Slot slot, EntryRef entry, Now now);
  void OnAccepted(NodeId from, const pb::Accepted& m, Now now);
  void OnHeartbeatReply(NodeId from, const pb::HeartbeatReply& m, Now now);
  void SendHeartbeats(Now now);
  void RetransmitAccepts(Now now);
  void CountLeaseGrant(NodeId from, uint64_t seq, Now now);
  void LeaderTick(Now now);

  Config config_;
  Prng rng_;
  Ready ready_;
  uint64_t invalid_messages_ = 0;

  // Acceptor (durable: promised_ and log_).
  Ballot promised_;
  SlotLog log_;
  Grant grant_;

  // Learner.
  Slot commit_index_;   // every slot <= commit_index_ is chosen and known here
  Slot applied_index_;  // handed to the driver in Ready::committed
  Slot known_cluster_commit_;
  LocalMicros catchup_sent_us_ = -1;

  // Roles.
  Role role_ = Role::kFollower;
  Ballot ballot_;  // candidate's or leader's own ballot
  uint64_t max_round_seen_ = 0;
  NodeId leader_hint_;
  LocalMicros election_deadline_us_ = 0;

  // Candidate.
  Slot prepare_from_;
  std::set<NodeId> promises_;
  std::map<Slot, pb::SlotValue> recovered_;  // best value reported per slot
  uint64_t recovered_stamp_us_ = 0;
  LocalMicros campaign_retry_us_ = 0;  // earliest next campaign after a lease refusal

  // Leader.
  Slot next_slot_;
  std::map<Slot, Inflight> inflight_;
  std::deque<pb::Command> pending_;
  uint64_t last_stamp_us_ = 0;
  LocalMicros next_heartbeat_us_ = 0;
  uint64_t lease_seq_ = 0;
  std::map<uint64_t, LeaseRequest> lease_requests_;
  LeaseView lease_;
  LocalMicros leader_since_us_ = 0;
  bool lease_acquired_in_term_ = false;
};

}  // namespace paxcron::paxos
