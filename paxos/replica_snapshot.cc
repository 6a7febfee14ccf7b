// Snapshots in the replica: compaction of the log behind a snapshot the driver saved, serving
// chunks of it to peers, and fetching a peer's snapshot when what we miss was compacted away.
// The core never holds a whole snapshot: the driver stores the bytes, the core moves slots and
// one chunk at a time (Paxos Made Live, 5.5; etcd raft's MsgSnap, but pulled chunk by chunk).
#include <algorithm>
#include <utility>

#include "paxos/replica.h"

namespace paxcron::paxos {

Status Replica::Compact(Slot snapshot_slot, uint64_t stamp_us, uint64_t keep_slots) {
  if (snapshot_slot > applied_index_) {
    return Status::Error("snapshot slot is beyond what was handed to the driver");
  }
  if (snapshot_slot <= snapshot_slot_) return Status::Ok();  // an older snapshot: nothing new
  snapshot_slot_ = snapshot_slot;
  last_stamp_us_ = std::max(last_stamp_us_, stamp_us);
  const Slot through(snapshot_slot.value > keep_slots ? snapshot_slot.value - keep_slots : 0);
  if (through > log_.Compacted()) {
    log_.TruncatePrefix(through);
    Persist(PersistOp{PersistOp::Kind::kCompact, Ballot{}, through, nullptr});
  }
  return Status::Ok();
}

void Replica::ServeSnapshotChunk(NodeId to, pb::SnapshotChunk chunk) {
  PAXCRON_ASSERT(chunk.data().size() <= config_.snapshot_chunk_bytes);
  PAXCRON_ASSERT(chunk.offset() + chunk.data().size() <= chunk.total_bytes());
  pb::Envelope e;
  *e.mutable_snapshot_chunk() = std::move(chunk);
  Send(to, std::move(e));
}

void Replica::RequestSnapshotChunk(Now now) {
  PAXCRON_ASSERT(fetch_ && !fetch_->complete);
  fetch_->sent_us = now.mono_us;
  pb::Envelope e;
  e.mutable_snapshot_request()->set_slot(fetch_->slot.value);
  e.mutable_snapshot_request()->set_offset(fetch_->offset);
  Send(fetch_->from, std::move(e));
}

void Replica::OnSnapshotChunk(NodeId from, const pb::SnapshotChunk& m, Now now) {
  if (!fetch_ || fetch_->complete || from != fetch_->from) return;  // stale or unasked
  if (m.slot() == 0 || m.slot() <= commit_index_.value) {
    fetch_.reset();  // the peer has none, or we no longer need it
    return;
  }
  if (Slot(m.slot()) != fetch_->slot) {
    // The peer moved on to a newer snapshot (or this is the first chunk): start over with it.
    if (m.offset() != 0) return;
    fetch_->slot = Slot(m.slot());
    fetch_->offset = 0;
  }
  if (m.offset() != fetch_->offset) return;   // a duplicate or a reordered chunk
  if (m.data().empty() && !m.last()) return;  // no progress: let the retry timer act
  fetch_->offset += m.data().size();
  fetch_->unanswered = 0;
  ready_.snapshot_chunks.push_back(m);
  if (m.last()) {
    fetch_->complete = true;
    return;
  }
  RequestSnapshotChunk(now);
}

void Replica::SnapshotTick(Now now) {
  if (!fetch_ || fetch_->complete || now.mono_us - fetch_->sent_us < SnapshotRetryUs()) return;
  if (++fetch_->unanswered > config_.snapshot_fetch_retries) {
    fetch_.reset();  // the peer is gone: the next catch-up starts again, maybe elsewhere
    return;
  }
  RequestSnapshotChunk(now);
}

Status Replica::InstallSnapshot(Slot slot, uint64_t stamp_us, Now now) {
  if (!fetch_ || !fetch_->complete || fetch_->slot != slot) {
    return Status::Error("no completed snapshot fetch for this slot");
  }
  const NodeId from = fetch_->from;
  fetch_.reset();
  if (slot <= applied_index_ || role_ == Role::kLeader) {
    return Status::Error("snapshot no longer needed");
  }
  // Everything up to `slot` is chosen (it was applied somewhere): forget it and go on from there.
  // Values we hold above it stay, and are delivered as soon as the gap after it is filled.
  snapshot_slot_ = slot;
  log_.TruncatePrefix(slot);
  Persist(PersistOp{PersistOp::Kind::kCompact, Ballot{}, slot, nullptr});
  commit_index_ = applied_index_ = slot;
  known_cluster_commit_ = std::max(known_cluster_commit_, slot);
  last_stamp_us_ = std::max(last_stamp_us_, stamp_us);
  catchup_sent_us_ = -1;
  AdvanceCommit();
  MaybeRequestCatchup(from, known_cluster_commit_, now);  // the tail after the snapshot
  return Status::Ok();
}

void Replica::AbortSnapshotFetch() { fetch_.reset(); }

}  // namespace paxcron::paxos
