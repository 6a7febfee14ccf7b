// Shared plumbing of the replica: construction from durable state, input dispatch, timers,
// learning chosen values and catch-up. Role-specific logic lives in replica_acceptor.cc and
// replica_leader.cc.
#include "paxos/replica.h"

#include <algorithm>
#include <utility>

#include "paxos/ballot.h"

namespace paxcron::paxos {

const char* RoleName(Role role) {
  switch (role) {
    case Role::kFollower:
      return "follower";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
  }
  return "?";
}

bool MayLeaveBeforePersist(const pb::Envelope& message) {
  // A leader's requests; replies (promise, accepted, nack, lease grants) are claims about what
  // this acceptor durably holds and must wait for the fsync.
  // Fast Paxos adds the leader's "any" and its queries, and a proposer's value: requests too.
  switch (message.body_case()) {
    case pb::Envelope::kAccept:
    case pb::Envelope::kHeartbeat:
    case pb::Envelope::kAny:
    case pb::Envelope::kFastPropose:
    case pb::Envelope::kFastQuery:
      return true;
    default:
      return false;
  }
}

void DurableState::Apply(const PersistOp& op) {
  switch (op.kind) {
    case PersistOp::Kind::kPromise:
      PAXCRON_ASSERT(op.ballot >= promised);
      promised = op.ballot;
      break;
    case PersistOp::Kind::kAccept: {
      if (op.slot <= slots.Compacted()) break;  // chosen, and covered by the snapshot
      DurableSlot& s = slots.Mutable(op.slot);
      if (!s.chosen) {
        s.accepted_ballot = op.ballot;
        s.entry = op.entry;
      }
      break;
    }
    case PersistOp::Kind::kChosen: {
      if (op.slot <= slots.Compacted()) break;
      DurableSlot& s = slots.Mutable(op.slot);
      s.entry = op.entry;
      s.chosen = true;
      break;
    }
    case PersistOp::Kind::kCompact:
      // The driver wrote the snapshot (and snapshot_slot) before this op reached the disk.
      PAXCRON_ASSERT(op.slot <= snapshot_slot);
      slots.TruncatePrefix(op.slot);
      break;
  }
}

Replica::Replica(Config config, uint64_t rng_seed, const DurableState& durable, Now now)
    : config_(std::move(config)), rng_(rng_seed) {
  PAXCRON_ASSERT(config_.self.value != 0 && config_.self.value <= kNodesMax);
  PAXCRON_ASSERT(std::is_sorted(config_.members.begin(), config_.members.end()));
  PAXCRON_ASSERT(std::find(config_.members.begin(), config_.members.end(), config_.self) !=
                 config_.members.end());
  PAXCRON_ASSERT(config_.election_timeout_min_us <= config_.election_timeout_max_us);
  PAXCRON_ASSERT(config_.heartbeat_interval_us < config_.election_timeout_min_us);
  promised_ = durable.promised;
  max_round_seen_ = promised_.round;
  log_ = durable.slots;
  // Start from the snapshot: the driver loaded it into its state machine, so delivery resumes
  // after it. Log slots at or below it (the kept tail) are chosen and serve lagging peers.
  PAXCRON_ASSERT(log_.Compacted() <= durable.snapshot_slot);
  snapshot_slot_ = durable.snapshot_slot;
  commit_index_ = applied_index_ = durable.snapshot_slot;
  last_stamp_us_ = durable.snapshot_stamp_us;
  log_.ForEach(Slot(1), log_.Last(), [&](Slot, const SlotState& s) {
    last_stamp_us_ = std::max<uint64_t>(last_stamp_us_, s.entry->stamp_us());
  });
  // A restarted acceptor cannot know which lease it granted before the crash: it refuses to
  // help anyone until any such grant must have run out (Paxos Made Live, 5.2). An acceptor that
  // never promised anything never granted anything either (every grant follows a promise, which
  // is persisted), so a first boot need not wait.
  if (!config_.bugs.no_lease_wait && !promised_.IsZero()) {
    grant_ = Grant{NodeId(0), now.mono_us + config_.lease_duration_us};
  }
  AdvanceCommit();  // re-deliver every chosen value: the driver rebuilds its state machine
  ResetElectionTimer(now);
}

// Input from the network is checked, never trusted: a malformed message is dropped and counted,
// and never reaches an assertion.
bool Replica::WellFormed(const pb::Envelope& m) const {
  const NodeId from(m.from());
  if (m.to() != config_.self.value && m.to() != 0) return false;
  if (!std::binary_search(config_.members.begin(), config_.members.end(), from)) return false;
  auto own_ballot = [&](const pb::Ballot& b) { return b.node() == m.from() && b.round() > 0; };
  // A slot must be above 0 and within reach of what this replica holds: no message may make
  // the log grow without bound (SlotLog::kGrowthMax).
  const uint64_t reach = log_.Last().value + SlotLog::kGrowthMax;
  auto slot_ok = [&](uint64_t slot) { return slot > 0 && slot <= reach; };
  auto slots_valid = [&](const auto& values) {
    for (const pb::SlotValue& v : values) {
      if (!slot_ok(v.slot()) || !v.has_entry()) return false;
    }
    return true;
  };
  switch (m.body_case()) {
    case pb::Envelope::kPrepare:
      return own_ballot(m.prepare().ballot());
    case pb::Envelope::kAccept:
      return own_ballot(m.accept().ballot()) && slot_ok(m.accept().slot()) &&
             m.accept().has_entry();
    case pb::Envelope::kHeartbeat:
      return own_ballot(m.heartbeat().ballot());
    case pb::Envelope::kPromise:
      return slots_valid(m.promise().values());
    case pb::Envelope::kCatchupRequest:
      return m.catchup_request().from_slot() > 0 &&
             m.catchup_request().to_slot() >= m.catchup_request().from_slot();
    case pb::Envelope::kCatchupReply:
      return slots_valid(m.catchup_reply().values());
    case pb::Envelope::kSnapshotChunk:
      return m.snapshot_chunk().data().size() <= config_.snapshot_chunk_bytes &&
             m.snapshot_chunk().offset() <= m.snapshot_chunk().total_bytes() &&
             m.snapshot_chunk().data().size() <=
                 m.snapshot_chunk().total_bytes() - m.snapshot_chunk().offset();
    case pb::Envelope::kAny:
      return own_ballot(m.any().ballot()) && m.any().from_slot() > 0 &&
             m.any().to_slot() >= m.any().from_slot() && slot_ok(m.any().to_slot());
    case pb::Envelope::kFastPropose:
      return m.fast_propose().ballot().round() > 0 && slot_ok(m.fast_propose().slot()) &&
             m.fast_propose().has_entry();
    case pb::Envelope::kFastAccepted:
      return slot_ok(m.fast_accepted().slot()) &&
             (m.fast_accepted().none() || m.fast_accepted().has_entry());
    case pb::Envelope::kFastQuery:
      return own_ballot(m.fast_query().ballot()) && slot_ok(m.fast_query().slot());
    case pb::Envelope::BODY_NOT_SET:
      return false;
    default:
      return true;
  }
}

void Replica::Step(const pb::Envelope& m, Now now) {
  if (!WellFormed(m)) {
    ++invalid_messages_;
    return;
  }
  const NodeId from(m.from());
  switch (m.body_case()) {
    case pb::Envelope::kPrepare:
      OnPrepare(from, m.prepare(), now);
      break;
    case pb::Envelope::kPromise:
      OnPromise(from, m.promise(), now);
      break;
    case pb::Envelope::kAccept:
      OnAccept(from, m.accept(), now);
      break;
    case pb::Envelope::kAccepted:
      OnAccepted(from, m.accepted(), now);
      break;
    case pb::Envelope::kNack:
      OnNack(from, m.nack(), now);
      break;
    case pb::Envelope::kHeartbeat:
      OnHeartbeat(from, m.heartbeat(), now);
      break;
    case pb::Envelope::kHeartbeatReply:
      OnHeartbeatReply(from, m.heartbeat_reply(), now);
      break;
    case pb::Envelope::kCatchupRequest:
      OnCatchupRequest(from, m.catchup_request());
      break;
    case pb::Envelope::kCatchupReply:
      OnCatchupReply(from, m.catchup_reply(), now);
      break;
    case pb::Envelope::kSnapshotRequest:
      ready_.snapshot_reads.push_back(
          SnapshotRead{from, Slot(m.snapshot_request().slot()), m.snapshot_request().offset()});
      break;
    case pb::Envelope::kSnapshotChunk:
      OnSnapshotChunk(from, m.snapshot_chunk(), now);
      break;
    case pb::Envelope::kForward:
      if (role_ == Role::kLeader && pending_.size() < config_.pending_commands_max) {
        pending_.push_back(m.forward().command());
        ProposePending(now);
      }
      break;
    case pb::Envelope::kTimeoutNow:
      OnTimeoutNow(from, m.timeout_now(), now);
      break;
    case pb::Envelope::kAny:
      if (Fast()) OnAny(from, m.any(), now);
      break;
    case pb::Envelope::kFastPropose:
      if (Fast()) OnFastPropose(m.fast_propose());
      break;
    case pb::Envelope::kFastAccepted:
      if (Fast()) OnFastAccepted(from, m.fast_accepted(), now);
      break;
    case pb::Envelope::kFastQuery:
      if (Fast()) OnFastQuery(from, m.fast_query());
      break;
    case pb::Envelope::BODY_NOT_SET:
      break;  // nothing to do with an empty frame
  }
}

void Replica::Tick(Now now) {
  if (lease_.held && now.mono_us >= lease_.expiry_us) EndLease();
  SnapshotTick(now);
  if (role_ == Role::kLeader) {
    LeaderTick(now);
    return;
  }
  if (now.mono_us < election_deadline_us_ || now.mono_us < campaign_retry_us_) return;
  if (GrantBlocks(config_.self, now.mono_us)) {
    // Our own acceptor still serves another leader's lease: campaigning now would only be
    // refused. Try once it has run out.
    // Try once it has run out, with jitter so that the followers of a lost leader, whose grants
    // all end at about the same time, do not all campaign at once.
    election_deadline_us_ =
        grant_.expiry_us + static_cast<LocalMicros>(rng_.Range(
                               0, static_cast<uint64_t>(config_.election_timeout_min_us / 2)));
    return;
  }
  StartCampaign(now);
}

Status Replica::Propose(pb::Command command, Now now) {
  if (role_ == Role::kLeader) {
    if (pending_.size() >= config_.pending_commands_max) {
      return Status::Error("leader's command queue is full");
    }
    pending_.push_back(std::move(command));
    ProposePending(now);
    return Status::Ok();
  }
  if (leader_hint_.value == 0 || leader_hint_ == config_.self) {
    return Status::Error("no leader known");
  }
  // Fast Paxos: straight to the acceptors, in a slot of the leader's "any" window; without a
  // free slot there, the leader orders it (as in Multi-Paxos).
  if (Fast() && any_ballot_.node == leader_hint_ && ProposeFast(command)) return Status::Ok();
  pb::Envelope e;
  *e.mutable_forward()->mutable_command() = std::move(command);
  Send(leader_hint_, std::move(e));
  return Status::Ok();
}

Status Replica::HandOver(NodeId successor, Now now) {
  if (role_ != Role::kLeader) return Status::Error("not the leader");
  if (successor == config_.self) return Status::Error("cannot hand over to self");
  // Revoke first: from here on this node never acts under the old lease (etcd-io/raft#99).
  EndLease();
  pb::Envelope e;
  *e.mutable_timeout_now()->mutable_ballot() = ToProto(ballot_);
  e.mutable_timeout_now()->set_successor(successor.value);
  Broadcast(std::move(e));
  BecomeFollower(successor, now);
  return Status::Ok();
}

Ready Replica::TakeReady() {
  ready_.next_wakeup_us = NextWakeup();
  Ready out = std::move(ready_);
  ready_ = Ready{};
  return out;
}

void Replica::Send(NodeId to, pb::Envelope envelope) {
  envelope.set_from(config_.self.value);
  envelope.set_to(to.value);
  ready_.messages.push_back(
      Outgoing{to, std::make_shared<const pb::Envelope>(std::move(envelope))});
}

void Replica::Broadcast(pb::Envelope envelope) {
  envelope.set_from(config_.self.value);
  envelope.set_to(0);
  auto shared = std::make_shared<const pb::Envelope>(std::move(envelope));
  for (NodeId member : config_.members) ready_.messages.push_back(Outgoing{member, shared});
}

uint32_t Replica::Quorum() const {
  return QuorumSize(static_cast<uint32_t>(config_.members.size()), config_.bugs);
}

void Replica::Persist(PersistOp op) { ready_.persist.push_back(std::move(op)); }

void Replica::MarkChosen(Slot slot, EntryRef entry) {
  PAXCRON_ASSERT(slot.value > 0);
  if (slot <= log_.Compacted()) return;  // compacted: known chosen, and covered by a snapshot
  SlotState& s = log_.Mutable(slot);
  if (s.chosen) return;  // learned already; a value, once chosen, never changes
  s.chosen = true;
  if (entry != nullptr) s.entry = std::move(entry);
  PAXCRON_ASSERT(s.entry != nullptr);
  last_stamp_us_ = std::max<uint64_t>(last_stamp_us_, s.entry->stamp_us());
  Persist(PersistOp{PersistOp::Kind::kChosen, s.accepted_ballot, slot, s.entry});
  if (Fast() && role_ == Role::kLeader) SettleFastSlot(slot, s.entry);
  AdvanceCommit();
}

void Replica::AdvanceCommit() {
  for (const SlotState* s = log_.Find(commit_index_.Next()); s != nullptr && s->chosen;
       s = log_.Find(commit_index_.Next())) {
    commit_index_ = commit_index_.Next();
  }
  known_cluster_commit_ = std::max(known_cluster_commit_, commit_index_);
  while (applied_index_ < commit_index_) {
    applied_index_ = applied_index_.Next();
    const SlotState* s = log_.Find(applied_index_);
    PAXCRON_ASSERT(s != nullptr && s->chosen);
    ready_.committed.push_back(Committed{applied_index_, s->entry});
  }
}

// A value accepted in the leader's own ballot is the leader's value for that slot, and the
// leader announces a slot as chosen only with that value: so a follower holding it learns it.
void Replica::LearnCommitIndex(NodeId from, Slot leader_commit, const Ballot& b, Now now) {
  known_cluster_commit_ = std::max(known_cluster_commit_, leader_commit);
  const Slot last = std::min(leader_commit, log_.Last());
  for (Slot s = commit_index_.Next(); s <= last; s = s.Next()) {
    const SlotState* state = log_.Find(s);
    // A fast-round vote may have lost its slot to another value: fast slots are learned through
    // catch-up. Classic and recovery rounds carry one value per slot, the leader's.
    if (state != nullptr && !state->chosen && state->accepted_ballot.round == b.round &&
        state->accepted_ballot.node == b.node && state->accepted_ballot.sub != kSubFast) {
      MarkChosen(s, nullptr);
    }
  }
  MaybeRequestCatchup(from, leader_commit, now);
}

void Replica::MaybeRequestCatchup(NodeId from, Slot known_commit, Now now) {
  known_cluster_commit_ = std::max(known_cluster_commit_, known_commit);
  if (commit_index_ >= known_commit || from == config_.self || fetch_) return;
  // One request in flight per heartbeat interval bounds the load a lagging replica creates.
  if (catchup_sent_us_ >= 0 && now.mono_us - catchup_sent_us_ < config_.heartbeat_interval_us) {
    return;
  }
  catchup_sent_us_ = now.mono_us;
  pb::Envelope e;
  e.mutable_catchup_request()->set_from_slot(commit_index_.value + 1);
  e.mutable_catchup_request()->set_to_slot(
      std::min(known_commit.value, commit_index_.value + config_.catchup_slots_max));
  Send(from, std::move(e));
}

void Replica::OnCatchupRequest(NodeId from, const pb::CatchupRequest& m) {
  pb::Envelope e;
  pb::CatchupReply* reply = e.mutable_catchup_reply();
  reply->set_commit_index(commit_index_.value);
  if (m.from_slot() <= log_.Compacted().value) {
    // Those values are gone from the log: the requester needs the snapshot that covers them.
    reply->set_snapshot_slot(snapshot_slot_.value);
    Send(from, std::move(e));
    return;
  }
  const uint64_t last = std::min(m.to_slot(), m.from_slot() + config_.catchup_slots_max - 1);
  log_.ForEach(Slot(m.from_slot()), Slot(last), [&](Slot slot, const SlotState& s) {
    if (!s.chosen) return;
    pb::SlotValue* v = reply->add_values();
    v->set_slot(slot.value);
    *v->mutable_entry() = *s.entry;
    v->set_chosen(true);
  });
  Send(from, std::move(e));
}

void Replica::OnCatchupReply(NodeId from, const pb::CatchupReply& m, Now now) {
  // Answered: the next gap may be asked for at once. In Fast Paxos followers learn most slots
  // through catch-up, so a reply that taught nothing (a duplicate, or a stale one) must not start
  // another request at once: with duplicated replies the requests would multiply without bound.
  const Slot commit_before = commit_index_;
  if (!Fast()) catchup_sent_us_ = -1;
  if (m.snapshot_slot() > commit_index_.value) {
    // What we miss is only in the sender's snapshot. One fetch at a time; a leader never
    // fetches (it learns everything through its own ballot).
    if (!fetch_ && role_ != Role::kLeader) {
      fetch_ = SnapshotFetch{from, Slot(0), 0, now.mono_us, 0, false};
      RequestSnapshotChunk(now);
    }
    return;
  }
  for (const pb::SlotValue& v : m.values()) {
    if (v.chosen() && v.slot() > log_.Compacted().value) {
      MarkChosen(Slot(v.slot()), std::make_shared<const pb::Entry>(v.entry()));
    }
  }
  if (Fast() && commit_index_ > commit_before) catchup_sent_us_ = -1;
  MaybeRequestCatchup(from, Slot(m.commit_index()), now);
}

void Replica::ResetElectionTimer(Now now) {
  election_deadline_us_ =
      now.mono_us +
      static_cast<int64_t>(rng_.Range(static_cast<uint64_t>(config_.election_timeout_min_us),
                                      static_cast<uint64_t>(config_.election_timeout_max_us)));
}

void Replica::BecomeFollower(NodeId leader, Now now) {
  if (role_ != Role::kFollower) {
    EndLease();
    inflight_.clear();
    pending_.clear();  // commands not yet proposed are dropped; clients retry
    lease_requests_.clear();
    ResetFastLeader();
    role_ = Role::kFollower;
  }
  leader_hint_ = leader;
  ResetElectionTimer(now);
}

void Replica::EndLease() { lease_.held = false; }

LocalMicros Replica::NextWakeup() const {
  LocalMicros wake = role_ == Role::kLeader ? next_heartbeat_us_
                                            : std::max(election_deadline_us_, campaign_retry_us_);
  if (lease_.held) wake = std::min(wake, lease_.expiry_us);
  if (fetch_ && !fetch_->complete) wake = std::min(wake, fetch_->sent_us + SnapshotRetryUs());
  return wake;
}

}  // namespace paxcron::paxos
