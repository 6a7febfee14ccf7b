// Snapshots in the simulator: each node snapshots its state machine (the checksum chain, plus
// the cron state in a cron run) every options.snapshot_every_slots applied slots, compacts its
// log behind it, serves it to lagging peers chunk by chunk, and installs a peer's snapshot when
// what it misses was compacted away everywhere it asked. Snapshots are files on the node's
// simulated disk, written, served and received through the storage engine (storage/node_store.h).
#include <fmt/format.h>

#include "sim/node_snapshot.h"
#include "sim/world.h"

namespace paxcron::sim {

void World::MaybeTakeSnapshot(Node& n) {
  if (options_.snapshot_every_slots == 0 ||
      n.applied < n.store->snapshot_slot() + options_.snapshot_every_slots) {
    return;
  }
  pb::NodeSnapshot snap;
  snap.set_slot(n.applied);
  snap.set_stamp_us(n.applied_stamp_us);
  snap.set_checksum(n.checksum);
  if (cron()) {
    *snap.mutable_cron() = n.sm->TakeSnapshot();
  }
  storage::Snapshot file;
  file.slot = n.applied;
  file.stamp_us = n.applied_stamp_us;
  file.data = EncodeNodeSnapshot(snap);
  // Durable before the compaction it allows (the replica's next Ready) reaches the log.
  const Status saved = n.store->SaveSnapshot(file);
  PAXCRON_ASSERT(saved.ok());
  NoteStorageSize(n);
  NoteDiskSize(n);
  ++stats_.snapshots_taken;
  checkers_.OnSnapshotTaken(now_us_, n.id, n.applied, NodeSnapshotDigest(file.data));
  trace_->Emitf(now_us_, n.id, "snapshot", ",\"slot\":{},\"bytes\":{}", n.applied,
                n.store->snapshot_file_bytes());
  const Status st =
      n.replica->Compact(paxos::Slot(n.applied), n.applied_stamp_us, options_.snapshot_keep_slots);
  PAXCRON_ASSERT(st.ok());
}

void World::LoadOwnSnapshot(Node& n, const storage::Snapshot& file) {
  // The file's records and the data's CRC were checked by the store; the digest inside is
  // checked again here, so a damaged snapshot is never loaded.
  Result<pb::NodeSnapshot> decoded = DecodeNodeSnapshot(file.data);
  PAXCRON_ASSERT(decoded.ok() && decoded.value().slot() == file.slot);
  LoadNodeSnapshot(n, decoded.value());
}

void World::LoadNodeSnapshot(Node& n, const pb::NodeSnapshot& snap) {
  n.applied = snap.slot();
  n.checksum = snap.checksum();
  n.applied_stamp_us = snap.stamp_us();
  if (cron()) {
    const Status st = n.sm->LoadSnapshot(snap.cron());
    PAXCRON_ASSERT(st.ok());
  }
}

bool World::HandleSnapshotIo(Node& n, paxos::Ready& ready) {
  bool called = false;
  const uint32_t chunk_max = n.config.snapshot_chunk_bytes;
  for (const paxos::SnapshotRead& read : ready.snapshot_reads) {
    Result<paxos::pb::SnapshotChunk> chunk = n.store->ServeSnapshotChunk(read, chunk_max);
    PAXCRON_ASSERT(chunk.ok());  // the simulated disk fails no read
    n.replica->ServeSnapshotChunk(read.to, std::move(chunk.value()));
    called = true;
  }
  for (const paxos::pb::SnapshotChunk& chunk : ready.snapshot_chunks) {
    // Each chunk goes to the staging file at once: memory holds one chunk, whatever the size.
    if (Status s = n.store->ReceiveSnapshotChunk(chunk.offset(), chunk.data()); !s.ok()) {
      trace_->Emitf(now_us_, n.id, "snapshot_rejected", ",\"slot\":{},\"reason\":{}", chunk.slot(),
                    JsonString(s.message()));
      n.store->AbortReceivedSnapshot();
      n.replica->AbortSnapshotFetch();
      called = true;
      continue;
    }
    if (!chunk.last()) continue;
    called = true;
    Result<storage::Snapshot> file = n.store->FinishReceivedSnapshot(chunk.slot());
    Result<pb::NodeSnapshot> decoded =
        file.ok() ? DecodeNodeSnapshot(file.value().data) : Result<pb::NodeSnapshot>(file.status());
    if (decoded.ok() && decoded.value().slot() != chunk.slot()) {
      decoded = Status::Error("the snapshot inside does not hold the announced slot");
    }
    if (!decoded.ok()) {
      trace_->Emitf(now_us_, n.id, "snapshot_rejected", ",\"slot\":{},\"reason\":{}", chunk.slot(),
                    JsonString(decoded.status().message()));
      n.store->AbortReceivedSnapshot();
      n.replica->AbortSnapshotFetch();
      continue;
    }
    const pb::NodeSnapshot& snap = decoded.value();
    if (!n.replica->InstallSnapshot(paxos::Slot(snap.slot()), snap.stamp_us(), NowOf(n)).ok()) {
      n.store->AbortReceivedSnapshot();
      continue;  // no longer needed
    }
    // Durable first (the replica's log truncation is in its next Ready), then loaded.
    const Status adopted = n.store->AdoptReceivedSnapshot(file.value());
    PAXCRON_ASSERT(adopted.ok());
    NoteStorageSize(n);
    NoteDiskSize(n);
    const uint64_t applied_before = n.applied;
    // Output still queued behind the disk holds only slots the replica had handed over before,
    // all below the snapshot (InstallSnapshot() accepts nothing else): the snapshot covers them.
    for (DiskBatch& batch : n.disk) {
      for (const paxos::Committed& c : batch.committed) PAXCRON_ASSERT(c.slot.value < snap.slot());
      batch.committed.clear();
    }
    if (cron()) ResetCron(n);
    LoadNodeSnapshot(n, snap);
    ++stats_.snapshots_installed;
    trace_->Emitf(now_us_, n.id, "snapshot_install", ",\"slot\":{},\"bytes\":{},\"from_slot\":{}",
                  snap.slot(), file.value().file_bytes, applied_before);
    checkers_.OnSnapshotInstalled(now_us_, n.id, snap.slot(), snap.checksum());
    // Probes inside the snapshot count as applied by this node (liveness).
    if (liveness_phase_) {
      for (const auto& [id, slot] : probe_slot_) {
        if (slot > applied_before && slot <= snap.slot()) CountProbeApplied(id);
      }
    }
  }
  return called;
}

}  // namespace paxcron::sim
