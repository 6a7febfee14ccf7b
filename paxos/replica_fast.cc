// Fast Paxos mode of the replica (config.mode == Mode::kFast; Lamport, "Fast Paxos", 2006).
//
// Rounds. Each leader ballot b = (round, node) owns three rounds per slot, ordered
// (b, classic) < (b, fast) < (b, recovery) < any higher ballot (types.h, Ballot::sub):
//   - (b, classic): the leader's ordinary phase 2 (re-proposals after phase 1, and the classic
//     fallback below), exactly as in Multi-Paxos;
//   - (b, fast): after phase 1 found every slot above `last` free, the leader sends "any" for a
//     window of those slots (section 3.1: a phase-2a "any" message). Any proposer (a follower
//     with a client command, or the leader itself) then sends its value straight to the
//     acceptors; each acceptor votes for the first value it receives for a slot, once;
//   - (b, recovery): coordinated recovery (section 3.2). Round (b, recovery) comes right after
//     (b, fast) and has the same coordinator, so the fast round's phase-2b reports are its
//     phase-1b messages: the coordinator picks the value by the rule of fast_pick.h and runs an
//     ordinary classic phase 2 for it.
// Learning. Acceptors report fast votes to the coordinator only. It learns a value chosen when a
// fast quorum's first reports for a slot agree; a collision is certain when no value can reach a
// fast quorum any more. The coordinator stops counting a slot's fast reports as soon as it starts
// recovering the slot, so a late fast vote can never be learned beside the recovered value.
// Other replicas learn fast slots through catch-up (the leader's commit index), and classic and
// recovery slots as in Multi-Paxos.
// Fallback (section 3.4, implementation considerations, leaves the policy open): three collisions
// within one second switch the leader to classic rounds for the next 64 slots, then it opens fast
// slots again. A collision costs two more message delays than a classic round (the recovery's phase
// 2) plus the wait to detect it, so under contention classic rounds are cheaper; 64 slots is long
// enough for a burst of concurrent proposals to pass, short enough to come back to fast rounds soon
// after.
#include <algorithm>

#include "paxos/ballot.h"
#include "paxos/entry_hash.h"
#include "paxos/fast_pick.h"
#include "paxos/replica.h"

