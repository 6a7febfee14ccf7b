#include "sim/clock.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace paxcron::sim {
namespace {

RC_GTEST_PROP(NodeClock, TrueAtIsTheExactInverseOfMono, ()) {
  const int32_t ppm = *rc::gen::inRange(-300'000, 300'001);
  const int64_t base = *rc::gen::inRange<int64_t>(0, 1'000'000'000);
  const NodeClock c(base, ppm, 0, 0);
  const int64_t local = *rc::gen::inRange<int64_t>(base, base + 10'000'000'000);
  const int64_t t = c.TrueAt(local);
  RC_ASSERT(c.Mono(t) >= local);
  // (RapidCheck's captured || evaluates both sides, so the guard is an if.)
  if (t > 0) RC_ASSERT(c.Mono(t - 1) < local);
}

TEST(NodeClock, DriftChangesTheRateAndWallStepsLeaveMonoAlone) {
  NodeClock fast(0, 10'000, 0, 0), slow(0, -10'000, 0, 0);
  EXPECT_EQ(fast.Mono(1'000'000), 1'010'000);
  EXPECT_EQ(slow.Mono(1'000'000), 990'000);
  Prng rng(1);
  NodeClock c(0, 0, 500, 0);
  EXPECT_EQ(c.Wall(1'000, rng), kSimWallEpochUs + 1'500);
  c.StepWall(-2'000);
  EXPECT_EQ(c.Wall(1'000, rng), kSimWallEpochUs - 500);
  EXPECT_EQ(c.Mono(1'000), 1'000);
}

}  // namespace
}  // namespace paxcron::sim
