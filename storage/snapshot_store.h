// Snapshot files: "snapshot-<slot, 20 digits>" in the data directory, each a SnapshotHeader
// record then the state machine's bytes in SnapshotData records (framing of record_format.h),
// written atomically (temporary file, fsync, rename, fsync of the directory). The newest two are
// kept; each new one is also written, the same way, to a backup directory when one is set
// (MISSION.md, "State storage": losing the snapshot is the worst case). Load() takes the newest
// and checks every record and the whole data's CRC: damage is an error naming the file and the
// offset, never a silent fall-back to an older state. Thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/file_system.h"

namespace paxcron::storage {

struct Snapshot {
  uint64_t slot = 0;
  uint64_t stamp_us = 0;
  std::string data;
  uint64_t file_bytes = 0;  // the size of the file it was decoded from (0: not from a file)
};

class SnapshotStore {
 public:
  // `backup_dir` empty: no backup copy.
  SnapshotStore(FileSystem& fs, std::string dir, std::string backup_dir = "")
      : fs_(fs), dir_(std::move(dir)), backup_dir_(std::move(backup_dir)) {}

  Status Save(const Snapshot& snapshot);
  // Makes a complete snapshot file already written and synced at `path` (in this store's
  // directory, under another name: a snapshot received from a peer) the one for `slot`: renamed
  // into place, older ones pruned, the directory synced, and a copy written to the backup.
  // REQUIRES: the file was checked with DecodeSnapshotFile.
  Status Adopt(const std::string& path, uint64_t slot);
  // The newest snapshot, or none. Errors: damage (file and offset named), unreadable.
  Result<std::optional<Snapshot>> LoadNewest();
  // Snapshot slots found in the directory, oldest first.
  Result<std::vector<uint64_t>> List();

 private:
  Status WriteTo(const std::string& dir, uint64_t slot, const std::string& bytes);
  // Keeps the newest few in `dir` and syncs it.
  Status Prune(const std::string& dir);

  FileSystem& fs_;
  std::string dir_;
  std::string backup_dir_;
};

std::string SnapshotFileName(uint64_t slot);
uint64_t ParseSnapshotFileName(std::string_view name);  // 0: not a snapshot file
// Slots of the snapshot files in `dir`, oldest first.
Result<std::vector<uint64_t>> ListSnapshotSlots(FileSystem& fs, const std::string& dir);
// Checks and decodes a snapshot file's bytes; `file` names it in errors.
Result<Snapshot> DecodeSnapshotFile(std::string_view bytes, std::string_view file);
// A snapshot file's bytes (what Save writes).
std::string EncodeSnapshotFile(const Snapshot& snapshot);

}  // namespace paxcron::storage
