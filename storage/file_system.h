// The file system under the storage engine: real POSIX files for the server, a simulated disk
// for the simulator and tests (mem_file_system.h), behind one interface so that the engine's code
// path is the same in both (issue "Durable state", section 1). Errors are values; every message
// names the file. Paths are plain strings; directories are created by the caller.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace paxcron::storage {

class AppendableFile {
 public:
  virtual ~AppendableFile() = default;
  // Buffered until Sync(): a crash may lose it, or keep a torn prefix of the last append.
  virtual Status Append(std::string_view data) = 0;
  // Makes everything appended so far durable (fdatasync).
  virtual Status Sync() = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // Opens `path` for appending, creating it empty if absent (the creation is durable only after
  // SyncDir of its directory).
  virtual Result<std::unique_ptr<AppendableFile>> OpenAppendable(const std::string& path) = 0;
  virtual Result<std::string> ReadFile(const std::string& path) = 0;
  // Up to `max_bytes` from `offset` (fewer at the end of the file, none beyond it): a snapshot
  // is served to a peer chunk by chunk without reading it whole.
  virtual Result<std::string> ReadRange(const std::string& path, uint64_t offset,
                                        uint64_t max_bytes) = 0;
  // Replaces `to` by `from`; durable only after SyncDir.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual Status Remove(const std::string& path) = 0;
  virtual Status Truncate(const std::string& path, uint64_t size) = 0;
  virtual Status SyncDir(const std::string& dir) = 0;
  virtual Status CreateDir(const std::string& dir) = 0;
  // The names (not paths) of the files in `dir`, sorted.
  virtual Result<std::vector<std::string>> List(const std::string& dir) = 0;
  virtual bool Exists(const std::string& path) = 0;
};

// The number in a file name made of `prefix` and exactly `digits` decimal digits
// ("log-00000042" with prefix "log-" and 8 digits: 42); 0 for any other name.
uint64_t ParseNumberedName(std::string_view name, std::string_view prefix, size_t digits);

// Writes `contents` to `dir/name` atomically: a temporary file, fsync, rename over the old one,
// fsync of the directory. After a crash the file holds the old contents or the new, never a mix.
Status WriteFileAtomically(FileSystem& fs, const std::string& dir, const std::string& name,
                           std::string_view contents);

}  // namespace paxcron::storage
