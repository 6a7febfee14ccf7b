// Real files: open/write/fdatasync/rename/fsync of the directory, errno reported with the path.
#pragma once

#include "storage/file_system.h"

namespace paxcron::storage {

class PosixFileSystem final : public FileSystem {
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
};

}  // namespace paxcron::storage
