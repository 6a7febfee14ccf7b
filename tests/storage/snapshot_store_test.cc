// Snapshot files: atomic, checked, backed up, and never a silent fall-back on damage.
#include "storage/snapshot_store.h"

#include <gtest/gtest.h>

#include "common/prng.h"
#include "storage/mem_file_system.h"

namespace paxcron::storage {
namespace {

Snapshot Big(uint64_t slot, size_t bytes) {
  Snapshot s;
  s.slot = slot;
  s.stamp_us = slot * 1000;
  for (size_t i = 0; i < bytes; ++i) s.data.push_back(static_cast<char>((i * 131 + slot) & 0xff));
  return s;
}

TEST(SnapshotStore, SavesLoadsKeepsTheNewestTwoAndBacksUp) {
  MemFileSystem fs;
  SnapshotStore store(fs, "data", "backup");
  EXPECT_FALSE(store.LoadNewest().value().has_value());
  for (uint64_t slot : {100u, 200u, 300u}) ASSERT_TRUE(store.Save(Big(slot, 3'000'000)).ok());
  const auto loaded = store.LoadNewest();
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  ASSERT_TRUE(loaded.value().has_value());
  EXPECT_EQ(loaded.value()->slot, 300u);
  EXPECT_EQ(loaded.value()->stamp_us, 300'000u);
  EXPECT_EQ(loaded.value()->data, Big(300, 3'000'000).data);  // several 1 MiB data records
  EXPECT_EQ(store.List().value(), (std::vector<uint64_t>{200, 300}));
  EXPECT_TRUE(fs.Exists("backup/" + SnapshotFileName(300)));
  SnapshotStore from_backup(fs, "backup");
  EXPECT_EQ(from_backup.LoadNewest().value()->data, Big(300, 3'000'000).data);
}

// A second save interrupted at each point of the atomic replacement before the directory sync
// (temporary file half written; written and synced; renamed into place): the crash leaves the
// first snapshot, and the debris is never taken for a snapshot.
TEST(SnapshotStore, ACrashDuringASaveLeavesThePreviousSnapshot) {
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    MemFileSystem fs;
    Prng rng(seed);
    SnapshotStore store(fs, "data");
    ASSERT_TRUE(store.Save(Big(100, 1000)).ok());
    const std::string name = "data/" + SnapshotFileName(200);
    auto tmp = fs.OpenAppendable(name + ".tmp");
    ASSERT_TRUE(tmp.value()->Append("partial").ok());
    const uint64_t stop = seed % 3;
    if (stop >= 1) {
      ASSERT_TRUE(tmp.value()->Sync().ok());
    }
    if (stop >= 2) {
      ASSERT_TRUE(fs.Rename(name + ".tmp", name).ok());
    }
    fs.Crash(rng);
    const auto loaded = store.LoadNewest();
    ASSERT_TRUE(loaded.ok()) << loaded.status().message();
    EXPECT_EQ(loaded.value()->slot, 100u);
  }
}

TEST(SnapshotStore, DamageIsAnErrorNamingTheFileNotAFallBack) {
  MemFileSystem fs;
  SnapshotStore store(fs, "data");
  ASSERT_TRUE(store.Save(Big(100, 5000)).ok());
  ASSERT_TRUE(store.Save(Big(200, 5000)).ok());
  ASSERT_TRUE(fs.CorruptByte("data/" + SnapshotFileName(200), 2000).ok());
  const auto loaded = store.LoadNewest();
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("data/" + SnapshotFileName(200) + ": offset "),
            std::string::npos)
      << loaded.status().message();
}

}  // namespace
}  // namespace paxcron::storage
