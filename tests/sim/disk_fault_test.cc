// The simulated disks under the storage engine: crashes tear the log's tail (sometimes leaving
// zeros up to the file's new size) and recovery truncates it without ever calling it damage;
// flipped bits (--faults disk) are found when the node next starts, which then refuses to start,
// naming the file and the offset, while the rest of the cluster carries on safely.
#include <gtest/gtest.h>

#include "sim/report.h"

namespace paxcron::sim {
namespace {

SimOptions Faults(const char* faults, uint64_t seed) {
  SimOptions o;
  o.seed = seed;
  o.nodes = 5;
  o.duration_us = 240'000'000;  // 4 simulated minutes, harsh: crashes and flips come often
  o.intensity = 3;
  o.faults = ParseFaults(faults).value();
  o.faults_text = faults;
  return o;
}

TEST(DiskFaults, TornTailsAfterCrashesAreTruncatedAndNeverCalledDamage) {
  uint64_t torn = 0, restarts = 0;
  for (uint64_t seed = 1; seed <= 15; ++seed) {
    const RunResult r = RunSeed(Faults("partition,crash,drop", seed), nullptr);
    ASSERT_TRUE(r.ok) << FormatResultLine(r);
    EXPECT_EQ(r.stats.disk_damage_found, 0u) << FormatResultLine(r);
    EXPECT_EQ(r.stats.disk_flips, 0u);
    torn += r.stats.torn_tails;
    restarts += r.stats.crashes;
  }
  // Crashes mid-write happen: the recovery path really runs.
  EXPECT_GT(torn, 10u) << "over " << restarts << " crashes";
}

TEST(DiskFaults, AFlippedBitIsFoundAtRestartAndTheNodeStaysDownNamingFileAndOffset) {
  uint64_t damaged_runs = 0, flips = 0;
  for (uint64_t seed = 1; seed <= 25; ++seed) {
    const SimOptions o = Faults("partition,crash,drop,disk", seed);
    const RunResult r = RunSeed(o, nullptr);
    ASSERT_TRUE(r.ok) << FormatResultLine(r);  // safety and liveness hold without the node
    flips += r.stats.disk_flips;
    EXPECT_LE(r.stats.disk_damage_found, 1u);  // one victim per run, which then stays down
    if (r.stats.disk_damage_found == 0 || damaged_runs++ > 0) continue;
    // The first damaged run, traced: the node says what is wrong and where.
    Trace trace;
    trace.CaptureInMemory();
    ASSERT_TRUE(RunSeed(o, &trace).ok);
    const std::string& t = trace.captured();
    const size_t flip = t.find("\"ev\":\"disk_flip\"");
    const size_t damage = t.find("\"ev\":\"disk_damage\"");
    ASSERT_NE(flip, std::string::npos);
    ASSERT_NE(damage, std::string::npos);
    EXPECT_LT(flip, damage);
    const std::string line = t.substr(damage, t.find('\n', damage) - damage);
    EXPECT_NE(line.find("/data/"), std::string::npos) << line;
    EXPECT_NE(line.find("offset"), std::string::npos) << line;
    // After its damage is found the node never starts again.
    const size_t node_at = t.rfind("\"node\":", damage);
    const std::string node = t.substr(node_at, t.find(',', node_at) - node_at);
    for (size_t at = t.find("\"ev\":\"restart\"", damage); at != std::string::npos;
         at = t.find("\"ev\":\"restart\"", at + 1)) {
      const size_t line_start = t.rfind('\n', at) + 1;
      const std::string restart = t.substr(line_start, t.find('\n', at) - line_start);
      EXPECT_EQ(restart.find(node + ","), std::string::npos)
          << "node restarted after its damage was found: " << restart;
    }
  }
  EXPECT_GE(flips, 8u);
  EXPECT_GE(damaged_runs, 2u);
}

}  // namespace
}  // namespace paxcron::sim
