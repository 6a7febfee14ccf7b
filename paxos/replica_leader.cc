// The proposer's side of the replica: campaigning (phase 1a), recovery of every value that might
// have been chosen, proposing with a pipelined window (phase 2a), commit detection, heartbeats
// and the master lease.
#include <algorithm>

#include "paxos/ballot.h"
#include "paxos/fast_pick.h"
#include "paxos/lease.h"
#include "paxos/replica.h"

namespace paxcron::paxos {

void Replica::StartCampaign(Now now) {
  // A leader that learns of a higher ballot re-prepares with a higher one and keeps its lease
  // (Paxos Made Live, 5.2: "boosting" the master's sequence number).
  const bool boosting = role_ == Role::kLeader || (role_ == Role::kCandidate && lease_.held);
  role_ = Role::kCandidate;
  inflight_.clear();
  ballot_ = Ballot{std::max(max_round_seen_, promised_.round) + 1, config_.self};
  NoteRound(ballot_.round);
  // Promise our own ballot durably before any prepare leaves (they wait in the same Ready): a
  // candidate that crashes and restarts then never tries the same ballot twice, even if other
  // acceptors promised it (Paxos Made Simple, 2.5: a proposer remembers its highest proposal).
  PAXCRON_ASSERT(ballot_ > promised_);
  promised_ = ballot_;
  Persist(PersistOp{PersistOp::Kind::kPromise, ballot_, Slot(), nullptr});
  promises_.clear();
  recovered_.clear();
  recovered_votes_.clear();
  ResetFastLeader();
  recovered_stamp_us_ = 0;
  prepare_from_ = commit_index_.Next();
  if (!boosting) leader_hint_ = NodeId(0);
  lease_requests_.clear();
  clock_probes_.clear();
  pb::Envelope e;
  pb::Prepare* p = e.mutable_prepare();
  *p->mutable_ballot() = ToProto(ballot_);
  p->set_from_slot(prepare_from_.value);
  Broadcast(std::move(e));
  ResetElectionTimer(now);  // the round's deadline: no quorum by then, try a higher ballot
}

void Replica::OnPromise(NodeId from, const pb::Promise& m, Now now) {
  if (role_ != Role::kCandidate || FromProto(m.ballot()) != ballot_) return;  // stale
  if (!promises_.insert(from).second) return;                                 // duplicate
  for (const pb::SlotValue& v : m.values()) {
    const Slot slot(v.slot());
    if (slot < prepare_from_) continue;
    recovered_stamp_us_ = std::max<uint64_t>(recovered_stamp_us_, v.entry().stamp_us());
    if (Fast() && !v.chosen()) {  // every vote counts for the value-picking rule
      recovered_votes_[slot].push_back(
          Vote{from, FromProto(v.ballot()), std::make_shared<const pb::Entry>(v.entry())});
    }
    auto [it, inserted] = recovered_.try_emplace(slot, v);
    if (inserted || it->second.chosen()) continue;
    // Keep a chosen value, else the value accepted in the highest ballot (Paxos Made Simple).
    if (v.chosen() || FromProto(v.ballot()) > FromProto(it->second.ballot())) it->second = v;
  }
  if (m.commit_index() > commit_index_.value) {
    known_cluster_commit_ = std::max(known_cluster_commit_, Slot(m.commit_index()));
  }
  if (promises_.size() >= Quorum()) BecomeLeader(now);
}

void Replica::BecomeLeader(Now now) {
  PAXCRON_ASSERT(role_ == Role::kCandidate);
  PAXCRON_ASSERT(promises_.size() >= Quorum());
  role_ = Role::kLeader;
  leader_hint_ = config_.self;
  campaign_retry_us_ = 0;
  leader_since_us_ = now.mono_us;
  fetch_.reset();                         // a leader learns every slot through its own ballot
  lease_acquired_in_term_ = lease_.held;  // a boosting leader keeps the lease it had
  if (config_.bugs.no_phase1_recovery) {  // the bug: forget what was reported
    recovered_.clear();
    recovered_votes_.clear();
  }
  last_stamp_us_ = std::max(last_stamp_us_, recovered_stamp_us_);
  Slot last = commit_index_;
  if (!recovered_.empty()) last = std::max(last, recovered_.rbegin()->first);
  // Re-propose every value that might have been chosen, in our ballot; fill holes with no-ops.
  for (Slot s = commit_index_.Next(); s <= last; s = s.Next()) {
    auto it = recovered_.find(s);
    const SlotState* own = log_.Find(s);
    if (s <= commit_index_ || (own != nullptr && own->chosen)) continue;
    if (it != recovered_.end() && it->second.chosen()) {
      MarkChosen(s, std::make_shared<const pb::Entry>(it->second.entry()));
    } else if (it != recovered_.end() && Fast()) {
      // Fast Paxos, section 3.1: the highest round may be a fast one with several values.
      const PickResult pick =
          PickValue(recovered_votes_[s], static_cast<uint32_t>(promises_.size()),
                    static_cast<uint32_t>(config_.members.size()), config_.bugs);
      PAXCRON_ASSERT(pick.entry != nullptr);
      ProposeAt(s, pick.entry, now);
    } else if (it != recovered_.end()) {
      ProposeAt(s, std::make_shared<const pb::Entry>(it->second.entry()), now);
    } else {
      auto noop = std::make_shared<pb::Entry>();
      noop->set_noop(true);
      noop->set_stamp_us(last_stamp_us_);
      ProposeAt(s, std::move(noop), now);
    }
  }
  next_slot_ = last.Next();
  recovered_.clear();
  recovered_votes_.clear();
  if (Fast()) {
    // A no-op stamped with our clock first (Raft's no-op at the start of a term): followers
    // stamp their fast proposals with the newest cluster time they learned, so they learn ours.
    last_stamp_us_ = std::max<uint64_t>(last_stamp_us_, static_cast<uint64_t>(now.wall_us));
    auto noop = std::make_shared<pb::Entry>();
    noop->set_noop(true);
    noop->set_stamp_us(last_stamp_us_);
    last = last.Next();
    ProposeAt(last, std::move(noop), now);
    next_slot_ = last.Next();
    // Phase 1 found every slot above `last` free: those may be opened for fast rounds.
    fast_from_ = last.Next();
    fast_opened_to_ = last;
  }
  // The first heartbeat asks for the lease; it runs from when that heartbeat is sent.
  next_heartbeat_us_ = now.mono_us;
  SendHeartbeats(now);
  ProposePending(now);
  ExtendFastRange(now);
}

void Replica::ProposeAt(Slot slot, EntryRef entry, Now now, uint32_t sub) {
  PAXCRON_ASSERT(role_ == Role::kLeader);
  PAXCRON_ASSERT(slot > commit_index_);
  // Fast Paxos: a classic proposal never lands in a slot opened for the fast round.
  PAXCRON_ASSERT(sub != kSubClassic || !Fast() || slot < fast_from_ || slot > fast_opened_to_);
  Ballot b = ballot_;
  b.sub = sub;
  pb::Envelope e;
  pb::Accept* a = e.mutable_accept();
  *a->mutable_ballot() = ToProto(b);
  a->set_slot(slot.value);
  *a->mutable_entry() = *entry;
  a->set_commit_index(commit_index_.value);
  inflight_[slot] = Inflight{std::move(entry), {}, now.mono_us, sub};
  Broadcast(std::move(e));
}

void Replica::ProposePending(Now now) {
  next_slot_ = std::max(next_slot_, commit_index_.Next());  // never below what is known chosen
  if (Fast() && role_ == Role::kLeader) {
    ExtendFastRange(now);
    ProposePendingFast(now);
    // Classic slots only after every slot ever opened for the fast round.
    next_slot_ = std::max(next_slot_, fast_opened_to_.Next());
  }
  // In fast mode the leader orders commands in classic rounds only during a fallback.
  while (role_ == Role::kLeader && !pending_.empty() &&
         inflight_.size() < config_.inflight_slots_max && (!Fast() || classic_slots_left_ > 0)) {
    // Cluster time never goes back, whatever the leader's wall clock says (LogCabin ClusterClock).
    last_stamp_us_ = std::max<uint64_t>(last_stamp_us_, static_cast<uint64_t>(now.wall_us));
    auto entry = std::make_shared<pb::Entry>();
    entry->set_stamp_us(last_stamp_us_);
    for (uint32_t i = 0; i < config_.batch_commands_max && !pending_.empty(); ++i) {
      *entry->add_commands() = std::move(pending_.front());
      pending_.pop_front();
    }
    const Slot slot = next_slot_;
    next_slot_ = next_slot_.Next();
    ProposeAt(slot, std::move(entry), now);
    if (classic_slots_left_ > 0 && --classic_slots_left_ == 0) ExtendFastRange(now);
  }
}

void Replica::OnAccepted(NodeId from, const pb::Accepted& m, Now now) {
  const Ballot b = FromProto(m.ballot());
  if (role_ != Role::kLeader || b.round != ballot_.round || b.node != ballot_.node) return;
  auto it = inflight_.find(Slot(m.slot()));
  if (it == inflight_.end()) return;    // chosen already, or from an earlier term
  if (b.sub != it->second.sub) return;  // Fast Paxos: a vote of another round of ours
  it->second.acks.insert(from);
  if (it->second.acks.size() < Quorum()) return;
  EntryRef entry = std::move(it->second.entry);
  inflight_.erase(it);
  MarkChosen(Slot(m.slot()), std::move(entry));
  ProposePending(now);
}

void Replica::OnNack(NodeId from, const pb::Nack& m, Now now) {
  const Ballot promised = FromProto(m.promised());
  NoteRound(promised.round);
  if (FromProto(m.ballot()) != ballot_) return;  // about an older ballot of ours
  if (role_ == Role::kCandidate) {
    if (m.lease_remaining_us() > 0) {
      // Refused because a lease runs: come back just after it ends, with a little jitter.
      campaign_retry_us_ = std::max(campaign_retry_us_,
                                    now.mono_us + static_cast<LocalMicros>(m.lease_remaining_us()) +
                                        static_cast<LocalMicros>(rng_.Range(1'000, 20'000)));
    }
    if (m.candidate_behind()) {
      catchup_sent_us_ = -1;
      MaybeRequestCatchup(from, Slot(m.commit_index()), now);
    }
    return;
  }
  if (role_ == Role::kLeader && promised > ballot_) StartCampaign(now);  // boost, keep the lease
}

void Replica::OnHeartbeatReply(NodeId from, const pb::HeartbeatReply& m, Now now) {
  if (role_ != Role::kLeader || FromProto(m.ballot()) != ballot_) return;
  if (auto probe = clock_probes_.find(m.lease_seq());
      probe != clock_probes_.end() && from != config_.self) {
    // The reading was taken between our send and now, so our wall clock read at most rtt (on
    // the monotonic clock) less than it does now. Measured back from now, not from the wall
    // reading at the send: if our wall clock stepped in between, the send's reading is in the
    // old frame, and a reply straddling a jump would look like agreement with the jumped clock.
    const int64_t rtt = now.mono_us - probe->second.sent_us;
    const int64_t hi = m.wall_us() - (now.wall_us - rtt);
    clock_samples_[from] =
        ClockSample{OffsetInterval{hi - rtt, hi}, now.mono_us, now.wall_us - now.mono_us};
  }
  if (m.lease_granted()) {
    auto req = lease_requests_.find(m.lease_seq());
    if (req != lease_requests_.end()) {
      req->second.grants.insert(from);
      CountLeaseGrant(from, m.lease_seq(), now);
    }
  }
}

// A quorum granted request `seq`: the lease holds until the request's SEND time plus the holder's
// shrunken span (PITFALLS, "Leases"; lease.h).
void Replica::CountLeaseGrant(NodeId /*from*/, uint64_t seq, Now now) {
  auto req = lease_requests_.find(seq);
  if (req == lease_requests_.end() || req->second.grants.size() < Quorum()) return;
  const LocalMicros expiry =
      req->second.sent_us + HolderLeaseSpanUs(config_.lease_duration_us, config_.drift_bound_ppm,
                                              config_.lease_epsilon_us,
                                              config_.bugs.lease_no_drift_margin);
  lease_requests_.erase(lease_requests_.begin(), std::next(req));  // older ones add nothing
  if (expiry <= now.mono_us) return;
  lease_acquired_in_term_ = true;
  if (!lease_.held) {
    lease_.held = true;
    lease_.epoch = ballot_.ToEpoch();
    lease_.expiry_us = expiry;
  }
  lease_.expiry_us = std::max(lease_.expiry_us, expiry);
}

// A reading no older than one lease, moved to now: our wall clock may have stepped since (its
// change against our monotonic clock), and the member's may have drifted (the bound).
// Widened by the tolerance.
std::optional<OffsetInterval> Replica::SampleNow(const ClockSample& sample, Now now) const {
  const int64_t age = now.mono_us - sample.at_us;
  if (age > config_.lease_duration_us) return std::nullopt;
  const int64_t our_step = (now.wall_us - now.mono_us) - sample.wall_minus_mono_us;
  const int64_t widen = age * static_cast<int64_t>(config_.drift_bound_ppm) / 1'000'000 + 1 +
                        config_.clock_tolerance_us / 2;
  return OffsetInterval{sample.offset.lo_us - our_step - widen,
                        sample.offset.hi_us - our_step + widen};
}

std::vector<OffsetInterval> Replica::ClockSources(Now now) const {
  std::vector<OffsetInterval> sources = {
      OffsetInterval{-config_.clock_tolerance_us / 2, config_.clock_tolerance_us / 2}};
  for (const auto& [id, sample] : clock_samples_) {
    if (std::optional<OffsetInterval> o = SampleNow(sample, now)) sources.push_back(*o);
  }
  return sources;
}

ClockJudgement Replica::JudgeOwnClock(Now now) const {
  if (role_ != Role::kLeader) return ClockJudgement{};
  return paxos::JudgeOwnClock(ClockSources(now), static_cast<uint32_t>(config_.members.size()),
                              Quorum());
}

NodeId Replica::ClockAgreeingPeer(Now now) const {
  if (role_ != Role::kLeader) return NodeId(0);
  const std::vector<OffsetInterval> sources = ClockSources(now);
  for (const auto& [id, sample] : clock_samples_) {
    // One that a majority's readings, as we see them, would agree with: handing over to another
    // member off the majority's time (two jumped clocks) would only bounce leadership back.
    const std::optional<OffsetInterval> o = SampleNow(sample, now);
    if (o.has_value() && AgreeingWith(sources, *o) >= Quorum()) return id;
  }
  return NodeId(0);
}

void Replica::SendHeartbeats(Now now) {
  const uint64_t seq = ++lease_seq_;
  lease_requests_[seq] = LeaseRequest{now.mono_us, {}};
  // Requests older than one lease duration can no longer extend anything: drop them (bounded).
  while (!lease_requests_.empty() &&
         (lease_requests_.begin()->second.sent_us + config_.lease_duration_us < now.mono_us ||
          lease_requests_.size() > 256)) {
    lease_requests_.erase(lease_requests_.begin());
  }
  pb::Envelope e;
  pb::Heartbeat* h = e.mutable_heartbeat();
  *h->mutable_ballot() = ToProto(ballot_);
  h->set_commit_index(commit_index_.value);
  h->set_lease_seq(seq);
  h->set_lease_duration_us(static_cast<uint64_t>(config_.lease_duration_us));
  h->set_wall_us(now.wall_us);
  if (Fast() && fast_opened_to_ >= fast_from_ && fast_from_.value > 0) {
    h->set_fast_from(fast_from_.value);  // acceptors that restarted learn the window again
    h->set_fast_to(fast_opened_to_.value);
  }
  clock_probes_[seq] = ClockProbe{now.mono_us};
  while (clock_probes_.size() > 64) clock_probes_.erase(clock_probes_.begin());
  Broadcast(std::move(e));
  next_heartbeat_us_ = now.mono_us + config_.heartbeat_interval_us;
}

// Accepts can be lost; a slot that never reaches a quorum would stall the window forever.
void Replica::RetransmitAccepts(Now now) {
  for (auto& [slot, inflight] : inflight_) {
    if (now.mono_us - inflight.sent_us < config_.heartbeat_interval_us) continue;
    inflight.sent_us = now.mono_us;
    pb::Envelope e;
    pb::Accept* a = e.mutable_accept();
    Ballot b = ballot_;
    b.sub = inflight.sub;
    *a->mutable_ballot() = ToProto(b);
    a->set_slot(slot.value);
    *a->mutable_entry() = *inflight.entry;
    a->set_commit_index(commit_index_.value);
    for (NodeId member : config_.members) {
      if (!inflight.acks.contains(member)) Send(member, e);
    }
  }
}

void Replica::LeaderTick(Now now) {
  PAXCRON_ASSERT(role_ == Role::kLeader);
  // A leader that cannot renew its lease steps down (Chubby does the same); a new leader gets
  // one lease duration to collect its first grants (they may be delayed or lost).
  if (!HoldsLease(now.mono_us) &&
      (lease_acquired_in_term_ || now.mono_us - leader_since_us_ >= config_.lease_duration_us)) {
    BecomeFollower(NodeId(0), now);
    return;
  }
  if (now.mono_us >= next_heartbeat_us_) {
    SendHeartbeats(now);
    RetransmitAccepts(now);
  }
  if (Fast()) FastTick(now);
}

}  // namespace paxcron::paxos
