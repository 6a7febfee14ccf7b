// A FileSystem that forwards every call to another one, counting and timing the calls that make
// data durable: Append and Sync on files, and SyncDir. For tests (how many fdatasyncs did group
// commit need for N records?) and benchmarks (how much of a snapshot save is writing, how much
// is waiting for the disk). A hook run before every file Sync lets a test hold a sync back or
// fail it, to see how a disk error reaches the callers. Thread-safe as far as the wrapped file
// system is: the counters are atomic.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "storage/file_system.h"

namespace paxcron::storage {

struct FileSystemCounts {
  uint64_t appends = 0, append_ns = 0;      // AppendableFile::Append
  uint64_t syncs = 0, sync_ns = 0;          // AppendableFile::Sync (fdatasync)
  uint64_t dir_syncs = 0, dir_sync_ns = 0;  // FileSystem::SyncDir
};

class CountingFileSystem final : public FileSystem {
 public:
  // `base` must outlive this.
  explicit CountingFileSystem(FileSystem& base) : base_(base) {}

  FileSystemCounts counts() const {
    return {appends_.calls, appends_.ns, syncs_.calls, syncs_.ns, dir_syncs_.calls, dir_syncs_.ns};
  }
  // Runs before every file Sync, on the syncing thread; an error fails that Sync without reaching
  // the wrapped file system. REQUIRES: no Sync runs while it is being set.
  void set_before_sync(std::function<Status(const std::string& path)> hook) {
    before_sync_ = std::move(hook);
  }

  Result<std::unique_ptr<AppendableFile>> OpenAppendable(const std::string& path) override {
    Result<std::unique_ptr<AppendableFile>> f = base_.OpenAppendable(path);
    if (!f.ok()) return f;
    return std::unique_ptr<AppendableFile>(new File(*this, std::move(f.value()), path));
  }
  Result<std::string> ReadFile(const std::string& path) override { return base_.ReadFile(path); }
  Result<std::string> ReadRange(const std::string& path, uint64_t offset,
                                uint64_t max_bytes) override {
    return base_.ReadRange(path, offset, max_bytes);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    return base_.Rename(from, to);
  }
  Status Remove(const std::string& path) override { return base_.Remove(path); }
  Status Truncate(const std::string& path, uint64_t size) override {
    return base_.Truncate(path, size);
  }
  Status SyncDir(const std::string& dir) override {
    return dir_syncs_.Time([&] { return base_.SyncDir(dir); });
  }
  Status CreateDir(const std::string& dir) override { return base_.CreateDir(dir); }
  Result<std::vector<std::string>> List(const std::string& dir) override { return base_.List(dir); }
  bool Exists(const std::string& path) override { return base_.Exists(path); }

 private:
  struct Counter {
    std::atomic<uint64_t> calls{0};
    std::atomic<uint64_t> ns{0};
    template <typename F>
    Status Time(F&& f) {
      const auto start = std::chrono::steady_clock::now();
      Status s = f();
      const auto elapsed = std::chrono::steady_clock::now() - start;
      ns += static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count());
      ++calls;
      return s;
    }
  };

  class File final : public AppendableFile {
   public:
    File(CountingFileSystem& fs, std::unique_ptr<AppendableFile> base, std::string path)
        : fs_(fs), base_(std::move(base)), path_(std::move(path)) {}
    Status Append(std::string_view data) override {
      return fs_.appends_.Time([&] { return base_->Append(data); });
    }
    Status Sync() override {
      return fs_.syncs_.Time([&] {
        if (fs_.before_sync_) {
          if (Status s = fs_.before_sync_(path_); !s.ok()) return s;
        }
        return base_->Sync();
      });
    }

   private:
    CountingFileSystem& fs_;
    std::unique_ptr<AppendableFile> base_;
    std::string path_;
  };

  FileSystem& base_;
  Counter appends_, syncs_, dir_syncs_;
  std::function<Status(const std::string& path)> before_sync_;
};

}  // namespace paxcron::storage
