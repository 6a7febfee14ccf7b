// The world's health timeline, which decides which runs the lateness checker judges.
#include "sim/health.h"

#include <gtest/gtest.h>

namespace paxcron::sim {
namespace {

TEST(HealthTimeline, MinOverSeesTheLevelInForceAndEveryChangeInTheWindow) {
  HealthTimeline h;
  EXPECT_EQ(h.MinOver(0, 100), Health::kFull);  // nothing noted: healthy
  h.Note(0, Health::kFull);
  h.Note(100, Health::kMajority);
  h.Note(200, Health::kFull);
  h.Note(300, Health::kDegraded);
  h.Note(400, Health::kFull);
  EXPECT_EQ(h.MinOver(0, 99), Health::kFull);
  EXPECT_EQ(h.MinOver(0, 100), Health::kMajority);
  EXPECT_EQ(h.MinOver(150, 160), Health::kMajority);  // in force since 100
  EXPECT_EQ(h.MinOver(200, 299), Health::kFull);
  EXPECT_EQ(h.MinOver(250, 350), Health::kDegraded);
  EXPECT_EQ(h.MinOver(400, 1000), Health::kFull);
}

TEST(HealthTimeline, ADipAtOneInstantCountsOnlyForWindowsThatContainIt) {
  HealthTimeline h;
  h.Note(0, Health::kFull);
  h.Dip(50, Health::kMajority);
  EXPECT_EQ(h.MinOver(0, 49), Health::kFull);
  EXPECT_EQ(h.MinOver(50, 50), Health::kMajority);
  EXPECT_EQ(h.MinOver(40, 60), Health::kMajority);
  EXPECT_EQ(h.MinOver(51, 90), Health::kFull);
  h.Note(60, Health::kDegraded);
  h.Dip(70, Health::kMajority);  // no lower than the level in force: nothing recorded
  EXPECT_EQ(h.size(), 4u);
}

TEST(HealthTimeline, RepeatedLevelsAreNotStored) {
  HealthTimeline h;
  h.Note(0, Health::kFull);
  h.Note(10, Health::kFull);
  h.Note(20, Health::kFull);
  EXPECT_EQ(h.size(), 1u);
}

}  // namespace
}  // namespace paxcron::sim
