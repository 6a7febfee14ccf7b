// The simulated disk: files in memory with the failure semantics that matter for durability.
//   - Appends are volatile until the file's Sync(); a crash loses them, except that it may keep
//     a prefix of what was pending (a torn write: some pages reached the platter), sometimes
//     followed by zeros up to the file's new size (the size reached the disk, the data did not).
//   - Creating, renaming and removing names are volatile until SyncDir() of the directory; a
//     crash restores the names as of the last SyncDir.
// Deterministic: a crash draws from the Prng it is given. Truncate() is durable at once (a
// simplification: recovery only truncates torn tails, and repeats it if it crashes first).
// Thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "common/prng.h"
#include "storage/file_system.h"

namespace paxcron::storage {

class MemFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<AppendableFile>> OpenAppendable(const std::string& path) override;
  Result<std::string> ReadFile(const std::string& path) override;
  Result<std::string> ReadRange(const std::string& path, uint64_t offset,
                                uint64_t max_bytes) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Remove(const std::string& path) override;
  Status Truncate(const std::string& path, uint64_t size) override;
  Status SyncDir(const std::string& dir) override;
  Status CreateDir(const std::string& dir) override;
  Result<std::vector<std::string>> List(const std::string& dir) override;
  bool Exists(const std::string& path) override;

  // Loses everything not yet synced, keeping a random prefix of some pending appends.
  void Crash(Prng& rng);
  // Flips one bit of a file's durable contents (a damaged disk), for tests of recovery.
  Status CorruptByte(const std::string& path, uint64_t offset);
  // The names that would survive a crash now, and a file's durable contents.
  std::vector<std::string> DurableNames() const;
  Result<std::string> DurableContents(const std::string& path) const;

  // A disk (or a driver) that acknowledges fsync without doing it: Sync() and SyncDir() change
  // nothing, and only Writeback() (the kernel's periodic flush of dirty pages) makes data and
  // names durable. The simulator's `skip-fsync` bug.
  void set_ignore_syncs(bool ignore) { ignore_syncs_ = ignore; }
  bool ignore_syncs() const { return ignore_syncs_; }
  void Writeback();
  // Bytes in every file a reader sees now (durable and pending): the disk's usage.
  uint64_t TotalBytes() const;

 private:
  struct Inode {
    std::string durable;
    std::string pending;  // appended, not yet synced
  };
  friend class MemAppendableFile;

  std::map<uint64_t, Inode> inodes_;
  std::map<std::string, uint64_t> names_;          // what a reader sees now
  std::map<std::string, uint64_t> durable_names_;  // what survives a crash
  uint64_t next_inode_ = 1;
  bool ignore_syncs_ = false;
};

}  // namespace paxcron::storage
