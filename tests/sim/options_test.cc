#include "sim/options.h"

#include <gtest/gtest.h>

namespace paxcron::sim {
namespace {

TEST(Options, ParsesFaultLists) {
  Result<FaultSet> all = ParseFaults("all");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all.value().partition && all.value().crash && all.value().drop && all.value().dup &&
              all.value().reorder && all.value().skew);
  EXPECT_FALSE(all.value().skew_beyond_bound);
  Result<FaultSet> some = ParseFaults("crash,drop");
  ASSERT_TRUE(some.ok());
  EXPECT_TRUE(some.value().crash && some.value().drop && !some.value().partition);
  EXPECT_FALSE(ParseFaults("none").value().Any());
  Result<FaultSet> bad = ParseFaults("crash,flood");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'flood'"), std::string::npos);
}

TEST(Options, ParsesBugsAndRejectsUnknownOnes) {
  for (const std::string& name : BugNames()) EXPECT_TRUE(ParseBug(name).ok()) << name;
  EXPECT_TRUE(ParseBug("small-quorum").value().core.small_quorum);
  EXPECT_TRUE(ParseBug("ack-before-persist").value().ack_before_persist);
  Result<BugSet> bad = ParseBug("typo");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("no-lease-wait"), std::string::npos);
}

TEST(Options, ParsesModesAndKnowsTheFastPaxosBugs) {
  EXPECT_EQ(ParseMode("multi").value(), paxos::Mode::kMulti);
  EXPECT_EQ(ParseMode("fast").value(), paxos::Mode::kFast);
  EXPECT_EQ(SimOptions{}.mode, paxos::Mode::kMulti);  // the default keeps earlier seeds' runs
  Result<paxos::Mode> bad = ParseMode("fastest");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'fastest'"), std::string::npos);
  EXPECT_TRUE(ParseBug("fast-quorum-too-small").value().core.fast_quorum_too_small);
  EXPECT_TRUE(ParseBug("recovery-picks-any").value().core.recovery_picks_any);
  EXPECT_TRUE(IsFastBug(ParseBug("recovery-picks-any").value()));
  EXPECT_FALSE(IsFastBug(ParseBug("small-quorum").value()));
}

TEST(Options, ParsesAndFormatsDurations) {
  EXPECT_EQ(ParseDuration("10m").value(), 600'000'000);
  EXPECT_EQ(ParseDuration("90s").value(), 90'000'000);
  EXPECT_EQ(ParseDuration("500ms").value(), 500'000);
  EXPECT_EQ(ParseDuration("1h").value(), 3'600'000'000);
  EXPECT_FALSE(ParseDuration("10x").ok());
  EXPECT_FALSE(ParseDuration("m").ok());
  EXPECT_FALSE(ParseDuration("0s").ok());
  EXPECT_FALSE(ParseDuration("25h").ok());
  EXPECT_EQ(FormatDuration(600'000'000), "10m");
  EXPECT_EQ(FormatDuration(90'000'000), "90s");
  EXPECT_EQ(FormatDuration(500'000), "500ms");
}

}  // namespace
}  // namespace paxcron::sim
