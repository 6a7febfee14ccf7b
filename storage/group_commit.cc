#include "storage/group_commit.h"

#include <utility>

#include "common/assert.h"

namespace paxcron::storage {

GroupCommitter::GroupCommitter(SegmentLog& log, GroupCommitOptions options)
    : log_(log), options_(options), open_(std::make_shared<Batch>()) {
  PAXCRON_ASSERT(options_.queued_records_max > 0);
  flusher_ = std::thread([this] { FlushLoop(); });
}

GroupCommitter::~GroupCommitter() { Shutdown(); }

Status GroupCommitter::Commit(uint64_t tag, std::string_view payload) {
  std::shared_ptr<Batch> batch;
  {
    std::unique_lock lock(mu_);
    space_cv_.wait(lock, [&] {
      return stopping_ || failed_.has_value() ||
             open_->records.size() < options_.queued_records_max;
    });
    if (failed_) return *failed_;
    if (stopping_) return Status::Error("group commit: shut down, the record was not written");
    open_->records.push_back(Record{tag, payload});
    PAXCRON_ASSERT(open_->records.size() <= options_.queued_records_max);
    batch = open_;
    // The flusher sleeps only on an empty batch, so only the first record needs to wake it.
    if (batch->records.size() == 1) work_cv_.notify_one();
  }
  batch->done.wait(0, std::memory_order_acquire);
  return batch->status;
}

void GroupCommitter::Shutdown() {
  std::call_once(shutdown_once_, [this] {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    work_cv_.notify_all();
    space_cv_.notify_all();
    flusher_.join();
    PAXCRON_ASSERT(open_->records.empty());
  });
}

GroupCommitStats GroupCommitter::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

size_t GroupCommitter::queued() const {
  std::lock_guard lock(mu_);
  return open_->records.size();
}

void GroupCommitter::FlushLoop() {
  for (;;) {
    auto next = std::make_shared<Batch>();  // allocated outside the lock
    std::unique_lock lock(mu_);
    work_cv_.wait(lock, [&] { return stopping_ || !open_->records.empty(); });
    if (open_->records.empty()) return;  // stopping, and every record has its outcome
    const std::shared_ptr<Batch> batch = std::exchange(open_, std::move(next));
    space_cv_.notify_all();  // the next batch fills while this one is written
    const std::optional<Status> failed_before = failed_;
    lock.unlock();
    // Records queued behind a failed batch are not written: the log is no longer trusted.
    batch->status = failed_before ? *failed_before : WriteBatch(batch->records);
    lock.lock();
    if (batch->status.ok()) {
      stats_.records += batch->records.size();
      ++stats_.batches;
    } else {
      ++stats_.failed_batches;
      if (!failed_) failed_ = batch->status;
      space_cv_.notify_all();  // writers waiting for room now fail at once
    }
    lock.unlock();
    // Only now, with the outcome final, may any writer of the batch return.
    batch->done.store(1, std::memory_order_release);
    batch->done.notify_all();
  }
}

Status GroupCommitter::WriteBatch(const std::vector<Record>& records) {
  PAXCRON_ASSERT(!records.empty());
  for (const Record& record : records) {
    if (Status s = log_.Append(record.tag, record.payload); !s.ok()) return s;
  }
  if (Status s = log_.Sync(); !s.ok()) return s;
  PAXCRON_ASSERT(log_.appended_since_sync() == 0);
  return Status::Ok();
}

}  // namespace paxcron::storage