namespace paxcron::paxos {
namespace {

constexpr size_t kCollisionsForFallback = 3;
constexpr LocalMicros kCollisionWindowUs = 1'000'000;
constexpr uint32_t kFallbackSlots = 64;

Ballot WithSub(Ballot b, uint32_t sub) {
  b.sub = sub;
  return b;
}

}  // namespace

// --- Proposer (any replica) ---

// The lowest slot of the window that our acceptor has not voted in and we have not proposed in
// yet: proposers fill the window from the bottom, so a slot left empty (a hole, which stalls
// every slot above it until the coordinator times it out) is rare.
std::optional<Slot> Replica::NextFastSlot() {
  if (any_ballot_.IsZero() || any_ballot_ != promised_) return std::nullopt;
  while (!proposed_slots_.empty() && *proposed_slots_.begin() <= commit_index_) {
    proposed_slots_.erase(proposed_slots_.begin());
  }
  for (Slot s = std::max({any_from_, commit_index_.Next(), log_.Compacted().Next()}); s <= any_to_;
       s = s.Next()) {
    if (log_.Find(s) == nullptr && !proposed_slots_.contains(s)) {
      if (proposed_slots_.size() >= 4 * config_.inflight_slots_max) return std::nullopt;
      proposed_slots_.insert(s);
      return s;
    }
  }
  return std::nullopt;
}

void Replica::SendFastPropose(Slot slot, EntryRef entry) {
  pb::Envelope e;
  pb::FastPropose* p = e.mutable_fast_propose();
  *p->mutable_ballot() = ToProto(any_ballot_);
  p->set_slot(slot.value);
  *p->mutable_entry() = *entry;
  Broadcast(std::move(e));
}

bool Replica::ProposeFast(pb::Command& command) {
  // Only the leader's clock moves cluster time: a follower stamps its value with the newest
  // cluster time it has learned (the state machine never lets time go back). One that has
  // learned none yet lets the leader order the command.
  if (last_stamp_us_ == 0) return false;
  const std::optional<Slot> slot = NextFastSlot();
  if (!slot.has_value()) return false;
  auto entry = std::make_shared<pb::Entry>();
  entry->set_stamp_us(last_stamp_us_);
  *entry->add_commands() = std::move(command);
  SendFastPropose(*slot, std::move(entry));
  return true;
}

// The leader proposes its own commands in its window like any proposer (section 3.1), batched.
void Replica::ProposePendingFast(Now now) {
  while (!pending_.empty() && classic_slots_left_ == 0) {
    const std::optional<Slot> slot = NextFastSlot();
    if (!slot.has_value()) return;
    last_stamp_us_ = std::max<uint64_t>(last_stamp_us_, static_cast<uint64_t>(now.wall_us));
    auto entry = std::make_shared<pb::Entry>();
    entry->set_stamp_us(last_stamp_us_);
    for (uint32_t i = 0; i < config_.batch_commands_max && !pending_.empty(); ++i) {
      *entry->add_commands() = std::move(pending_.front());
      pending_.pop_front();
    }
    SendFastPropose(*slot, std::move(entry));
  }
}

void Replica::ResetFastLeader() {
  fast_tally_.clear();
  fast_values_.clear();
  fast_from_ = fast_opened_to_ = Slot();
  classic_slots_left_ = 0;
  collision_times_.clear();
}

// --- Acceptor ---

void Replica::NoteFastRange(const Ballot& b, Slot from, Slot to) {
  if (b != promised_ || from.value == 0 || to < from) return;
  if (b != any_ballot_) {
    any_ballot_ = b;
    any_from_ = from;
    any_to_ = to;
    proposed_slots_.clear();
    return;
  }
  // The same coordinator: the window grew, or (after a classic fallback) moved past a gap.
  if (from > any_to_.Next()) any_from_ = from;
  any_to_ = std::max(any_to_, to);
}

void Replica::OnAny(NodeId from, const pb::Any& m, Now now) {
  const Ballot b = FromProto(m.ballot());
  NoteRound(b.round);
  if (b < promised_) return;  // a stale coordinator; its heartbeats get the nack
  NoteFastRange(b, Slot(m.from_slot()), Slot(m.to_slot()));
  LearnCommitIndex(from, Slot(m.commit_index()), b, now);
}

void Replica::OnFastPropose(const pb::FastPropose& m) {
  const Ballot b = FromProto(m.ballot());
  const Slot slot(m.slot());
  const Ballot fast = WithSub(b, kSubFast);
  // A value we do not vote for is reported to the coordinator, which proposes it again once the
  // slot is decided (if it was not chosen there): a command is not lost to a collision, nor to
  // a proposal that overtook the "any" message opening its slot.
  auto reject = [&] {
    if (b != promised_) return;  // another leader's round: lost, like a forward at a failover
    pb::Envelope e;
    pb::FastAccepted* r = e.mutable_fast_accepted();
    *r->mutable_ballot() = ToProto(fast);
    r->set_slot(slot.value);
    *r->mutable_entry() = m.entry();
    r->set_rejected(true);
    Send(b.node, std::move(e));
  };
  // Only in our promised ballot's fast round. The proposer took the slot from that ballot's
  // "any" window, which the coordinator opened once and for all (it never proposes there in a
  // classic round), so a proposal that overtook the "any" message here is still a vote we may
  // cast: waiting for it would only turn a fast slot into a timed-out one.
  if (b != promised_ || slot <= log_.Compacted() || slot <= commit_index_) {
    reject();
    return;
  }
  SlotState& s = log_.Mutable(slot);
  if (s.chosen) {
    reject();
    return;
  }
  if (s.entry != nullptr && s.accepted_ballot >= fast) {  // an acceptor votes once per round
    if (s.accepted_ballot == fast && EntryHash(*s.entry) == EntryHash(m.entry())) {
      SendFastVote(b.node, slot, s);  // a duplicate: our report may have been lost
      return;
    }
    reject();  // another value came first
    return;
  }
  s.accepted_ballot = fast;
  s.entry = std::make_shared<const pb::Entry>(m.entry());
  Persist(PersistOp{PersistOp::Kind::kAccept, fast, slot, s.entry});
  SendFastVote(b.node, slot, s);
}

void Replica::SendFastVote(NodeId coordinator, Slot slot, const SlotState& s) {
  pb::Envelope e;
  pb::FastAccepted* a = e.mutable_fast_accepted();
  *a->mutable_ballot() = ToProto(s.accepted_ballot);
  a->set_slot(slot.value);
  *a->mutable_entry() = *s.entry;
  Send(coordinator, std::move(e));
}

// The coordinator asks what we voted for a slot in its fast or recovery round (a timed-out slot:
// a proposer's messages were lost, or it crashed). No vote: we say so.
void Replica::OnFastQuery(NodeId from, const pb::FastQuery& m) {
  const Ballot b = FromProto(m.ballot());
  const Slot slot(m.slot());
  if (b != promised_ || slot <= log_.Compacted()) return;
  const SlotState* s = log_.Find(slot);
  if (s != nullptr && s->accepted_ballot >= WithSub(b, kSubFast)) {
    SendFastVote(from, slot, *s);
    return;
  }
  pb::Envelope e;
  *e.mutable_fast_accepted()->mutable_ballot() = ToProto(WithSub(b, kSubFast));
  e.mutable_fast_accepted()->set_slot(slot.value);
  e.mutable_fast_accepted()->set_none(true);
  Send(from, std::move(e));
}

// --- Coordinator (the leader) ---

uint32_t Replica::FastQuorum() const {
  return FastQuorumSize(static_cast<uint32_t>(config_.members.size()), config_.bugs);
}

void Replica::ExtendFastRange(Now now) {
  if (role_ != Role::kLeader || !Fast() || classic_slots_left_ > 0) return;
  const Slot target(commit_index_.value + config_.inflight_slots_max);
  // Slide the window in steps of half its size: one "any" per half window, not per slot.
  if (target.value < fast_opened_to_.value + config_.inflight_slots_max / 2) return;
  Slot from = std::max(fast_from_, commit_index_.Next());
  // Classic slots were used past the window (a fallback): the new window starts after them.
  if (next_slot_ > fast_opened_to_.Next()) from = next_slot_;
  if (from > target) return;
  fast_from_ = from;
  fast_opened_to_ = target;
  NoteFastRange(ballot_, from, target);  // our own proposer may use it at once
  ready_.fast_events.push_back(FastEvent{FastEvent::Kind::kOpen, from, target, 0, 0, false});
  BroadcastAny(now);
}

void Replica::BroadcastAny(Now /*now*/) {
  pb::Envelope e;
  pb::Any* a = e.mutable_any();
  *a->mutable_ballot() = ToProto(ballot_);
  a->set_from_slot(fast_from_.value);
  a->set_to_slot(fast_opened_to_.value);
  a->set_commit_index(commit_index_.value);
  Broadcast(std::move(e));
}

void Replica::OnFastAccepted(NodeId from, const pb::FastAccepted& m, Now now) {
  if (role_ != Role::kLeader) return;
  const Ballot b = FromProto(m.ballot());
  if (b.round != ballot_.round || b.node != ballot_.node) return;  // another term's
  const Slot slot(m.slot());
  if (!m.none()) {
    const size_t queued = pending_.size();
    NoteFastValue(slot, std::make_shared<const pb::Entry>(m.entry()));
    if (pending_.size() > queued) ProposePending(now);  // a loser of a decided slot, again
  }
  if (slot <= commit_index_ || inflight_.contains(slot)) return;  // decided, or recovering
  if (const SlotState* own = log_.Find(slot); own != nullptr && own->chosen) return;
  if (!fast_tally_.contains(slot) && fast_tally_.size() >= 4 * config_.inflight_slots_max) {
    return;  // bounded (acceptors vote only inside the window, so this is a safety net)
  }
  FastTally& t = fast_tally_[slot];
  if (t.first_us == 0) t.first_us = now.mono_us;
  if (m.rejected()) return;  // not a vote; but the slot is now watched, so it gets decided
  if (t.votes.contains(from) || t.none.contains(from)) return;  // the first report counts
  if (m.none()) {
    t.none.insert(from);
  } else {
    t.votes[from] = Vote{from, b, std::make_shared<const pb::Entry>(m.entry())};
  }
  EvaluateFastSlot(slot, now, false);
}

// Every value offered for a fast slot is remembered until the slot is decided; then each value
// that was not chosen is proposed again (its commands go back to the leader's queue). Only the
// coordinator does this, once per value and slot, and a proposer offers a value for one slot
// only: so a command is never chosen twice.
void Replica::NoteFastValue(Slot slot, EntryRef entry) {
  if (slot <= log_.Compacted() || entry->noop()) return;
  if (slot.value + 4 * config_.inflight_slots_max < commit_index_.value) return;  // long settled
  auto it = fast_values_.find(slot);
  if (it == fast_values_.end()) {
    if (fast_values_.size() >= 8 * config_.inflight_slots_max) return;  // bounded
    it = fast_values_.emplace(slot, FastValues{}).first;
  }
  const uint64_t hash = EntryHash(*entry);
  if (!it->second.values.emplace(hash, entry).second) return;
  const SlotState* own = log_.Find(slot);
  if (own != nullptr && own->chosen) SettleFastSlot(slot, own->entry);
  if (it->second.settled && hash != it->second.chosen_hash) {
    for (const pb::Command& c : entry->commands()) {
      if (pending_.size() < config_.pending_commands_max) pending_.push_back(c);
    }
  }
}

void Replica::SettleFastSlot(Slot slot, const EntryRef& chosen) {
  auto it = fast_values_.find(slot);
  if (it == fast_values_.end() || it->second.settled) return;
  it->second.settled = true;
  it->second.chosen_hash = EntryHash(*chosen);
  for (const auto& [hash, entry] : it->second.values) {
    if (hash == it->second.chosen_hash) continue;
    for (const pb::Command& c : entry->commands()) {
      if (pending_.size() < config_.pending_commands_max) pending_.push_back(c);
    }
  }
  // Forget settled slots well behind the commit point (bounded).
  while (!fast_values_.empty() && fast_values_.begin()->second.settled &&
         fast_values_.begin()->first.value + 4 * config_.inflight_slots_max < commit_index_.value) {
    fast_values_.erase(fast_values_.begin());
  }
}

void Replica::EvaluateFastSlot(Slot slot, Now now, bool timed_out) {
  auto it = fast_tally_.find(slot);
  if (it == fast_tally_.end()) return;
  FastTally& t = it->second;
  const auto members = static_cast<uint32_t>(config_.members.size());
  const auto reports = static_cast<uint32_t>(t.votes.size() + t.none.size());
  std::map<uint64_t, uint32_t> counts;  // fast-round votes per value
  bool recovery_vote = false;
  for (const auto& [id, vote] : t.votes) {
    if (vote.round.sub == kSubFast) {
      if (++counts[EntryHash(*vote.entry)] >= FastQuorum()) {
        EntryRef entry = vote.entry;
        fast_tally_.erase(it);
        MarkChosen(slot, std::move(entry));
        ProposePending(now);
        return;
      }
    } else {
      recovery_vote = true;
    }
  }
  uint32_t most = 0;
  for (const auto& [hash, count] : counts) most = std::max(most, count);
  const bool collision = most + (members - reports) < FastQuorum();
  if (reports < Quorum() || (!collision && !timed_out && !recovery_vote)) return;
  StartRecovery(slot, now, collision && counts.size() > 1);
}

void Replica::StartRecovery(Slot slot, Now now, bool collision) {
  auto it = fast_tally_.find(slot);
  PAXCRON_ASSERT(it != fast_tally_.end());
  std::vector<Vote> votes;
  for (const auto& [id, vote] : it->second.votes) votes.push_back(vote);
  const auto q_size = static_cast<uint32_t>(it->second.votes.size() + it->second.none.size());
  fast_tally_.erase(it);
  const PickResult pick =
      PickValue(votes, q_size, static_cast<uint32_t>(config_.members.size()), config_.bugs);
  EntryRef entry = pick.entry;
  if (entry == nullptr) {
    auto noop = std::make_shared<pb::Entry>();
    noop->set_noop(true);
    noop->set_stamp_us(last_stamp_us_);
    entry = std::move(noop);
  }
  bool fallback = false;
  if (collision) {
    ready_.fast_events.push_back(
        FastEvent{FastEvent::Kind::kCollision, slot, slot, q_size, pick.candidates, pick.forced});
    collision_times_.push_back(now.mono_us);
    while (collision_times_.size() > kCollisionsForFallback) collision_times_.pop_front();
    if (collision_times_.size() == kCollisionsForFallback &&
        now.mono_us - collision_times_.front() <= kCollisionWindowUs && classic_slots_left_ == 0) {
      classic_slots_left_ = kFallbackSlots;
      collision_times_.clear();
      fallback = true;
      ready_.fast_events.push_back(FastEvent{FastEvent::Kind::kFallback, slot, slot, 0, 0, false});
    }
  }
  ready_.fast_events.push_back(
      FastEvent{FastEvent::Kind::kRecovery, slot, slot, q_size, pick.candidates, pick.forced});
  ProposeAt(slot, std::move(entry), now, kSubRecovery);
  if (fallback) {
    // The rest of the window will not grow: ask about its slots at once rather than let the
    // unused ones stall the classic slots above them until they time out.
    const LocalMicros due = now.mono_us - 2 * config_.heartbeat_interval_us;
    for (Slot s = commit_index_.Next();
         s <= fast_opened_to_ && fast_tally_.size() < 4 * config_.inflight_slots_max;
         s = s.Next()) {
      if (inflight_.contains(s) || fast_tally_.contains(s)) continue;
      if (const SlotState* own = log_.Find(s); own != nullptr && own->chosen) continue;
      fast_tally_[s].first_us = due;
    }
    FastTick(now);
  }
}

// Slots that neither reached a fast quorum nor collided within two heartbeat intervals: ask
// every acceptor that has not reported, then recover from whatever a classic quorum says.
void Replica::FastTick(Now now) {
  const LocalMicros timeout = 2 * config_.heartbeat_interval_us;
  // A hole below a used slot (a proposer's messages were lost, or nobody used the rest of the
  // window before a fallback to classic slots above it) is tracked like the others: after the
  // timeout it is queried and, if nobody voted there, filled with a no-op.
  Slot top = fast_tally_.empty() ? Slot() : fast_tally_.rbegin()->first;
  if (!inflight_.empty()) top = std::max(top, inflight_.rbegin()->first);
  top = std::min(top, fast_opened_to_.Next());
  for (Slot s = commit_index_.Next();
       s < top && fast_tally_.size() < 4 * config_.inflight_slots_max; s = s.Next()) {
    if (inflight_.contains(s) || fast_tally_.contains(s)) continue;
    if (const SlotState* own = log_.Find(s); own != nullptr && own->chosen) continue;
    fast_tally_[s].first_us = now.mono_us;
  }
  std::vector<Slot> due;
  for (auto& [slot, t] : fast_tally_) {
    if (now.mono_us - t.first_us < timeout) continue;
    due.push_back(slot);
  }
  for (Slot slot : due) {
    auto it = fast_tally_.find(slot);
    if (it == fast_tally_.end()) continue;
    FastTally& t = it->second;
    if (t.votes.size() + t.none.size() >= Quorum()) {
      EvaluateFastSlot(slot, now, true);
      continue;
    }
    if (t.queried_us >= 0 && now.mono_us - t.queried_us < config_.heartbeat_interval_us) continue;
    t.queried_us = now.mono_us;
    pb::Envelope e;
    *e.mutable_fast_query()->mutable_ballot() = ToProto(ballot_);
    e.mutable_fast_query()->set_slot(slot.value);
    for (NodeId member : config_.members) {
      if (!t.votes.contains(member) && !t.none.contains(member)) Send(member, e);
    }
  }
  ExtendFastRange(now);
  if (!pending_.empty()) ProposePending(now);  // values re-queued by late reports
}

}  // namespace paxcron::paxos
