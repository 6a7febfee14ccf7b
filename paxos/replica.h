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
//      The one exception: MayLeaveBeforePersist() messages (the leader's accept requests and
//      heartbeats) may go to peers first, so that the leader's own fsync overlaps its followers'
//      (Raft thesis, 10.2.1). They claim nothing about this node's durable state: the leader's
//      vote reaches its tally only through its Accepted message to itself, sent after.
//   4. Send ready.messages (messages to self are delivered back through Step like any other).
//   5. Apply ready.committed to the state machine, in order.
//   6. Call Tick(now) again no later than ready.next_wakeup (local monotonic time).
// SNAPSHOTS (the driver owns the bytes; the core only moves slots and messages):
//   - Compaction: after the driver durably saved a snapshot of its state machine at some applied
//     slot, it calls Compact(); the Ready then asks to truncate the durable log.
//   - Serving: each ready.snapshot_reads names a peer and a byte range of our snapshot; the
//     driver reads it and hands it back with ServeSnapshotChunk().
//   - Receiving: ready.snapshot_chunks are a peer's snapshot, in order, from offset 0; the driver
//     stages them. After the `last` one it validates the snapshot, calls InstallSnapshot() and,
//     only if that succeeds, saves it durably and loads it into its state machine before
//     handling the next Ready (whose log truncation must not reach disk before the snapshot).
//     If the bytes are bad it calls AbortSnapshotFetch().
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
#include "paxos/clock_guard.h"
#include "paxos/config.h"
#include "paxos/fast_pick.h"
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
  enum class Kind { kPromise, kAccept, kChosen, kCompact };
  Kind kind = Kind::kPromise;
  Ballot ballot;   // kPromise: the promised ballot; kAccept: the accepted ballot
  Slot slot;       // kAccept, kChosen; kCompact: forget every slot at or below this one
  EntryRef entry;  // kAccept, kChosen
};

// What survives a crash: the acceptor's promise, every accepted or chosen value above the
// compaction point, and (written by the driver, atomically with the snapshot's bytes) which slot
// the newest durable snapshot ends at.
struct DurableState {
  Ballot promised;
  SlotLog slots;
  Slot snapshot_slot;              // 0: no snapshot
  uint64_t snapshot_stamp_us = 0;  // cluster time of the snapshot's last entry
  void Apply(const PersistOp& op);
};

// A byte range of this node's snapshot that a peer asked for (see ServeSnapshotChunk).
struct SnapshotRead {
  NodeId to;
  Slot slot;  // the snapshot the peer is fetching (0: the newest)
  uint64_t offset = 0;
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

// Fast Paxos events, for the driver's trace only (replica_fast.cc).
struct FastEvent {
  enum class Kind { kOpen, kCollision, kRecovery, kFallback };
  Kind kind = Kind::kOpen;
  Slot from;  // kOpen: the window [from, to]; else the slot
  Slot to;
  uint32_t reports = 0;     // kCollision, kRecovery: acceptors whose reports formed Q
  uint32_t candidates = 0;  // distinct values voted in the highest round
  bool forced = false;      // the value-picking rule forced the value (it may have been chosen)
};

struct Ready {
  std::vector<PersistOp> persist;
  std::vector<Outgoing> messages;
  std::vector<Committed> committed;
  std::vector<SnapshotRead> snapshot_reads;
  std::vector<pb::SnapshotChunk> snapshot_chunks;  // received, in order, to stage
  std::vector<FastEvent> fast_events;              // Fast Paxos: for tracing only
  LocalMicros next_wakeup_us = 0;
  bool Empty() const {
    return persist.empty() && messages.empty() && committed.empty() && snapshot_reads.empty() &&
           snapshot_chunks.empty() && fast_events.empty();
  }
};

// The driver may send this message to a peer before the same Ready's persist ops are durable.
bool MayLeaveBeforePersist(const pb::Envelope& message);

enum class Role { kFollower, kCandidate, kLeader };
const char* RoleName(Role role);  // "follower", "candidate", "leader"

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

