// Group commit: records from many threads are all durable once acknowledged (they survive a crash
// of the simulated disk and come back through SegmentLog::Open), one Sync serves a whole batch,
// the queue's bound holds, and a failed Sync reaches every waiter.
#include "storage/group_commit.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/prng.h"
#include "storage/counting_file_system.h"
#include "storage/mem_file_system.h"

namespace paxcron::storage {
namespace {

std::unique_ptr<SegmentLog> OpenLog(FileSystem& fs, std::map<uint64_t, std::string>* records,
                                    uint64_t segment_bytes = 8 * 1024 * 1024) {
  auto log = SegmentLog::Open(
      fs, "data", SegmentLogOptions{segment_bytes},
      [&](uint64_t tag, std::string_view payload) {
        if (records != nullptr) {
          EXPECT_TRUE(records->emplace(tag, payload).second) << tag;
        }
      },
      nullptr);
  EXPECT_TRUE(log.ok()) << log.status().message();
  return log.ok() ? std::move(log.value()) : nullptr;
}

// Runs `threads` writers, each committing `per_thread` records tagged thread * 1'000'000 + i;
// returns each writer's statuses.
std::vector<std::vector<Status>> CommitFromThreads(GroupCommitter& committer, int threads,
                                                   int per_thread) {
  std::vector<std::vector<Status>> statuses(static_cast<size_t>(threads));
  std::vector<std::thread> writers;
  for (int t = 0; t < threads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        const uint64_t tag = static_cast<uint64_t>(t) * 1'000'000 + static_cast<uint64_t>(i);
        statuses[static_cast<size_t>(t)].push_back(
            committer.Commit(tag, "record " + std::to_string(tag)));
      }
    });
  }
  for (std::thread& w : writers) w.join();
  return statuses;
}

// Blocks the calling (flusher) thread until `done()` holds; fails the test after 10 s.
template <typename F>
void WaitUntil(F&& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "timed out";
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// A log on the simulated disk, in small segments so that rotation (which syncs on its own) happens
// under group commit too, seen through a file system that counts and can hold back its syncs.
class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = OpenLog(fs_, nullptr, 4096);
    ASSERT_NE(log_, nullptr);
  }
  // Holds the flusher in its Sync until each of `writers` records is in that batch or queued.
  void WaitForEveryWriter(const GroupCommitter& committer, size_t writers) {
    WaitUntil([&] { return committer.queued() + log_->appended_since_sync() == writers; });
  }

  MemFileSystem mem_;
  CountingFileSystem fs_{mem_};
  std::unique_ptr<SegmentLog> log_;
};

TEST_F(GroupCommitTest, EveryAcknowledgedRecordSurvivesACrashAndReopen) {
  constexpr int kThreads = 16;
  constexpr int kPerThread = 200;
  GroupCommitter committer(*log_, GroupCommitOptions{});
  for (const auto& of_thread : CommitFromThreads(committer, kThreads, kPerThread)) {
    for (const Status& s : of_thread) ASSERT_TRUE(s.ok()) << s.message();
  }
  committer.Shutdown();
  EXPECT_EQ(committer.stats().records, uint64_t{kThreads * kPerThread});
  EXPECT_EQ(committer.stats().failed_batches, 0u);
  Prng rng(7);
  mem_.Crash(rng);  // everything acknowledged was synced: nothing may be lost
  std::map<uint64_t, std::string> records;
  ASSERT_NE(OpenLog(mem_, &records), nullptr);
  ASSERT_EQ(records.size(), size_t{kThreads * kPerThread});
  for (const auto& [tag, payload] : records) EXPECT_EQ(payload, "record " + std::to_string(tag));
}

TEST_F(GroupCommitTest, OneSyncServesEveryRecordWaitingWhenItStarts) {
  constexpr int kThreads = 8;
  GroupCommitter committer(*log_, GroupCommitOptions{});
  // The first Sync waits until every writer's record is either in its batch or queued: then at
  // most two syncs serve all of them, whatever the threads' timing (one if every record made the
  // first batch).
  bool first = true;
  fs_.set_before_sync([&](const std::string&) {
    if (first) WaitForEveryWriter(committer, kThreads);
    first = false;
    return Status::Ok();
  });
  for (const auto& of_thread : CommitFromThreads(committer, kThreads, 1)) {
    ASSERT_TRUE(of_thread[0].ok()) << of_thread[0].message();
  }
  committer.Shutdown();
  EXPECT_EQ(committer.stats().records, uint64_t{kThreads});
  EXPECT_LE(committer.stats().batches, 2u);
  EXPECT_EQ(fs_.counts().syncs, committer.stats().batches);
  EXPECT_EQ(fs_.counts().appends, uint64_t{kThreads});
}

TEST_F(GroupCommitTest, WritersBlockWhileTheQueueIsFull) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50;
  constexpr size_t kQueued = 2;
  GroupCommitter committer(*log_, GroupCommitOptions{kQueued});
  size_t largest_batch = 0;
  fs_.set_before_sync([&](const std::string&) {
    largest_batch = std::max<size_t>(largest_batch, log_->appended_since_sync());
    return Status::Ok();
  });
  for (const auto& of_thread : CommitFromThreads(committer, kThreads, kPerThread)) {
    for (const Status& s : of_thread) ASSERT_TRUE(s.ok()) << s.message();
  }
  committer.Shutdown();
  EXPECT_EQ(committer.stats().records, uint64_t{kThreads * kPerThread});
  EXPECT_LE(largest_batch, kQueued);  // a batch is what was queued, and the queue held at most 2
  EXPECT_GE(committer.stats().batches, uint64_t{kThreads * kPerThread / kQueued});
}

TEST_F(GroupCommitTest, AFailedSyncReachesEveryWaiterAndEveryLaterCommit) {
  constexpr int kThreads = 8;
  GroupCommitter committer(*log_, GroupCommitOptions{});
  // Fails once every writer waits, so that the failed batch and the records queued behind it
  // are both reported.
  fs_.set_before_sync([&](const std::string& path) {
    WaitForEveryWriter(committer, kThreads);
    return Status::Error("fdatasync " + path + ": injected failure");
  });
  for (const auto& of_thread : CommitFromThreads(committer, kThreads, 1)) {
    ASSERT_FALSE(of_thread[0].ok());
    EXPECT_EQ(of_thread[0].message(), "fdatasync data/log-00000001: injected failure");
  }
  EXPECT_EQ(committer.stats().records, 0u);
  EXPECT_GE(committer.stats().failed_batches, 1u);
  EXPECT_EQ(fs_.counts().syncs, 1u);  // nothing written after the failure
  const Status later = committer.Commit(99, "after the failure");
  ASSERT_FALSE(later.ok());
  EXPECT_EQ(later.message(), "fdatasync data/log-00000001: injected failure");
}

TEST(GroupCommit, ShutdownIsIdempotentAndLaterCommitsAreRefused) {
  MemFileSystem mem;
  std::unique_ptr<SegmentLog> log = OpenLog(mem, nullptr);
  ASSERT_NE(log, nullptr);
  GroupCommitter committer(*log, GroupCommitOptions{});
  ASSERT_TRUE(committer.Commit(1, "one").ok());
  committer.Shutdown();
  committer.Shutdown();
  const Status s = committer.Commit(2, "two");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "group commit: shut down, the record was not written");
  EXPECT_EQ(committer.stats().records, 1u);
}

}  // namespace
}  // namespace paxcron::storage
