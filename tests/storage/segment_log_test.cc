// The write-ahead log's segments: group commit, rotation, compaction, and recovery after crashes
// on the simulated disk (every synced record survives, nothing appears that was not appended,
// damage is an error naming the file).
#include "storage/segment_log.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/prng.h"
#include "storage/mem_file_system.h"

namespace paxcron::storage {
namespace {

struct Recovered {
  std::vector<std::pair<uint64_t, std::string>> records;
  std::vector<std::string> warnings;
  std::unique_ptr<SegmentLog> log;
  Status status = Status::Ok();
};

Recovered OpenLog(FileSystem& fs, uint64_t segment_bytes = 200) {
  Recovered r;
  auto log = SegmentLog::Open(
      fs, "data", SegmentLogOptions{segment_bytes},
      [&](uint64_t tag, std::string_view payload) { r.records.emplace_back(tag, payload); },
      &r.warnings);
  if (log.ok()) {
    r.log = std::move(log.value());
  } else {
    r.status = log.status();
  }
  return r;
}

TEST(SegmentName, RoundTrips) {
  EXPECT_EQ(SegmentName(42), "log-00000042");
  EXPECT_EQ(ParseSegmentName("log-00000042"), 42u);
  EXPECT_EQ(ParseSegmentName("log-42"), 0u);
  EXPECT_EQ(ParseSegmentName("meta"), 0u);
}

TEST(SegmentLog, RecordsComeBackInOrderAcrossRotatedSegments) {
  MemFileSystem fs;
  {
    Recovered r = OpenLog(fs);
    ASSERT_TRUE(r.status.ok()) << r.status.message();
    for (uint64_t i = 1; i <= 50; ++i) ASSERT_TRUE(r.log->Append(i, "v" + std::to_string(i)).ok());
    // Sealing a full segment synced it; the records since wait for the next Sync().
    EXPECT_GT(r.log->appended_since_sync(), 0u);
    EXPECT_LT(r.log->appended_since_sync(), 50u);
    ASSERT_TRUE(r.log->Sync().ok());  // one sync for all of them
    EXPECT_EQ(r.log->appended_since_sync(), 0u);
    EXPECT_GT(r.log->segment_count(), 3u);
  }
  Recovered r = OpenLog(fs);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  ASSERT_EQ(r.records.size(), 50u);
  for (uint64_t i = 1; i <= 50; ++i) {
    EXPECT_EQ(r.records[i - 1], std::make_pair(i, "v" + std::to_string(i)));
  }
  EXPECT_TRUE(r.warnings.empty());
}

TEST(SegmentLog, CompactionDropsWholeSegmentsBehindThePoint) {
  MemFileSystem fs;
  Recovered r = OpenLog(fs);
  for (uint64_t i = 1; i <= 50; ++i) ASSERT_TRUE(r.log->Append(i, "value").ok());
  ASSERT_TRUE(r.log->Sync().ok());
  const size_t before = r.log->segment_count();
  ASSERT_TRUE(r.log->DropThrough(30).ok());
  EXPECT_LT(r.log->segment_count(), before);
  r.log.reset();
  Recovered again = OpenLog(fs);
  ASSERT_TRUE(again.status.ok()) << again.status.message();
  ASSERT_FALSE(again.records.empty());
  EXPECT_LE(again.records.front().first, 31u);  // nothing above the point was dropped
  EXPECT_EQ(again.records.back().first, 50u);
}

TEST(SegmentLog, AfterAnyCrashEverySyncedRecordSurvivesAndNothingElseAppears) {
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    MemFileSystem fs;
    Prng rng(seed);
    uint64_t next = 1, synced = 0;
    for (int round = 0; round < 6; ++round) {
      Recovered r = OpenLog(fs, 100 + rng.Range(0, 300));
      ASSERT_TRUE(r.status.ok()) << "seed " << seed << ": " << r.status.message();
      // What came back: 1, 2, ..., k with k >= every synced record, and no more than appended.
      for (size_t i = 0; i < r.records.size(); ++i) ASSERT_EQ(r.records[i].first, i + 1);
      ASSERT_GE(r.records.size(), synced) << "seed " << seed << ": a synced record was lost";
      ASSERT_LT(r.records.size(), next) << "seed " << seed;
      next = r.records.size() + 1;  // appends go on from what survived
      synced = r.records.size();
      const int appends = static_cast<int>(rng.Range(0, 40));
      for (int i = 0; i < appends; ++i) {
        ASSERT_TRUE(r.log->Append(next, std::string(rng.Range(0, 30), 'a')).ok());
        ++next;
        if (rng.Chance(200'000)) {
          ASSERT_TRUE(r.log->Sync().ok());
          synced = next - 1;
        }
      }
      r.log.reset();
      fs.Crash(rng);
    }
  }
}

TEST(SegmentLog, DamageInASealedSegmentIsAnErrorNamingTheFileAndOffset) {
  MemFileSystem fs;
  {
    Recovered r = OpenLog(fs);
    for (uint64_t i = 1; i <= 30; ++i) ASSERT_TRUE(r.log->Append(i, "value-value").ok());
    ASSERT_TRUE(r.log->Sync().ok());
  }
  ASSERT_TRUE(fs.CorruptByte("data/log-00000001", 40).ok());
  Recovered r = OpenLog(fs);
  ASSERT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find("data/log-00000001: offset "), std::string::npos)
      << r.status.message();
}

TEST(SegmentLog, AMissingSegmentIsAnError) {
  MemFileSystem fs;
  {
    Recovered r = OpenLog(fs);
    for (uint64_t i = 1; i <= 30; ++i) ASSERT_TRUE(r.log->Append(i, "value-value").ok());
    ASSERT_TRUE(r.log->Sync().ok());
  }
  ASSERT_TRUE(fs.Remove("data/log-00000002").ok());
  Recovered r = OpenLog(fs);
  ASSERT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find("segment log-00000002 is missing"), std::string::npos)
      << r.status.message();
}

TEST(SegmentLog, ATornTailIsTruncatedWithAWarning) {
  MemFileSystem fs;
  {
    Recovered r = OpenLog(fs, 1 << 20);
    ASSERT_TRUE(r.log->Append(1, "whole").ok());
    ASSERT_TRUE(r.log->Sync().ok());
  }
  auto f = fs.OpenAppendable("data/log-00000001");
  ASSERT_TRUE(f.value()->Append(std::string("\x20\x00\x00\x00partial", 11)).ok());
  ASSERT_TRUE(f.value()->Sync().ok());
  Recovered r = OpenLog(fs, 1 << 20);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  ASSERT_EQ(r.records.size(), 1u);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("torn"), std::string::npos) << r.warnings[0];
  ASSERT_TRUE(r.log->Append(2, "next").ok());  // appends go on after the truncated tail
  ASSERT_TRUE(r.log->Sync().ok());
  r.log.reset();
  EXPECT_EQ(OpenLog(fs, 1 << 20).records.size(), 2u);
}

}  // namespace
}  // namespace paxcron::storage
