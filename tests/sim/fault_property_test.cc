// RapidCheck properties over generated fault schedules: whatever partitions, crashes, loss,
// duplication, reordering and clock behaviour (within the drift bound) a schedule holds, every
// checker passes. On failure RapidCheck shrinks the schedule to a minimal failing one.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <ostream>

#include "sim/report.h"

namespace paxcron::sim {
namespace {

constexpr int64_t kRunUs = 20'000'000;

}  // namespace

// How RapidCheck prints a (shrunk) failing schedule.
void showValue(const FaultPlan& plan, std::ostream& os) {
  for (const ClockSpec& c : plan.clocks) os << "clock drift=" << c.drift_ppm << "ppm; ";
  os << "\n";
  for (const FaultEvent& e : plan.events)
    os << "  t=" << e.at_us << "us " << DescribeEvent(e) << "\n";
}

namespace {

rc::Gen<FaultEvent> GenEvent(uint32_t nodes) {
  return rc::gen::exec([nodes]() {
    FaultEvent e;
    e.at_us = *rc::gen::inRange<int64_t>(0, kRunUs);
    e.kind = static_cast<FaultEvent::Kind>(*rc::gen::inRange(0, 8));
    e.partition = static_cast<PartitionKind>(*rc::gen::inRange(0, 5));
    e.node = *rc::gen::inRange<uint32_t>(0, nodes + 1);
    if (e.kind == FaultEvent::Kind::kClockStep && e.node == 0) e.node = 1;
    e.mask = *rc::gen::arbitrary<uint64_t>();
    e.param = *rc::gen::inRange<uint32_t>(0, 400'000);
    e.duration_us = *rc::gen::inRange<int64_t>(1'000, 5'000'000);
    e.delta_us = *rc::gen::inRange<int64_t>(-2'000'000, 2'000'000);
    return e;
  });
}

rc::Gen<FaultPlan> GenPlan(uint32_t nodes, uint32_t drift_bound_ppm) {
  return rc::gen::exec([=]() {
    FaultPlan plan;
    const int32_t bound = static_cast<int32_t>(drift_bound_ppm);
    for (uint32_t i = 0; i < nodes; ++i) {
      ClockSpec c;
      c.mono_base_us = *rc::gen::inRange<int64_t>(0, 1'000'000'000);
      c.drift_ppm = *rc::gen::inRange(-bound, bound + 1);
      c.wall_offset_us = *rc::gen::inRange<int64_t>(-1'000'000, 1'000'000);
      plan.clocks.push_back(c);
    }
    plan.events = *rc::gen::container<std::vector<FaultEvent>>(GenEvent(nodes));
    std::stable_sort(plan.events.begin(), plan.events.end(),
                     [](const FaultEvent& a, const FaultEvent& b) { return a.at_us < b.at_us; });
    return plan;
  });
}

// One run of a generated schedule; `bug` may name an injected bug.
void RunGeneratedSchedule(const char* bug) {
  const uint32_t nodes = *rc::gen::element(3u, 5u);
  SimOptions o;
  o.seed = *rc::gen::inRange<uint64_t>(1, 1'000'000);
  o.nodes = nodes;
  o.duration_us = kRunUs;
  if (bug != nullptr) o.bugs = ParseBug(bug).value();
  const FaultPlan plan = *GenPlan(nodes, o.drift_bound_ppm);
  World world(o, plan, nullptr);
  const RunResult r = world.Run();
  if (!r.ok) RC_LOG() << FormatResultLine(r) << "\n";
  RC_ASSERT(r.ok);
  RC_TAG(r.stats.crashes > 0 ? "crashes" : "no crashes");
}

RC_GTEST_PROP(FaultSchedules, EveryCheckerPassesUnderAnyScheduleWithinTheBounds, ()) {
  RunGeneratedSchedule(nullptr);
}

// The same property fails once a bug is on, and RapidCheck shrinks the schedule to a minimal
// one that still fails (printed): the property is not vacuous.
TEST(FaultSchedules, ThePropertyFailsAndShrinksWithSmallQuorums) {
  const bool held =
      rc::check("schedules with small quorums", [] { RunGeneratedSchedule("small-quorum"); });
  EXPECT_FALSE(held);
}

}  // namespace
}  // namespace paxcron::sim
