#include "storage/file_system.h"

namespace paxcron::storage {

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