  // The driver durably saved a snapshot of its state machine covering every slot up to
  // `snapshot_slot` (cluster time `stamp_us`). Forgets the log up to `snapshot_slot - keep_slots`
  // (the kept tail lets a slightly lagging peer catch up without a snapshot).
  // Errors: `snapshot_slot` not yet handed to the driver.
  Status Compact(Slot snapshot_slot, uint64_t stamp_us, uint64_t keep_slots);
  // Sends a peer the chunk it asked for in a SnapshotRead. `chunk.slot` 0: no snapshot here.
  void ServeSnapshotChunk(NodeId to, pb::SnapshotChunk chunk);
  // The fetched snapshot ending at `slot` is valid: the replica continues from it. Errors (the
  // driver must then discard it): no such fetch is waiting, or it is no longer needed.
  Status InstallSnapshot(Slot slot, uint64_t stamp_us, Now now);
  void AbortSnapshotFetch();

  Ready TakeReady();

  bool HoldsLease(LocalMicros now_us) const { return lease_.held && now_us < lease_.expiry_us; }
  const LeaseView& Lease() const { return lease_; }
  Role role() const { return role_; }
  Ballot ballot() const { return ballot_; }
  Ballot promised() const { return promised_; }  // the highest ballot this acceptor promised
  Slot commit_index() const { return commit_index_; }
  Slot compacted() const { return log_.Compacted(); }
  bool fetching_snapshot() const { return fetch_.has_value(); }
  NodeId leader_hint() const { return leader_hint_; }
  // A leader's judgement of its own wall clock against the other members', from the wall
  // readings in its heartbeats' replies of the last lease duration (clock_guard.h). Readings are
  // carried forward on the monotonic clock, so a jump of this node's own wall clock since a
  // reading shows at once (widened by the drift bound over the reading's age), and every
  // interval, ours too, is widened by half config.clock_tolerance_us: clocks within the tolerance
  // of ours agree. Not a leader: kUnknown, nothing heard.
  ClockJudgement JudgeOwnClock(Now now) const;
  // A member whose fresh reading agrees with a majority's (the lowest id): where a leader with a
  // wrong clock hands over. NodeId(0): none.
  NodeId ClockAgreeingPeer(Now now) const;
  const Config& config() const { return config_; }
  uint64_t invalid_messages() const { return invalid_messages_; }  // dropped as malformed

 private:
  using SlotState = DurableSlot;  // the in-memory log mirrors what is on disk
  struct Inflight {
    EntryRef entry;
    std::set<NodeId> acks;
    LocalMicros sent_us = 0;
    uint32_t sub = kSubClassic;  // Fast Paxos: kSubRecovery for a recovery round
  };
  struct FastTally {  // the coordinator's count of one fast slot's reports
    std::map<NodeId, Vote> votes;
    std::set<NodeId> none;  // answered a FastQuery: no vote
    LocalMicros first_us = 0;
    LocalMicros queried_us = -1;
  };
  struct LeaseRequest {
    LocalMicros sent_us = 0;
    std::set<NodeId> grants;
  };
  struct ClockProbe {  // a heartbeat's send instant
    LocalMicros sent_us = 0;
  };
  struct ClockSample {  // a member's wall clock minus ours, as certainly bounded
    OffsetInterval offset;
    LocalMicros at_us = 0;
    int64_t wall_minus_mono_us = 0;  // ours, at the reading
  };
  std::optional<OffsetInterval> SampleNow(const ClockSample& sample, Now now) const;
  std::vector<OffsetInterval> ClockSources(Now now) const;  // ours first, then fresh readings
  struct SnapshotFetch {
    NodeId from;
    Slot slot;  // 0 until the first chunk names it
    uint64_t offset = 0;
    LocalMicros sent_us = 0;
    uint32_t unanswered = 0;
    bool complete = false;  // every chunk received: waiting for InstallSnapshot
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
  void OnCatchupReply(NodeId from, const pb::CatchupReply& m, Now now);
  void RequestSnapshotChunk(Now now);
  void OnSnapshotChunk(NodeId from, const pb::SnapshotChunk& m, Now now);
  void SnapshotTick(Now now);
  // An unanswered snapshot request is sent again after this long.
  LocalMicros SnapshotRetryUs() const { return config_.election_timeout_min_us; }
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
  void ProposeAt(Slot slot, EntryRef entry, Now now, uint32_t sub = kSubClassic);
  void OnAccepted(NodeId from, const pb::Accepted& m, Now now);
  void OnHeartbeatReply(NodeId from, const pb::HeartbeatReply& m, Now now);
  void SendHeartbeats(Now now);
  void RetransmitAccepts(Now now);
  void CountLeaseGrant(NodeId from, uint64_t seq, Now now);
  void LeaderTick(Now now);

