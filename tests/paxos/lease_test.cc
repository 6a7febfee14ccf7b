// Lease arithmetic: the holder's lease ends, in true time, before any granter's promise does,
// for every clock rate within the drift bound (PITFALLS "Leases"; Raft thesis 6.4.1).
#include "paxos/lease.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "sim/clock.h"

namespace paxcron::paxos {
namespace {

TEST(Lease, HolderSpanShrinksByTheDriftBound) {
  // 2 s * (1 - 1%) / (1 + 1%) - 1 ms.
  EXPECT_EQ(HolderLeaseSpanUs(2'000'000, 10'000, 1'000, false), 1'959'396);
  EXPECT_EQ(HolderLeaseSpanUs(2'000'000, 0, 0, false), 2'000'000 - 0);
  EXPECT_EQ(HolderLeaseSpanUs(2'000'000, 10'000, 1'000, true), 2'000'000);  // the bug
  EXPECT_EQ(HolderLeaseSpanUs(1'000, 10'000, 5'000, false), 0);             // never negative
}

// True time at which the holder stops believing, and at which a granter stops refusing others.
struct LeaseTimes {
  int64_t holder_end;
  int64_t granter_end;
};
LeaseTimes Simulate(int32_t holder_ppm, int32_t granter_ppm, int64_t send_true, int64_t delay,
                    bool bug) {
  const sim::NodeClock holder(123'456, holder_ppm, 0, 0), granter(987'654, granter_ppm, 0, 0);
  const int64_t granted = 2'000'000;
  const int64_t holder_local_end =
      holder.Mono(send_true) + HolderLeaseSpanUs(granted, 10'000, 1'000, bug);
  const int64_t granter_local_end = granter.Mono(send_true + delay) + granted;
  return {holder.TrueAt(holder_local_end), granter.TrueAt(granter_local_end)};
}

RC_GTEST_PROP(Lease, HolderExpiresFirstForAnyDriftWithinBound, ()) {
  const int32_t h = *rc::gen::inRange(-10'000, 10'001);
  const int32_t g = *rc::gen::inRange(-10'000, 10'001);
  const int64_t send = *rc::gen::inRange<int64_t>(0, 1'000'000'000);
  const int64_t delay = *rc::gen::inRange<int64_t>(0, 100'000);
  const LeaseTimes t = Simulate(h, g, send, delay, false);
  RC_ASSERT(t.holder_end <= t.granter_end);
}

TEST(Lease, WithoutTheMarginASlowHolderOutlivesAFastGranter) {
  const LeaseTimes t = Simulate(-10'000, 10'000, 5'000'000, 500, true);
  EXPECT_GT(t.holder_end, t.granter_end);  // the overlap lease-no-drift-margin creates
  const LeaseTimes safe = Simulate(-10'000, 10'000, 5'000'000, 500, false);
  EXPECT_LE(safe.holder_end, safe.granter_end);
}

}  // namespace
}  // namespace paxcron::paxos
