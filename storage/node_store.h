// A node's whole durable state in one data directory: the consensus core's log and metadata
// (paxos_store.h) and the state machine's snapshots (snapshot_store.h), recovered together and
// checked against each other. The simulator and the real server drive the same class; only the
// FileSystem under it differs (issue "Durable state", sections 1 to 3).
//
// Snapshot transfer, on both sides with memory bounded by one chunk:
//   - serving: ReadSnapshotChunk() reads a byte range of the newest snapshot file;
//   - receiving: chunks are appended to a staging file ("snapshot-incoming"); when the last one
//     is in, FinishReceivedSnapshot() syncs and checks the whole file (every record's CRC and the
//     data's CRC), the driver installs it in the replica, then AdoptReceivedSnapshot() renames it
//     into place (durable before the replica's log truncation is persisted). The transferred
//     bytes are the snapshot file itself, so damage anywhere on the way, or on the sender's disk,
//     is caught by the receiver's check.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "paxos/replica.h"
#include "storage/file_system.h"
#include "storage/paxos_store.h"
#include "storage/segment_log.h"
#include "storage/snapshot_store.h"

namespace paxcron::storage {

struct NodeStoreOptions {
  SegmentLogOptions log;
  std::string backup_dir;  // empty: snapshots are not copied anywhere else
};

struct RecoveredState {
  paxos::DurableState durable;       // snapshot_slot and snapshot_stamp_us from the snapshot
  std::optional<Snapshot> snapshot;  // the newest, if any
  std::vector<std::string> warnings;
};

// A byte range of a snapshot file, for a peer.
struct SnapshotFileChunk {
  uint64_t slot = 0;  // 0: this node has no snapshot
  uint64_t offset = 0;
  uint64_t total_bytes = 0;  // of the whole file
  std::string data;
};

class NodeStore {
 public:
  // Errors: anything PaxosStore::Open or SnapshotStore::LoadNewest reports, and a log compacted
  // beyond the newest snapshot (the slots between would be lost), named with the directory.
  static Result<std::unique_ptr<NodeStore>> Open(FileSystem& fs, const std::string& dir,
                                                 const NodeStoreOptions& options,
                                                 RecoveredState* out);

  Status Stage(const std::vector<paxos::PersistOp>& ops) { return paxos_->Stage(ops); }
  Status Sync() { return paxos_->Sync(); }
  Status Write(const std::vector<paxos::PersistOp>& ops) { return paxos_->Write(ops); }

  // Durable on return. REQUIRES: snapshot.slot above the newest snapshot's.
  Status SaveSnapshot(const Snapshot& snapshot);
  uint64_t snapshot_slot() const { return snapshot_slot_; }
  uint64_t snapshot_file_bytes() const { return snapshot_file_bytes_; }

  // Up to `max_bytes` of the newest snapshot file from `offset` (an offset at or past the end:
  // an empty range).
  Result<SnapshotFileChunk> ReadSnapshotChunk(uint64_t offset, uint64_t max_bytes);

  // Chunks of a peer's snapshot file, in order; offset 0 starts over. Errors: a gap, or a file
  // larger than kMaxReceivedSnapshotBytes.
  Status ReceiveSnapshotChunk(uint64_t offset, std::string_view data);
  // Syncs and checks the received file, which must hold `slot`; the decoded snapshot. On error
  // the staging file is gone.
  Result<Snapshot> FinishReceivedSnapshot(uint64_t slot);
  Status AdoptReceivedSnapshot(const Snapshot& snapshot);
  void AbortReceivedSnapshot();

  // The answer to a peer's request for a byte range of our snapshot (paxos/replica.h,
  // ServeSnapshotChunk): the newest snapshot's file from `read.offset`, or from 0 when the peer
  // was fetching an older snapshot (Paxos Made Live, 5.5: a lagging replica may need a newer
  // snapshot than the one it began with) or asks past the end; an empty last chunk of slot 0
  // when there is none. Errors: the file cannot be read.
  Result<paxos::pb::SnapshotChunk> ServeSnapshotChunk(const paxos::SnapshotRead& read,
                                                      uint32_t chunk_max);

  const PaxosStore& paxos() const { return *paxos_; }
  const std::string& dir() const { return dir_; }

  static constexpr uint64_t kMaxReceivedSnapshotBytes = 4ull << 30;

 private:
  NodeStore(FileSystem& fs, std::string dir, const NodeStoreOptions& options)
      : fs_(fs), dir_(std::move(dir)), snapshots_(fs, dir_, options.backup_dir) {}
  std::string IncomingPath() const { return dir_ + "/snapshot-incoming"; }

  FileSystem& fs_;
  std::string dir_;
  std::unique_ptr<PaxosStore> paxos_;
  SnapshotStore snapshots_;
  uint64_t snapshot_slot_ = 0;
  uint64_t snapshot_file_bytes_ = 0;
  std::unique_ptr<AppendableFile> incoming_;
  uint64_t incoming_bytes_ = 0;
};

}  // namespace paxcron::storage
