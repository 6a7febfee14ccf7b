// Driving one simulated node: the driver contract of paxos/replica.h (persist, then send, then
// apply), a disk with fsync latency, crashes that lose unsynced writes, restarts from durable
// state, and tracking of each node's role and lease in true time for the checkers and the trace.
#include <fmt/format.h>

#include "common/hash.h"
#include "paxos/entry_hash.h"
#include "sim/world.h"
#include "storage/record_format.h"
#include "storage/segment_log.h"
#include "storage/snapshot_store.h"

namespace paxcron::sim {
namespace {

using paxos::pb::Entry;

constexpr int64_t kWritebackIntervalUs = 200'000;  // ack-before-persist: page cache flush period
constexpr const char* kDataDir = "/data";          // on each node's simulated disk

const char* MessageType(const paxos::pb::Envelope& m) {
  using E = paxos::pb::Envelope;
  switch (m.body_case()) {
    case E::kPrepare:
      return "prepare";
    case E::kPromise:
      return "promise";
    case E::kAccept:
      return "accept";
    case E::kAccepted:
      return "accepted";
    case E::kNack:
      return "nack";
    case E::kHeartbeat:
      return "heartbeat";
    case E::kHeartbeatReply:
      return "heartbeat_reply";
    case E::kCatchupRequest:
      return "catchup_request";
    case E::kCatchupReply:
      return "catchup_reply";
    case E::kForward:
      return "forward";
    case E::kTimeoutNow:
      return "timeout_now";
    case E::kSnapshotRequest:
      return "snapshot_request";
    case E::kSnapshotChunk:
      return "snapshot_chunk";
    case E::kAny:
      return "any";
    case E::kFastPropose:
      return "fast_propose";
    case E::kFastAccepted:
      return "fast_accepted";
    case E::kFastQuery:
      return "fast_query";
    case E::BODY_NOT_SET:
      return "empty";
  }
  return "?";
}

}  // namespace

paxos::Now World::NowOf(Node& n) {
  return paxos::Now{n.clock.Mono(now_us_), n.clock.Wall(now_us_, clock_rng_)};
}

std::unique_ptr<paxos::Replica> World::NewReplica(Node& n, const paxos::DurableState& durable) {
  return std::make_unique<paxos::Replica>(n.config, node_rng_.Next(), durable, NowOf(n));
}

bool World::StartFromDisk(Node& n) {
  PAXCRON_ASSERT(n.store == nullptr);
  storage::NodeStoreOptions store_options;
  store_options.log.segment_bytes = options_.segment_bytes;
  storage::RecoveredState recovered;
  Result<std::unique_ptr<storage::NodeStore>> store =
      storage::NodeStore::Open(*n.fs, kDataDir, store_options, &recovered);
  if (!store.ok()) {
    // Never a guess: the node refuses to start and stays down, like a real one would.
    n.broken = true;
    ++stats_.disk_damage_found;
    trace_->Emitf(now_us_, n.id, "disk_damage", ",\"error\":{}",
                  JsonString(store.status().message()));
    return false;
  }
  n.store = std::move(store.value());
  for (const std::string& w : recovered.warnings) {
    ++stats_.torn_tails;
    trace_->Emitf(now_us_, n.id, "torn_tail", ",\"warning\":{}", JsonString(w));
  }
  if (recovered.snapshot) LoadOwnSnapshot(n, *recovered.snapshot);
  n.replica = NewReplica(n, recovered.durable);
  return true;
}

void World::DamageDisk(const FaultEvent& f) {
  PAXCRON_ASSERT(f.node >= 1 && f.node <= options_.nodes);
  Node& n = nodes_[f.node];
  const std::string prefix = std::string(kDataDir) + "/";
  std::vector<std::string> names;
  uint64_t last_segment = 0;
  for (const std::string& path : n.fs->DurableNames()) {
    if (!path.starts_with(prefix)) continue;
    const std::string_view name = std::string_view(path).substr(prefix.size());
    // The files that hold state (temporary files hold none yet).
    if (storage::ParseSegmentName(name) != 0 || name == "meta" ||
        storage::ParseSnapshotFileName(name) != 0) {
      names.push_back(path);
    }
    last_segment = std::max(last_segment, storage::ParseSegmentName(name));
  }
  // Each file with the bytes a flip may hit: all of it, except the last record of the segment
  // being appended to, which no framing can tell apart from a torn append (a real disk's own
  // sector checksums are what guard it).
  std::vector<std::pair<std::string, uint64_t>> targets;
  for (const std::string& path : names) {
    Result<std::string> bytes = n.fs->DurableContents(path);
    PAXCRON_ASSERT(bytes.ok());
    uint64_t limit = bytes.value().size();
    if (storage::ParseSegmentName(std::string_view(path).substr(prefix.size())) == last_segment) {
      const storage::SegmentScan scan = storage::ScanSegment(bytes.value(), path);
      limit = scan.records.empty()
                  ? 0
                  : scan.valid_bytes - storage::kRecordHeaderBytes - scan.records.back().size();
    }
    if (limit > 0) targets.emplace_back(path, limit);
  }
  if (targets.empty()) return;
  const auto& [path, limit] = targets[f.mask % targets.size()];
  const uint64_t offset = (f.mask >> 20) % limit;
  const Status st = n.fs->CorruptByte(path, offset);
  PAXCRON_ASSERT(st.ok());
  ++stats_.disk_flips;
  trace_->Emitf(now_us_, n.id, "disk_flip", ",\"file\":{},\"offset\":{}", JsonString(path), offset);
}

void World::NoteStorageSize(Node& n) {
  const storage::PaxosStore& p = n.store->paxos();
  stats_.peak_log_bytes = std::max(stats_.peak_log_bytes, p.log().total_bytes());
  stats_.peak_log_slots =
      std::max(stats_.peak_log_slots,
               p.last_slot().value - std::min(p.last_slot().value, p.compacted_through().value));
  stats_.peak_snapshot_bytes = std::max(stats_.peak_snapshot_bytes, n.store->snapshot_file_bytes());
}

void World::NoteDiskSize(Node& n) {
  // The disk is fullest right after a snapshot is written, before the compaction it allows.
  stats_.peak_disk_bytes = std::max(stats_.peak_disk_bytes, n.fs->TotalBytes());
}

void World::Pump(Node& n) {
  // The cron leader loop may propose, which gives the replica new output: loop, boundedly.
  for (int round = 0; round < 16; ++round) {
    HandleReady(n);
    if (!cron() || !CronStep(n)) return;
  }
}

void World::HandleReady(Node& n) {
  PAXCRON_ASSERT(n.up);
  // Installing a fetched snapshot gives the replica new output: loop, boundedly.
  for (int round = 0; round < 4; ++round) {
    paxos::Ready ready = n.replica->TakeReady();
    ProcessReady(n, ready);
    if (!HandleSnapshotIo(n, ready)) return;
  }
}

void World::TraceFastEvents(Node& n, const paxos::Ready& ready) {
  using K = paxos::FastEvent::Kind;
  for (const paxos::FastEvent& f : ready.fast_events) {
    switch (f.kind) {
      case K::kOpen:
        ++stats_.fast_windows;
        trace_->Emitf(now_us_, n.id, "fast_round", ",\"from\":{},\"to\":{}", f.from.value,
                      f.to.value);
        break;
      case K::kCollision:
        ++stats_.fast_collisions;
        trace_->Emitf(now_us_, n.id, "collision", ",\"slot\":{},\"reports\":{},\"values\":{}",
                      f.from.value, f.reports, f.candidates);
        break;
      case K::kRecovery:
        ++stats_.fast_recoveries;
        trace_->Emitf(now_us_, n.id, "recovery",
                      ",\"slot\":{},\"reports\":{},\"values\":{},\"forced\":{}", f.from.value,
                      f.reports, f.candidates, f.forced);
        break;
      case K::kFallback:
        ++stats_.fast_fallbacks;
        trace_->Emitf(now_us_, n.id, "fast_fallback", ",\"slot\":{}", f.from.value);
        break;
    }
  }
}

void World::ProcessReady(Node& n, paxos::Ready& ready) {
  if (!ready.fast_events.empty()) TraceFastEvents(n, ready);
  if (!ready.Empty() && (!ready.persist.empty() || !ready.committed.empty() || !n.disk.empty())) {
    if (options_.bugs.ack_before_persist) {
      // The bug: writes sit in a volatile cache until the next periodic flush, but replies and
      // applies go ahead as if they were durable.
      const int64_t flush_at = (now_us_ / kWritebackIntervalUs + 1) * kWritebackIntervalUs;
      for (auto& op : ready.persist) n.writeback.emplace_back(flush_at, std::move(op));
      for (auto& m : ready.messages) SendMessage(m);
      for (const auto& c : ready.committed) ApplyCommitted(n, c, true);
    } else if (ready.persist.empty() && n.disk.empty()) {
      // Nothing new to make durable (a restart re-delivering what it loaded from disk).
      for (auto& m : ready.messages) SendMessage(m);
      for (const auto& c : ready.committed) ApplyCommitted(n, c, false);
    } else {
      // The writes go to the disk now (volatile: a crash may lose or tear them); one fsync for
      // the whole batch completes later, after any still in flight (group commit). Output with
      // nothing to write still waits for earlier writes: its replies may restate them.
      const Status staged = n.store->Stage(ready.persist);
      PAXCRON_ASSERT(staged.ok());
      NoteStorageSize(n);
      const int64_t start = n.disk.empty() ? now_us_ : std::max(now_us_, n.disk.back().done_us);
      const int64_t done = start + (ready.persist.empty() ? 0 : disk_rng_.RangeSigned(100, 1'000));
      n.disk.push_back(DiskBatch{done, std::move(ready.messages), std::move(ready.committed)});
      Schedule(done, Event::Kind::kDiskDone, n.id, 0);
    }
  } else {
    for (auto& m : ready.messages) SendMessage(m);
  }
  TrackRoleAndLease(n);
  const int64_t wake = std::max(now_us_, n.clock.TrueAt(ready.next_wakeup_us));
  if (wake != n.wakeup_at_us) {
    n.wakeup_at_us = wake;
    Schedule(wake, Event::Kind::kWakeup, n.id, static_cast<uint64_t>(wake));
  }
}

void World::SendMessage(const paxos::Outgoing& out) {
  const paxos::pb::Envelope& m = *out.envelope;
  const uint32_t to = out.to.value;
  const uint64_t id = ++message_id_;
  const Delivery d = network_.Send(m.from(), to, now_us_, net_rng_);
  const bool loopback = m.from() == to;
  if (!loopback) {
    ++stats_.messages_sent;
    if (trace_->enabled()) {
      trace_->Emitf(now_us_, m.from(), "send", ",\"id\":{},\"to\":{},\"type\":\"{}\"", id, to,
                    MessageType(m));
    }
  }
  if (d.dropped) {
    ++stats_.messages_dropped;
    if (trace_->enabled()) {
      trace_->Emitf(now_us_, m.from(), "drop", ",\"id\":{},\"reason\":\"{}\"", id, d.drop_reason);
    }
    return;
  }
  for (int i = 0; i < d.copies; ++i) {
    Schedule(d.at_us[i], Event::Kind::kDeliver, to, id, out.envelope);
  }
}

void World::ApplyCommitted(Node& n, const paxos::Committed& c, bool traced) {
  PAXCRON_ASSERT(c.slot.value == n.applied + 1);
  n.applied = c.slot.value;
  const Entry& entry = *c.entry;
  n.applied_stamp_us = entry.stamp_us();
  const uint64_t value = paxos::EntryHash(entry);
  n.checksum = HashU64(value, n.checksum);
  stats_.slots_chosen = std::max(stats_.slots_chosen, n.applied);
  if (cron()) ApplyCronCommands(n, entry, traced);
  MaybeTakeSnapshot(n);
  // Values re-applied from disk after a restart were checked when first applied; the checksum
  // chain, compared once recovery ends (OnRecovered), covers every one of them.
  if (!traced) return;
  trace_->Emitf(now_us_, n.id, "chosen", ",\"slot\":{},\"value\":\"{:016x}\",\"noop\":{}",
                c.slot.value, value, entry.noop() ? "true" : "false");
  checkers_.OnApplied(now_us_, n.id, c.slot.value, entry, value, n.checksum);
  if (!liveness_phase_) return;
  for (const auto& cmd : entry.commands()) {
    if ((cmd.id() >> 63) == 0) continue;
    probe_slot_.emplace(cmd.id(), c.slot.value);
    CountProbeApplied(cmd.id());
  }
}

uint32_t World::LiveNodes() const {
  uint32_t live = 0;
  for (uint32_t i = 1; i <= options_.nodes; ++i) live += nodes_[i].broken ? 0 : 1;
  return live;
}

void World::CountProbeApplied(uint64_t probe_id) {
  if (++probe_applied_[probe_id] == LiveNodes() && stats_.liveness_us < 0) {
    stats_.liveness_us = now_us_ - liveness_start_us_;
    done_ = !cron();  // a cron run goes on until it has settled
  }
}

void World::FlushWriteback(Node& n) {
  while (!n.writeback.empty() && n.writeback.front().first <= now_us_) {
    const Status written = n.store->Write({n.writeback.front().second});
    PAXCRON_ASSERT(written.ok());
    n.writeback.pop_front();
  }
}

void World::TrackRoleAndLease(Node& n) {
  const paxos::Role role = n.replica->role();
  if (role != n.role) {
    n.role = role;
    if (role == paxos::Role::kLeader) ++stats_.elections_won;
    trace_->Emitf(now_us_, n.id, "role", ",\"role\":\"{}\",\"ballot\":{}", paxos::RoleName(role),
                  n.replica->ballot().ToEpoch().value);
  }
  const paxos::LeaseView& lease = n.replica->Lease();
  const bool held = n.replica->HoldsLease(n.clock.Mono(now_us_));
  if (!held) {
    if (n.lease_held) EndTrackedLease(n, role == paxos::Role::kLeader ? "expired" : "stepped_down");
    return;
  }
  const int64_t true_expiry = n.clock.TrueAt(lease.expiry_us);
  if (n.lease_held && n.lease_epoch == lease.epoch.value) {
    if (true_expiry != n.lease_true_expiry_us) {
      n.lease_true_expiry_us = true_expiry;
      checkers_.OnLeaseExtend(n.id, true_expiry);
      Schedule(true_expiry, Event::Kind::kLeaseCheck, n.id, static_cast<uint64_t>(true_expiry));
    }
    return;
  }
  if (n.lease_held) EndTrackedLease(n, "new_epoch");
  n.lease_held = true;
  n.lease_epoch = lease.epoch.value;
  n.lease_true_expiry_us = true_expiry;
  ++stats_.leases_started;
  trace_->Emitf(now_us_, n.id, "lease_start", ",\"epoch\":{},\"until\":{}", lease.epoch.value,
                true_expiry);
  checkers_.OnLeaseStart(now_us_, n.id, lease.epoch.value, true_expiry);
  Schedule(true_expiry, Event::Kind::kLeaseCheck, n.id, static_cast<uint64_t>(true_expiry));
}

void World::EndTrackedLease(Node& n, const char* reason) {
  PAXCRON_ASSERT(n.lease_held);
  n.lease_held = false;
  trace_->Emitf(now_us_, n.id, "lease_end", ",\"epoch\":{},\"reason\":\"{}\"", n.lease_epoch,
                reason);
  checkers_.OnLeaseEnd(n.id);
}

void World::Crash(Node& n) {
  PAXCRON_ASSERT(n.up);
  FlushWriteback(n);
  if (n.lease_held) EndTrackedLease(n, "crash");
  // Whatever was not yet fsynced is gone, and so are the replies that waited for it.
  n.writeback.clear();
  n.disk.clear();
  n.store.reset();
  n.fs->Crash(disk_rng_);
  checkers_.OnCrash(n.id, n.applied);
  n.up = false;
  ++n.incarnation;
  n.replica.reset();
  n.sm.reset();
  n.leader.reset();
  n.cron_tick_at_us = -1;
  n.wakeup_at_us = -1;
  n.role = paxos::Role::kFollower;
  ++stats_.crashes;
  trace_->Emit(now_us_, n.id, "crash");
}

void World::Restart(Node& n) {
  PAXCRON_ASSERT(!n.up && !n.broken);
  n.applied = 0;
  n.checksum = kFnvOffset;
  n.applied_stamp_us = 0;
  trace_->Emit(now_us_, n.id, "restart");
  if (cron()) ResetCron(n);  // rebuilt from the snapshot and the log the replica re-delivers
  if (!StartFromDisk(n)) return;
  n.up = true;
  Pump(n);  // re-applies every chosen value found on disk after the snapshot
  checkers_.OnRecovered(now_us_, n.id, n.applied, n.checksum);
  NoteHealth();
}

}  // namespace paxcron::sim
