// Snapshots in the simulator: each node snapshots its state machine (the checksum chain, plus
// the cron state in a cron run) every options.snapshot_every_slots applied slots, compacts its
// log behind it, serves it to lagging peers chunk by chunk, and installs a peer's snapshot when
// what it misses was compacted away everywhere it asked. A snapshot is written atomically (the
// bytes and durable.snapshot_slot together), like a file fsynced and renamed into place.
#include <fmt/format.h>

#include "sim/node_snapshot.h"
#include "sim/world.h"

namespace paxcron::sim {

void World::MaybeTakeSnapshot(Node& n) {
  if (options_.snapshot_every_slots == 0 ||
      n.applied < n.durable.snapshot_slot.value + options_.snapshot_every_slots) {
    return;
  }
  pb::NodeSnapshot snap;
  snap.set_slot(n.applied);
  snap.set_stamp_us(n.applied_stamp_us);
  snap.set_checksum(n.checksum);
  if (cron()) {
    *snap.mutable_cron() = n.sm->TakeSnapshot();
  }
  n.snapshot = EncodeNodeSnapshot(snap);
  n.durable.snapshot_slot = paxos::Slot(n.applied);
  n.durable.snapshot_stamp_us = n.applied_stamp_us;
  ++stats_.snapshots_taken;
  checkers_.OnSnapshotTaken(now_us_, n.id, n.applied, NodeSnapshotDigest(n.snapshot));
  trace_->Emitf(now_us_, n.id, "snapshot", ",\"slot\":{},\"bytes\":{}", n.applied,
                n.snapshot.size());
  const Status st =
      n.replica->Compact(paxos::Slot(n.applied), n.applied_stamp_us, options_.snapshot_keep_slots);
  PAXCRON_ASSERT(st.ok());
}

void World::LoadOwnSnapshot(Node& n) {
  if (n.durable.snapshot_slot.value == 0) return;
  // The simulated disk does not damage snapshots (yet): a decode failure is a simulator bug.
  Result<pb::NodeSnapshot> decoded = DecodeNodeSnapshot(n.snapshot);
  PAXCRON_ASSERT(decoded.ok());
  LoadNodeSnapshot(n, decoded.value());
}

void World::LoadNodeSnapshot(Node& n, const pb::NodeSnapshot& snap) {
  PAXCRON_ASSERT(snap.slot() == n.durable.snapshot_slot.value);
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
    paxos::pb::SnapshotChunk chunk;
    const uint64_t slot = n.durable.snapshot_slot.value;
    if (slot == 0) {
      chunk.set_last(true);  // slot 0: none here
    } else {
      // A peer still fetching an older snapshot starts over with the newest one (Paxos Made
      // Live, 5.5: a lagging replica may need a newer snapshot than the one it began with).
      uint64_t offset = read.offset;
      if ((read.slot.value != 0 && read.slot.value != slot) || offset > n.snapshot.size()) {
        offset = 0;
      }
      const uint64_t len = std::min<uint64_t>(chunk_max, n.snapshot.size() - offset);
      chunk.set_slot(slot);
      chunk.set_offset(offset);
      chunk.set_data(n.snapshot.substr(offset, len));
      chunk.set_total_bytes(n.snapshot.size());
      chunk.set_last(offset + len == n.snapshot.size());
    }
    n.replica->ServeSnapshotChunk(read.to, std::move(chunk));
    called = true;
  }
  for (const paxos::pb::SnapshotChunk& chunk : ready.snapshot_chunks) {
    if (chunk.offset() == 0) n.staging.clear();
    PAXCRON_ASSERT(chunk.offset() == n.staging.size());  // the replica passes chunks in order
    n.staging += chunk.data();
    if (!chunk.last()) continue;
    const std::string bytes = std::move(n.staging);
    n.staging.clear();
    called = true;
    Result<pb::NodeSnapshot> decoded = DecodeNodeSnapshot(bytes);
    if (!decoded.ok() || decoded.value().slot() != chunk.slot()) {
      trace_->Emitf(now_us_, n.id, "snapshot_rejected", ",\"slot\":{},\"reason\":\"{}\"",
                    chunk.slot(), decoded.ok() ? "slot mismatch" : decoded.status().message());
      n.replica->AbortSnapshotFetch();
      continue;
    }
    const pb::NodeSnapshot& snap = decoded.value();
    if (!n.replica->InstallSnapshot(paxos::Slot(snap.slot()), snap.stamp_us(), NowOf(n)).ok()) {
      continue;  // no longer needed
    }
    // Durable first (the replica's log truncation is in its next Ready), then loaded.
    n.snapshot = bytes;
    n.durable.snapshot_slot = paxos::Slot(snap.slot());
    n.durable.snapshot_stamp_us = snap.stamp_us();
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
                  snap.slot(), bytes.size(), applied_before);
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
