// The acceptor's side of the replica: phase 1b (promise), phase 2b (accepted) and lease grants.
// Every reply here is a claim about durable state: the driver persists ready.persist before it
// sends ready.messages (see the contract in replica.h).
#include <algorithm>

#include "paxos/ballot.h"
#include "paxos/replica.h"

namespace paxcron::paxos {

// Paxos Made Live, 5.2: a replica that granted a lease to one leader refuses to help any other
// until the grant has run out on its own clock. The holder itself may renew or re-prepare.
bool Replica::GrantBlocks(NodeId requester, LocalMicros now_us) const {
  // The no-lease-wait bug: a running lease does not stop anyone, so a new leader can be elected
  // and granted a lease while the old one still trusts its own.
  if (config_.bugs.no_lease_wait) return false;
  return now_us < grant_.expiry_us && grant_.holder != requester;
}

void Replica::SendNack(NodeId to, const pb::Ballot& refused, LocalMicros lease_remaining_us,
                       bool candidate_behind) {
  pb::Envelope e;
  pb::Nack* n = e.mutable_nack();
  *n->mutable_ballot() = refused;
  *n->mutable_promised() = ToProto(promised_);
  n->set_lease_remaining_us(static_cast<uint64_t>(std::max<LocalMicros>(lease_remaining_us, 0)));
  n->set_commit_index(commit_index_.value);
  n->set_candidate_behind(candidate_behind);
  Send(to, std::move(e));
}

void Replica::OnPrepare(NodeId from, const pb::Prepare& m, Now now) {
  const Ballot b = FromProto(m.ballot());
  NoteRound(b.round);
  PAXCRON_ASSERT(b.node == from);
  if (GrantBlocks(from, now.mono_us)) {
    SendNack(from, m.ballot(), grant_.expiry_us - now.mono_us, false);
    return;
  }
  if (b < promised_) {
    SendNack(from, m.ballot(), 0, false);
    return;
  }
  // Report every value at or above the candidate's first unknown slot, so that it can re-propose
  // whatever might have been chosen (Paxos Made Simple, 2.2, phase 1b).
  pb::Envelope e;
  pb::Promise* p = e.mutable_promise();
  const Slot from_slot(std::max<uint64_t>(m.from_slot(), 1));
  // Too far behind (or behind our compaction point, where we can no longer report values): it
  // must catch up first.
  if (from_slot <= log_.Compacted() ||
      log_.Last().value >= from_slot.value + config_.promise_values_max) {
    SendNack(from, m.ballot(), 0, true);  // too far behind: it must catch up first
    return;
  }
  log_.ForEach(from_slot, log_.Last(), [&](Slot slot, const SlotState& s) {
    pb::SlotValue* v = p->add_values();
    v->set_slot(slot.value);
    *v->mutable_ballot() = ToProto(s.accepted_ballot);
    *v->mutable_entry() = *s.entry;
    v->set_chosen(s.chosen);
  });
  if (b > promised_) {
    promised_ = b;
    Persist(PersistOp{PersistOp::Kind::kPromise, b, Slot(), nullptr});
  }
  if (from != config_.self && role_ != Role::kFollower) BecomeFollower(NodeId(0), now);
  *p->mutable_ballot() = m.ballot();
  p->set_commit_index(commit_index_.value);
  // The election timer is NOT reset by a prepare (only by a leader's accepts and heartbeats): a
  // candidate that can send but not hear (a one-way partition) would otherwise keep a connected
  // majority from ever electing anyone (Raft's disruptive server; its PreVote fixes the same).
  Send(from, std::move(e));
}

void Replica::OnAccept(NodeId from, const pb::Accept& m, Now now) {
  const Ballot b = FromProto(m.ballot());
  NoteRound(b.round);
  if (b < promised_) {
    SendNack(from, m.ballot(), 0, false);
    return;
  }
  // A promise is per leader ballot: its fast and recovery rounds (Fast Paxos) share it.
  const Ballot leader{b.round, b.node};
  if (leader > promised_) {
    promised_ = leader;
    Persist(PersistOp{PersistOp::Kind::kPromise, leader, Slot(), nullptr});
  }
  if (from != config_.self) {
    if (role_ != Role::kFollower) BecomeFollower(from, now);
    leader_hint_ = from;
    ResetElectionTimer(now);
  }
  const Slot slot(m.slot());
  PAXCRON_ASSERT(slot.value > 0);
  // A compacted slot is chosen: like any chosen slot it keeps its value, and the ack is true of
  // every later ballot (which can only carry the chosen value).
  if (slot > log_.Compacted()) {
    SlotState& s = log_.Mutable(slot);
    if (!s.chosen) {
      s.accepted_ballot = b;
      s.entry = std::make_shared<const pb::Entry>(m.entry());
      Persist(PersistOp{PersistOp::Kind::kAccept, b, slot, s.entry});
    }
  }
  pb::Envelope e;
  *e.mutable_accepted()->mutable_ballot() = m.ballot();
  e.mutable_accepted()->set_slot(slot.value);
  Send(from, std::move(e));
  LearnCommitIndex(from, Slot(m.commit_index()), b, now);
}

void Replica::OnHeartbeat(NodeId from, const pb::Heartbeat& m, Now now) {
  const Ballot b = FromProto(m.ballot());
  NoteRound(b.round);
  if (b < promised_) {
    SendNack(from, m.ballot(), 0, false);  // tells a stale leader that a higher ballot exists
    return;
  }
  if (b > promised_) {
    // Promising a higher ballot is always safe; phase 2 traffic implies it.
    promised_ = b;
    Persist(PersistOp{PersistOp::Kind::kPromise, b, Slot(), nullptr});
  }
  if (from != config_.self) {
    if (role_ != Role::kFollower) BecomeFollower(from, now);
    leader_hint_ = from;
    ResetElectionTimer(now);
  }
  if (Fast() && m.fast_to() > 0) NoteFastRange(b, Slot(m.fast_from()), Slot(m.fast_to()));
  bool granted = false;
  if (m.lease_duration_us() > 0 && !GrantBlocks(from, now.mono_us)) {
    grant_ = Grant{from, now.mono_us + static_cast<LocalMicros>(m.lease_duration_us())};
    granted = true;
  }
  pb::Envelope e;
  pb::HeartbeatReply* r = e.mutable_heartbeat_reply();
  *r->mutable_ballot() = m.ballot();
  r->set_lease_seq(m.lease_seq());
  r->set_lease_granted(granted);
  r->set_commit_index(commit_index_.value);
  r->set_wall_us(now.wall_us);
  Send(from, std::move(e));
  LearnCommitIndex(from, Slot(m.commit_index()), b, now);
}

// A voluntary hand-over: the old holder has already stopped acting under its lease, so the
// grant can be dropped at once and the successor need not wait it out.
void Replica::OnTimeoutNow(NodeId from, const pb::TimeoutNow& m, Now now) {
  if (grant_.holder == from) grant_.expiry_us = 0;
  if (NodeId(m.successor()) == config_.self && role_ != Role::kLeader) {
    campaign_retry_us_ = 0;
    StartCampaign(now);
  }
}

}  // namespace paxcron::paxos
