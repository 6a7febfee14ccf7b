// Marzullo's algorithm and the guard's verdict (paxos/clock_guard.h).
#include "paxos/clock_guard.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <vector>

namespace paxcron::paxos {
namespace {

TEST(ClockGuard, AMajorityAgainstTheLeaderNamesItsError) {
  // The leader's clock is 5 minutes ahead: both followers read 5 minutes less than it does.
  const int64_t ahead = 300'000'000;
  const std::vector<OffsetInterval> sources = {
      {0, 0}, {-ahead - 800, -ahead}, {-ahead - 500, -ahead + 300}};
  const std::optional<OffsetEstimate> e = Marzullo(sources);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->sources, 2u);
  EXPECT_EQ(e->interval.lo_us, -ahead - 500);
  EXPECT_EQ(e->interval.hi_us, -ahead);
  EXPECT_EQ(JudgeClock(e, 2, 1'000'000), ClockVerdict::kOff);
  EXPECT_EQ(JudgeClock(e, 3, 1'000'000), ClockVerdict::kUnknown);  // 2 of 5: no majority
}

TEST(ClockGuard, AnOutlierFollowerDoesNotTripTheLeader) {
  const std::vector<OffsetInterval> sources = {{0, 0}, {-400, 200}, {90'000'000, 90'000'500}};
  const std::optional<OffsetEstimate> e = Marzullo(sources);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->sources, 2u);
  EXPECT_EQ(e->interval.lo_us, 0);
  EXPECT_EQ(e->interval.hi_us, 0);
  EXPECT_EQ(JudgeClock(e, 2, 1'000'000), ClockVerdict::kAgrees);
}

TEST(ClockGuard, AnUncertainIntervalIsNoVerdict) {
  // The round trip was long: the interval straddles the tolerance, so the guard does not act.
  const std::vector<OffsetInterval> sources = {{-3'000'000, 500'000}, {-2'500'000, 0}};
  const std::optional<OffsetEstimate> e = Marzullo(sources);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(JudgeClock(e, 2, 1'000'000), ClockVerdict::kAgrees);  // it meets ours: not off
  EXPECT_FALSE(Marzullo({}).has_value());
  EXPECT_EQ(JudgeClock(std::nullopt, 1, 0), ClockVerdict::kUnknown);
}

TEST(ClockGuard, TouchingIntervalsOverlap) {
  const std::optional<OffsetEstimate> e = Marzullo({{0, 10}, {10, 20}, {30, 40}});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->sources, 2u);
  EXPECT_EQ(e->interval.lo_us, 10);
  EXPECT_EQ(e->interval.hi_us, 10);
}

// The answer is contained in exactly `sources` of the inputs, and no point is in more.
RC_GTEST_PROP(ClockGuard, MarzulloFindsAPointInTheMostIntervals, ()) {
  const auto n = *rc::gen::inRange<size_t>(1, 9);
  std::vector<OffsetInterval> sources;
  for (size_t i = 0; i < n; ++i) {
    const int64_t lo = *rc::gen::inRange<int64_t>(-50, 50);
    sources.push_back({lo, lo + *rc::gen::inRange<int64_t>(0, 30)});
  }
  const std::optional<OffsetEstimate> e = Marzullo(sources);
  RC_ASSERT(e.has_value());
  auto count_at = [&](int64_t x) {
    uint32_t c = 0;
    for (const OffsetInterval& s : sources) c += (s.lo_us <= x && x <= s.hi_us) ? 1 : 0;
    return c;
  };
  RC_ASSERT(count_at(e->interval.lo_us) == e->sources);
  RC_ASSERT(count_at(e->interval.hi_us) == e->sources);
  for (int64_t x = -60; x <= 90; ++x) RC_ASSERT(count_at(x) <= e->sources);
}

}  // namespace
}  // namespace paxcron::paxos
