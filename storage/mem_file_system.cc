#include "storage/mem_file_system.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/assert.h"

namespace paxcron::storage {
namespace {

std::string DirOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

Status NoSuchFile(std::string_view what, const std::string& path) {
  return Status::Error(fmt::format("{} {}: no such file", what, path));
}

}  // namespace

class MemAppendableFile final : public AppendableFile {
 public:
  MemAppendableFile(MemFileSystem* fs, uint64_t inode) : fs_(fs), inode_(inode) {}
  Status Append(std::string_view data) override {
    auto it = fs_->inodes_.find(inode_);
    if (it == fs_->inodes_.end()) return Status::Error("append: the file was lost in a crash");
    it->second.pending.append(data);
    return Status::Ok();
  }
  Status Sync() override {
    auto it = fs_->inodes_.find(inode_);
    if (it == fs_->inodes_.end()) return Status::Error("sync: the file was lost in a crash");
    if (fs_->ignore_syncs_) return Status::Ok();
    it->second.durable += it->second.pending;
    it->second.pending.clear();
    return Status::Ok();
  }

 private:
  MemFileSystem* fs_;
  uint64_t inode_;
};

Result<std::unique_ptr<AppendableFile>> MemFileSystem::OpenAppendable(const std::string& path) {
  auto it = names_.find(path);
  uint64_t inode = 0;
  if (it != names_.end()) {
    inode = it->second;
  } else {
    inode = next_inode_++;
    inodes_[inode];
    names_[path] = inode;
  }
  return std::unique_ptr<AppendableFile>(std::make_unique<MemAppendableFile>(this, inode));
}

Result<std::string> MemFileSystem::ReadFile(const std::string& path) {
  auto it = names_.find(path);
  if (it == names_.end()) return NoSuchFile("read", path);
  const Inode& node = inodes_.at(it->second);
  return node.durable + node.pending;
}

Result<std::string> MemFileSystem::ReadRange(const std::string& path, uint64_t offset,
                                             uint64_t max_bytes) {
  auto it = names_.find(path);
  if (it == names_.end()) return NoSuchFile("read", path);
  const Inode& node = inodes_.at(it->second);
  std::string out;
  if (offset < node.durable.size()) out = node.durable.substr(offset, max_bytes);
  if (out.size() < max_bytes) {
    const uint64_t at = std::max(offset, static_cast<uint64_t>(node.durable.size()));
    const uint64_t pending_at = at - node.durable.size();
    if (pending_at < node.pending.size()) {
      out += node.pending.substr(pending_at, max_bytes - out.size());
    }
  }
  return out;
}

Status MemFileSystem::Rename(const std::string& from, const std::string& to) {
  auto it = names_.find(from);
  if (it == names_.end()) return NoSuchFile("rename", from);
  const uint64_t inode = it->second;
  names_.erase(it);
  names_[to] = inode;
  return Status::Ok();
}

Status MemFileSystem::Remove(const std::string& path) {
  if (names_.erase(path) == 0) return NoSuchFile("remove", path);
  return Status::Ok();
}

Status MemFileSystem::Truncate(const std::string& path, uint64_t size) {
  auto it = names_.find(path);
  if (it == names_.end()) return NoSuchFile("truncate", path);
  Inode& node = inodes_.at(it->second);
  std::string all = node.durable + node.pending;
  if (size < all.size()) all.resize(size);
  node.durable = std::move(all);
  node.pending.clear();
  return Status::Ok();
}

Status MemFileSystem::SyncDir(const std::string& dir) {
  if (ignore_syncs_) return Status::Ok();
  // The directory's entries become what a crash leaves.
  for (auto it = durable_names_.begin(); it != durable_names_.end();) {
    it = DirOf(it->first) == dir ? durable_names_.erase(it) : std::next(it);
  }
  for (const auto& [name, inode] : names_) {
    if (DirOf(name) == dir) durable_names_[name] = inode;
  }
  return Status::Ok();
}

Status MemFileSystem::CreateDir(const std::string&) { return Status::Ok(); }

Result<std::vector<std::string>> MemFileSystem::List(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& [name, inode] : names_) {
    if (DirOf(name) == dir) out.push_back(name.substr(dir.size() + 1));
  }
  return out;  // names_ is ordered: so is this
}

bool MemFileSystem::Exists(const std::string& path) { return names_.contains(path); }

void MemFileSystem::Crash(Prng& rng) {
  names_ = durable_names_;
  for (auto it = inodes_.begin(); it != inodes_.end();) {
    Inode& node = it->second;
    if (!node.pending.empty() && rng.Chance(500'000)) {
      // Torn: a prefix of the appends reached the disk; sometimes the file's new size did too,
      // the rest reading as zeros.
      const size_t kept = rng.Range(0, node.pending.size());
      node.durable += node.pending.substr(0, kept);
      if (rng.Chance(250'000)) node.durable.append(node.pending.size() - kept, '\0');
    }
    node.pending.clear();
    bool named = false;
    for (const auto& [name, inode] : names_) named |= inode == it->first;
    it = named ? std::next(it) : inodes_.erase(it);
  }
}

Status MemFileSystem::CorruptByte(const std::string& path, uint64_t offset) {
  auto it = names_.find(path);
  if (it == names_.end()) return NoSuchFile("corrupt", path);
  Inode& node = inodes_.at(it->second);
  if (offset >= node.durable.size()) return Status::Error("corrupt: offset beyond durable data");
  node.durable[offset] = static_cast<char>(node.durable[offset] ^ 0x10);
  return Status::Ok();
}

void MemFileSystem::Writeback() {
  for (auto& [inode, node] : inodes_) {
    node.durable += node.pending;
    node.pending.clear();
  }
  durable_names_ = names_;
}

uint64_t MemFileSystem::TotalBytes() const {
  uint64_t sum = 0;
  for (const auto& [name, inode] : names_) {
    const Inode& node = inodes_.at(inode);
    sum += node.durable.size() + node.pending.size();
  }
  return sum;
}

std::vector<std::string> MemFileSystem::DurableNames() const {
  std::vector<std::string> out;
  for (const auto& [name, inode] : durable_names_) out.push_back(name);
  return out;
}

Result<std::string> MemFileSystem::DurableContents(const std::string& path) const {
  auto it = durable_names_.find(path);
  if (it == durable_names_.end()) return NoSuchFile("read", path);
  auto node = inodes_.find(it->second);
  PAXCRON_ASSERT(node != inodes_.end());
  return node->second.durable;
}

}  // namespace paxcron::storage
