#include "storage/file_system.h"

namespace paxcron::storage {

uint64_t ParseNumberedName(std::string_view name, std::string_view prefix, size_t digits) {
  if (!name.starts_with(prefix) || name.size() != prefix.size() + digits) return 0;
  uint64_t n = 0;
  for (char c : name.substr(prefix.size())) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

Status WriteFileAtomically(FileSystem& fs, const std::string& dir, const std::string& name,
                           std::string_view contents) {
  const std::string path = dir + "/" + name;
  const std::string temp = path + ".tmp";
  if (fs.Exists(temp)) {
    if (Status s = fs.Remove(temp); !s.ok()) return s;
  }
  Result<std::unique_ptr<AppendableFile>> file = fs.OpenAppendable(temp);
  if (!file.ok()) return file.status();
  if (Status s = file.value()->Append(contents); !s.ok()) return s;
  if (Status s = file.value()->Sync(); !s.ok()) return s;
  if (Status s = fs.Rename(temp, path); !s.ok()) return s;
  return fs.SyncDir(dir);
}

}  // namespace paxcron::storage