  // replica_fast.cc: Fast Paxos (config_.mode == Mode::kFast).
  bool Fast() const { return config_.mode == Mode::kFast; }
  uint32_t FastQuorum() const;
  std::optional<Slot> NextFastSlot();
  void SendFastPropose(Slot slot, EntryRef entry);
  bool ProposeFast(pb::Command& command);  // moves `command` only when it returns true
  void ProposePendingFast(Now now);
  void ResetFastLeader();
  void NoteFastRange(const Ballot& b, Slot from, Slot to);
  void OnAny(NodeId from, const pb::Any& m, Now now);
  void OnFastPropose(const pb::FastPropose& m);
  void SendFastVote(NodeId coordinator, Slot slot, const SlotState& s);
  void OnFastQuery(NodeId from, const pb::FastQuery& m);
  void ExtendFastRange(Now now);
  void BroadcastAny(Now now);
  void OnFastAccepted(NodeId from, const pb::FastAccepted& m, Now now);
  void EvaluateFastSlot(Slot slot, Now now, bool timed_out);
  void StartRecovery(Slot slot, Now now, bool collision);
  void FastTick(Now now);
  void NoteFastValue(Slot slot, EntryRef entry);
  void SettleFastSlot(Slot slot, const EntryRef& chosen);

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
  Slot snapshot_slot_;  // the driver's newest durable snapshot ends here
  std::optional<SnapshotFetch> fetch_;

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
  std::map<uint64_t, ClockProbe> clock_probes_;  // by lease_seq; the newest 64
  std::map<NodeId, ClockSample> clock_samples_;  // the newest per member
  LeaseView lease_;
  LocalMicros leader_since_us_ = 0;
  bool lease_acquired_in_term_ = false;

  // Fast Paxos. Any replica: the newest window of the leader it promised (acceptor and proposer).
  Ballot any_ballot_;
  Slot any_from_;
  Slot any_to_;
  std::set<Slot> proposed_slots_;  // slots of the window we proposed in (bounded)
  // Candidate: every vote reported per slot, for the value-picking rule.
  std::map<Slot, std::vector<Vote>> recovered_votes_;
  // Leader (coordinator): its window, reports per fast slot, and the fallback to classic rounds.
  Slot fast_from_;
  Slot fast_opened_to_;  // the highest slot ever opened in this ballot
  std::map<Slot, FastTally> fast_tally_;
  struct FastValues {  // every value a fast slot was offered, to re-propose the losers
    std::map<uint64_t, EntryRef> values;  // by EntryHash
    bool settled = false;                 // the slot is chosen: losers were re-proposed
    uint64_t chosen_hash = 0;
  };
  std::map<Slot, FastValues> fast_values_;
  std::deque<LocalMicros> collision_times_;  // the newest few
  uint32_t classic_slots_left_ = 0;          // > 0: in a fallback to classic rounds
};

}  // namespace paxcron::paxos
