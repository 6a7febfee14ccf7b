#include "storage/node_store.h"

#include <fmt/format.h>

#include "common/assert.h"

namespace paxcron::storage {

Result<std::unique_ptr<NodeStore>> NodeStore::Open(FileSystem& fs, const std::string& dir,
                                                   const NodeStoreOptions& options,
                                                   RecoveredState* out) {
  std::unique_ptr<NodeStore> store(new NodeStore(fs, dir, options));
  *out = RecoveredState{};
  Result<std::unique_ptr<PaxosStore>> paxos =
      PaxosStore::Open(fs, dir, options.log, &out->durable, &out->warnings);
  if (!paxos.ok()) return paxos.status();
  store->paxos_ = std::move(paxos.value());
  // A transfer cut short by the crash: whatever it holds was never installed.
  if (fs.Exists(store->IncomingPath())) {
    if (Status s = fs.Remove(store->IncomingPath()); !s.ok()) return s;
  }
  Result<std::optional<Snapshot>> snapshot = store->snapshots_.LoadNewest();
  if (!snapshot.ok()) return snapshot.status();
  const uint64_t compacted = store->paxos_->compacted_through().value;
  const uint64_t snapshot_slot = snapshot.value() ? snapshot.value()->slot : 0;
  // The log is compacted only behind a durable snapshot: a gap means a snapshot file was lost.
  if (compacted > snapshot_slot) {
    return Status::Error(
        fmt::format("{}: the log is compacted through slot {} but the newest snapshot covers {} "
                    "(a snapshot file is missing: slots {}-{} are not on this disk)",
                    dir, compacted, snapshot_slot == 0 ? "none" : fmt::format("{}", snapshot_slot),
                    snapshot_slot + 1, compacted));
  }
  if (snapshot.value()) {
    out->durable.snapshot_slot = paxos::Slot(snapshot_slot);
    out->durable.snapshot_stamp_us = snapshot.value()->stamp_us;
    store->snapshot_slot_ = snapshot_slot;
    store->snapshot_file_bytes_ = snapshot.value()->file_bytes;
    out->snapshot = std::move(snapshot.value());
  }
  return store;
}

Status NodeStore::SaveSnapshot(const Snapshot& snapshot) {
  PAXCRON_ASSERT(snapshot.slot > snapshot_slot_);
  const std::string bytes = EncodeSnapshotFile(snapshot);
  if (Status s = snapshots_.Save(snapshot); !s.ok()) return s;
  snapshot_slot_ = snapshot.slot;
  snapshot_file_bytes_ = bytes.size();
  return Status::Ok();
}

Result<SnapshotFileChunk> NodeStore::ReadSnapshotChunk(uint64_t offset, uint64_t max_bytes) {
  SnapshotFileChunk chunk;
  if (snapshot_slot_ == 0) return chunk;
  chunk.slot = snapshot_slot_;
  chunk.total_bytes = snapshot_file_bytes_;
  chunk.offset = std::min(offset, snapshot_file_bytes_);
  const uint64_t len = std::min(max_bytes, snapshot_file_bytes_ - chunk.offset);
  if (len == 0) return chunk;
  Result<std::string> data =
      fs_.ReadRange(dir_ + "/" + SnapshotFileName(snapshot_slot_), chunk.offset, len);
  if (!data.ok()) return data.status();
  chunk.data = std::move(data.value());
  if (chunk.data.size() != len) {
    return Status::Error(fmt::format("{}/{}: {} bytes at offset {}, expected {}", dir_,
                                     SnapshotFileName(snapshot_slot_), chunk.data.size(),
                                     chunk.offset, len));
  }
  return chunk;
}

Result<paxos::pb::SnapshotChunk> NodeStore::ServeSnapshotChunk(const paxos::SnapshotRead& read,
                                                               uint32_t chunk_max) {
  uint64_t offset = read.slot.value != 0 && read.slot.value != snapshot_slot_ ? 0 : read.offset;
  if (offset > snapshot_file_bytes_) offset = 0;
  Result<SnapshotFileChunk> file = ReadSnapshotChunk(offset, chunk_max);
  if (!file.ok()) return file.status();
  paxos::pb::SnapshotChunk chunk;
  if (file.value().slot == 0) {
    chunk.set_last(true);  // slot 0: none here
    return chunk;
  }
  chunk.set_slot(file.value().slot);
  chunk.set_offset(file.value().offset);
  chunk.set_total_bytes(file.value().total_bytes);
  chunk.set_last(file.value().offset + file.value().data.size() == file.value().total_bytes);
  chunk.set_data(std::move(file.value().data));
  return chunk;
}

Status NodeStore::ReceiveSnapshotChunk(uint64_t offset, std::string_view data) {
  if (offset == 0) {
    AbortReceivedSnapshot();
    Result<std::unique_ptr<AppendableFile>> f = fs_.OpenAppendable(IncomingPath());
    if (!f.ok()) return f.status();
    incoming_ = std::move(f.value());
  }
  if (incoming_ == nullptr || offset != incoming_bytes_) {
    return Status::Error(fmt::format("{}: a snapshot chunk at offset {}, expected {}",
                                     IncomingPath(), offset, incoming_bytes_));
  }
  if (incoming_bytes_ + data.size() > kMaxReceivedSnapshotBytes) {
    return Status::Error(fmt::format("{}: a received snapshot over {} bytes", IncomingPath(),
                                     kMaxReceivedSnapshotBytes));
  }
  if (Status s = incoming_->Append(data); !s.ok()) return s;
  incoming_bytes_ += data.size();
  return Status::Ok();
}

Result<Snapshot> NodeStore::FinishReceivedSnapshot(uint64_t slot) {
  if (incoming_ == nullptr) return Status::Error(IncomingPath() + ": no snapshot being received");
  Status synced = incoming_->Sync();
  Result<std::string> bytes =
      synced.ok() ? fs_.ReadFile(IncomingPath()) : Result<std::string>(synced);
  if (!bytes.ok()) {
    AbortReceivedSnapshot();
    return bytes.status();
  }
  Result<Snapshot> decoded = DecodeSnapshotFile(bytes.value(), IncomingPath());
  if (decoded.ok() && decoded.value().slot != slot) {
    decoded = Status::Error(fmt::format("{}: holds slot {}, the sender announced {}",
                                        IncomingPath(), decoded.value().slot, slot));
  }
  if (!decoded.ok()) AbortReceivedSnapshot();
  return decoded;
}

Status NodeStore::AdoptReceivedSnapshot(const Snapshot& snapshot) {
  PAXCRON_ASSERT(incoming_ != nullptr && snapshot.slot > snapshot_slot_);
  incoming_.reset();
  incoming_bytes_ = 0;
  if (Status s = snapshots_.Adopt(IncomingPath(), snapshot.slot); !s.ok()) return s;
  snapshot_slot_ = snapshot.slot;
  snapshot_file_bytes_ = snapshot.file_bytes;
  return Status::Ok();
}

void NodeStore::AbortReceivedSnapshot() {
  incoming_.reset();
  incoming_bytes_ = 0;
  if (fs_.Exists(IncomingPath())) (void)fs_.Remove(IncomingPath());
}

}  // namespace paxcron::storage
