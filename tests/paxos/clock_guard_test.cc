// Marzullo's algorithm and the guard's verdict (paxos/clock_guard.h).
#include "paxos/clock_guard.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
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
  const ClockJudgement three = JudgeOwnClock(sources, 3, 2);
  EXPECT_EQ(three.verdict, ClockVerdict::kOff);
  EXPECT_EQ(three.agreeing, 1u);
  EXPECT_EQ(three.heard, 3u);
  // Of 5, two not heard from could still side with it: 1 + 2 make a majority of 3.
  EXPECT_EQ(JudgeOwnClock(sources, 5, 3).verdict, ClockVerdict::kUnknown);
}

TEST(ClockGuard, SplitFollowersStillLeaveTheLeaderWithoutAMajority) {
  // The leader is 2 minutes ahead; two followers read 2 minutes behind it, a third 20 s ahead of
  // it (its own clock jumped too), the fourth is down. No interval gathers 3 of 5, yet at most 1
  // of the 4 heard and 1 unheard could agree with the leader: it is off.
  const int64_t m2 = 120'000'000;
  const std::vector<OffsetInterval> sources = {{-2'500'000, 2'500'000},
                                               {-m2 - 2'600'000, -m2 + 2'500'000},
                                               {-m2 - 2'400'000, -m2 + 2'600'000},
                                               {17'500'000, 22'500'000}};
  const ClockJudgement j = JudgeOwnClock(sources, 5, 3);
  EXPECT_EQ(j.majority->sources, 2u);
  EXPECT_EQ(j.agreeing, 1u);
  EXPECT_EQ(j.verdict, ClockVerdict::kOff);
}

TEST(ClockGuard, AnOutlierFollowerDoesNotTripTheLeader) {
  const std::vector<OffsetInterval> sources = {{0, 0}, {-400, 200}, {90'000'000, 90'000'500}};
  const std::optional<OffsetEstimate> e = Marzullo(sources);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->sources, 2u);
  EXPECT_EQ(e->interval.lo_us, 0);
  EXPECT_EQ(e->interval.hi_us, 0);
  EXPECT_EQ(JudgeOwnClock(sources, 3, 2).verdict, ClockVerdict::kAgrees);
}

TEST(ClockGuard, AnUncertainIntervalIsNoVerdict) {
  // The round trip was long: the reading straddles our interval, so it may agree: not off.
  const std::vector<OffsetInterval> sources = {{-1'000'000, 1'000'000}, {-3'000'000, -500'000}};
  EXPECT_EQ(JudgeOwnClock(sources, 2, 2).verdict, ClockVerdict::kAgrees);
  EXPECT_EQ(JudgeOwnClock({{-1'000'000, 1'000'000}}, 3, 2).verdict, ClockVerdict::kUnknown);
  EXPECT_FALSE(Marzullo({}).has_value());
  EXPECT_EQ(JudgeOwnClock({}, 1, 1).verdict, ClockVerdict::kUnknown);
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

// kAgrees only with a point of our interval in `quorum` inputs; kOff only when no point of it
// could be in `quorum` inputs even if every member not heard from were there.
RC_GTEST_PROP(ClockGuard, TheVerdictFollowsTheCountAtOurOwnInterval, ()) {
  const auto members = *rc::gen::inRange<uint32_t>(1, 8);
  const uint32_t quorum = members / 2 + 1;
  const auto heard = *rc::gen::inRange<uint32_t>(1, members + 1);
  std::vector<OffsetInterval> sources;
  for (uint32_t i = 0; i < heard; ++i) {
    const int64_t lo = *rc::gen::inRange<int64_t>(-50, 50);
    sources.push_back({lo, lo + *rc::gen::inRange<int64_t>(0, 30)});
  }
  uint32_t best_at_ours = 0;
  for (int64_t x = sources[0].lo_us; x <= sources[0].hi_us; ++x) {
    uint32_t c = 0;
    for (const OffsetInterval& s : sources) c += (s.lo_us <= x && x <= s.hi_us) ? 1 : 0;
    best_at_ours = std::max(best_at_ours, c);
  }
  const ClockJudgement j = JudgeOwnClock(sources, members, quorum);
  RC_ASSERT(j.agreeing == best_at_ours);
  RC_ASSERT(j.heard == heard);
  RC_ASSERT((j.verdict == ClockVerdict::kAgrees) == (best_at_ours >= quorum));
  RC_ASSERT((j.verdict == ClockVerdict::kOff) == (best_at_ours + members - heard < quorum));
}

}  // namespace
}  // namespace paxcron::paxos
