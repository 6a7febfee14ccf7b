#include "storage/snapshot_store.h"

#include <fmt/format.h>

#include <algorithm>

#include "storage/crc32c.h"
#include "storage/record_format.h"
#include "storage/storage.pb.h"

namespace paxcron::storage {
namespace {

constexpr std::string_view kPrefix = "snapshot-";
constexpr size_t kDigits = 20;
constexpr size_t kDataRecordBytes = 1024 * 1024;
constexpr size_t kKept = 2;

}  // namespace

std::string SnapshotFileName(uint64_t slot) { return fmt::format("{}{:020}", kPrefix, slot); }

uint64_t ParseSnapshotFileName(std::string_view name) {
  return ParseNumberedName(name, kPrefix, kDigits);
}

Result<std::vector<uint64_t>> ListSnapshotSlots(FileSystem& fs, const std::string& dir) {
  Result<std::vector<std::string>> names = fs.List(dir);
  if (!names.ok()) return names.status();
  std::vector<uint64_t> slots;
  for (const std::string& name : names.value()) {
    if (const uint64_t slot = ParseSnapshotFileName(name); slot != 0) slots.push_back(slot);
  }
  std::sort(slots.begin(), slots.end());
  return slots;
}

Result<Snapshot> DecodeSnapshotFile(std::string_view bytes, std::string_view file) {
  const SegmentScan scan = ScanSegment(bytes, file);
  // Written atomically: a torn record is damage here, not a crash.
  if (scan.end != SegmentScan::End::kClean) return Status::Error(scan.error);
  pb::SnapshotHeader header;
  if (scan.records.empty() || !header.ParseFromString(scan.records[0])) {
    return Status::Error(fmt::format("{}: offset 0: no snapshot header", file));
  }
  Snapshot out;
  out.slot = header.slot();
  out.stamp_us = header.stamp_us();
  out.file_bytes = bytes.size();
  uint64_t offset = kRecordHeaderBytes + scan.records[0].size();
  for (size_t i = 1; i < scan.records.size(); ++i) {
    pb::SnapshotData data;
    if (!data.ParseFromString(scan.records[i])) {
      return Status::Error(fmt::format("{}: offset {}: not a snapshot data record", file, offset));
    }
    out.data += data.data();
    offset += kRecordHeaderBytes + scan.records[i].size();
  }
  if (out.data.size() != header.total_bytes() || Crc32c(out.data) != header.data_crc()) {
    return Status::Error(
        fmt::format("{}: the data ({} bytes) does not match its header ({} "
                    "bytes, CRC {:08x})",
                    file, out.data.size(), header.total_bytes(), header.data_crc()));
  }
  return out;
}

std::string EncodeSnapshotFile(const Snapshot& snapshot) {
  pb::SnapshotHeader header;
  header.set_slot(snapshot.slot);
  header.set_stamp_us(snapshot.stamp_us);
  header.set_total_bytes(snapshot.data.size());
  header.set_data_crc(Crc32c(snapshot.data));
  std::string bytes;
  bytes.reserve(snapshot.data.size() + snapshot.data.size() / kDataRecordBytes * 16 + 64);
  AppendRecord(header.SerializeAsString(), bytes);
  for (size_t at = 0; at < snapshot.data.size(); at += kDataRecordBytes) {
    pb::SnapshotData data;
    data.set_data(snapshot.data.substr(at, kDataRecordBytes));
    AppendRecord(data.SerializeAsString(), bytes);
  }
  return bytes;
}

Status SnapshotStore::Prune(const std::string& dir) {
  // Keep the newest few; a failed snapshot never got here, so older ones stay until then.
  Result<std::vector<uint64_t>> slots = ListSnapshotSlots(fs_, dir);
  if (!slots.ok()) return slots.status();
  for (size_t i = 0; i + kKept < slots.value().size(); ++i) {
    if (Status s = fs_.Remove(dir + "/" + SnapshotFileName(slots.value()[i])); !s.ok()) return s;
  }
  return fs_.SyncDir(dir);
}

Status SnapshotStore::WriteTo(const std::string& dir, uint64_t slot, const std::string& bytes) {
  if (Status s = fs_.CreateDir(dir); !s.ok()) return s;
  if (Status s = WriteFileAtomically(fs_, dir, SnapshotFileName(slot), bytes); !s.ok()) return s;
  return Prune(dir);
}

Status SnapshotStore::Save(const Snapshot& snapshot) {
  if (snapshot.slot == 0) return Status::Error("a snapshot must cover at least slot 1");
  const std::string bytes = EncodeSnapshotFile(snapshot);
  if (Status s = WriteTo(dir_, snapshot.slot, bytes); !s.ok()) return s;
  if (!backup_dir_.empty()) {
    if (Status s = WriteTo(backup_dir_, snapshot.slot, bytes); !s.ok()) {
      return Status::Error("backup: " + s.message());
    }
  }
  return Status::Ok();
}

Status SnapshotStore::Adopt(const std::string& path, uint64_t slot) {
  if (slot == 0) return Status::Error("a snapshot must cover at least slot 1");
  const std::string final_path = dir_ + "/" + SnapshotFileName(slot);
  if (Status s = fs_.Rename(path, final_path); !s.ok()) return s;
  if (Status s = Prune(dir_); !s.ok()) return s;
  if (backup_dir_.empty()) return Status::Ok();
  Result<std::string> bytes = fs_.ReadFile(final_path);
  if (!bytes.ok()) return bytes.status();
  if (Status s = WriteTo(backup_dir_, slot, bytes.value()); !s.ok()) {
    return Status::Error("backup: " + s.message());
  }
  return Status::Ok();
}

Result<std::vector<uint64_t>> SnapshotStore::List() { return ListSnapshotSlots(fs_, dir_); }

Result<std::optional<Snapshot>> SnapshotStore::LoadNewest() {
  Result<std::vector<uint64_t>> slots = List();
  if (!slots.ok()) return slots.status();
  if (slots.value().empty()) return std::optional<Snapshot>();
  const std::string path = dir_ + "/" + SnapshotFileName(slots.value().back());
  Result<std::string> bytes = fs_.ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  Result<Snapshot> snapshot = DecodeSnapshotFile(bytes.value(), path);
  if (!snapshot.ok()) return snapshot.status();
  if (snapshot.value().slot != slots.value().back()) {
    return Status::Error(
        fmt::format("{}: holds slot {}, not the slot its name says", path, snapshot.value().slot));
  }
  return std::optional<Snapshot>(std::move(snapshot.value()));
}

}  // namespace paxcron::storage
