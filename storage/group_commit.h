// Group commit over the write-ahead log: many writer threads each hand over one record and block
// until it is durable; one flusher thread appends every record waiting at that moment and makes
// the whole batch durable with a single SegmentLog::Sync (one fdatasync). While one batch is being
// synced the next fills, so with N writers about N/2 records share each fdatasync instead of one
// (bench/storage_bench.cc measures it).
//
// Guarantees:
//   - No waiter is released before its record is durable: Commit() returns Ok only after the
//     Sync covering its record returned Ok. A failed batch (Append or Sync error) returns that
//     error to every waiter of the batch, and to every later Commit: after a failed fdatasync
//     the kernel may have dropped the dirty pages and a retry could report success for data
//     that is gone (PostgreSQL's "fsyncgate"), so the log is not trusted again until reopened.
//   - Records are appended in the order their Commit() calls entered the queue.
//   - Bounded: at most `queued_records_max` records wait for the next batch (a writer blocks
//     while the queue is full) and one batch of at most that many is being written.
//   - Shutdown() (and the destructor) flushes every queued record, then stops the flusher;
//     Commit() after it returns an error.
//
// Thread-safe: Commit() may be called from any number of threads. The SegmentLog is used only by
// the flusher thread while the committer exists.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"
#include "storage/segment_log.h"

namespace paxcron::storage {

struct GroupCommitOptions {
  size_t queued_records_max = 1024;  // writers block while this many wait for the next batch
};

struct GroupCommitStats {
  uint64_t records = 0;  // made durable
  uint64_t batches = 0;  // each one SegmentLog::Sync
  uint64_t failed_batches = 0;
};

class GroupCommitter {
 public:
  // REQUIRES: nobody else uses `log` until the committer is destroyed; `log` outlives it.
  GroupCommitter(SegmentLog& log, GroupCommitOptions options);
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Appends one record tagged `tag` and blocks until it is durable (Ok) or its batch failed (the
  // error). `payload` is not copied: it must stay valid until the call returns, which it does.
  Status Commit(uint64_t tag, std::string_view payload);
  // Makes every queued record durable, then stops the flusher thread. Idempotent.
  void Shutdown();
  GroupCommitStats stats() const;
  // Records waiting for the next batch (not those of the batch being written).
  size_t queued() const;

 private:
  struct Record {
    uint64_t tag;
    std::string_view payload;  // the writer's, valid while it waits
  };
  // The records that one Sync makes durable, and its outcome. Shared by its writers and the
  // flusher, so that it outlives the flusher's wake-up of the last writer. Only that batch's
  // writers wake, each on the atomic alone: no herd on `mu_` (the writers of the next batch
  // sleep on).
  struct Batch {
    std::vector<Record> records;   // guarded by mu_ while open; the flusher's once taken
    Status status = Status::Ok();  // written by the flusher before `done`
    std::atomic<uint32_t> done{0};
  };

  void FlushLoop();
  // Appends and syncs a batch, outside the lock; the outcome every writer of it gets.
  Status WriteBatch(const std::vector<Record>& records);

  SegmentLog& log_;
  const GroupCommitOptions options_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;   // the flusher waits for records or shutdown
  std::condition_variable space_cv_;  // writers wait for room in the open batch
  std::shared_ptr<Batch> open_;       // guarded by mu_; at most queued_records_max records
  std::optional<Status> failed_;      // guarded by mu_; set once, by the first failed batch
  bool stopping_ = false;             // guarded by mu_
  GroupCommitStats stats_;            // guarded by mu_
  std::once_flag shutdown_once_;
  std::thread flusher_;  // started last, once every member above exists
};

}  // namespace paxcron::storage
