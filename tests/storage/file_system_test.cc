// The two file systems under the storage engine: the simulated disk's crash semantics, and the
// same atomic-replace contract on real files.
#include <gtest/gtest.h>
#include <stdlib.h>

#include "storage/mem_file_system.h"
#include "storage/posix_file_system.h"

namespace paxcron::storage {
namespace {

TEST(MemFileSystem, UnsyncedAppendsAreLostOrTornInACrashSyncedOnesSurvive) {
  int zero_filled = 0;
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    MemFileSystem fs;
    Prng rng(seed);
    auto f = fs.OpenAppendable("d/log");
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(fs.SyncDir("d").ok());
    ASSERT_TRUE(f.value()->Append("durable;").ok());
    ASSERT_TRUE(f.value()->Sync().ok());
    ASSERT_TRUE(f.value()->Append("volatile").ok());
    EXPECT_EQ(fs.ReadFile("d/log").value(), "durable;volatile");
    fs.Crash(rng);
    const std::string after = fs.ReadFile("d/log").value();
    ASSERT_EQ(after.rfind("durable;", 0), 0u) << after;
    // A prefix of the unsynced bytes, possibly followed by zeros up to their full length.
    std::string tail = after.substr(8);
    const size_t zeros_from = tail.find_last_not_of('\0') + 1;  // npos + 1 == 0: all zeros
    if (tail.size() == 8) tail.resize(zeros_from);
    EXPECT_EQ(std::string("volatile").rfind(tail, 0), 0u) << after;
    EXPECT_LE(after.size(), 16u);
    zero_filled += after.size() == 16 && after.back() == '\0';
  }
  EXPECT_GT(zero_filled, 0);  // the size-without-data case happens too
}

TEST(MemFileSystem, NamesAreDurableOnlyAfterSyncDir) {
  MemFileSystem fs;
  Prng rng(1);
  ASSERT_TRUE(fs.OpenAppendable("d/a").ok());
  fs.Crash(rng);
  EXPECT_FALSE(fs.Exists("d/a"));  // created, directory never synced
  ASSERT_TRUE(WriteFileAtomically(fs, "d", "meta", "v1").ok());
  ASSERT_TRUE(fs.OpenAppendable("d/meta.tmp").ok());  // a half-done second write
  ASSERT_TRUE(fs.Rename("d/meta.tmp", "d/meta").ok());
  fs.Crash(rng);
  EXPECT_EQ(fs.ReadFile("d/meta").value(), "v1");  // the rename was not synced
  EXPECT_EQ(fs.List("d").value(), std::vector<std::string>{"meta"});
}

TEST(PosixFileSystem, WritesAtomicallyAppendsReadsListsAndTruncates) {
  char tmpl[] = "/tmp/paxcron-fs-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  PosixFileSystem fs;
  ASSERT_TRUE(WriteFileAtomically(fs, dir, "meta", "v1").ok());
  ASSERT_TRUE(WriteFileAtomically(fs, dir, "meta", "v2").ok());
  EXPECT_EQ(fs.ReadFile(dir + "/meta").value(), "v2");
  auto log = fs.OpenAppendable(dir + "/log");
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE(log.value()->Append("abc").ok());
  ASSERT_TRUE(log.value()->Append("def").ok());
  ASSERT_TRUE(log.value()->Sync().ok());
  ASSERT_TRUE(fs.Truncate(dir + "/log", 4).ok());
  EXPECT_EQ(fs.ReadFile(dir + "/log").value(), "abcd");
  EXPECT_EQ(fs.List(dir).value(), (std::vector<std::string>{"log", "meta"}));
  const Result<std::string> missing = fs.ReadFile(dir + "/nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(dir + "/nope"), std::string::npos);
  ASSERT_TRUE(fs.Remove(dir + "/log").ok());
  ASSERT_TRUE(fs.Remove(dir + "/meta").ok());
  ::rmdir(dir.c_str());
}

}  // namespace
}  // namespace paxcron::storage
