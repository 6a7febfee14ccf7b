#include "sim/fault_plan.h"

#include <fmt/format.h>

#include <algorithm>

namespace paxcron::sim {
namespace {

constexpr int64_t kSecond = 1'000'000;

// Gaps between faults shrink as intensity grows (1 gentle, 2 default, 3 harsh).
int64_t Gap(Prng& rng, int64_t lo_us, int64_t hi_us, uint32_t intensity) {
  return rng.RangeSigned(lo_us, hi_us) * 2 / static_cast<int64_t>(std::max(intensity, 1u));
}

void AddPartitions(const SimOptions& o, Prng& rng, std::vector<FaultEvent>& out) {
  for (int64_t t = Gap(rng, 1 * kSecond, 8 * kSecond, o.intensity); t < o.duration_us;) {
    FaultEvent e;
    e.at_us = t;
    e.kind = FaultEvent::Kind::kPartition;
    e.partition = static_cast<PartitionKind>(rng.Range(0, 4));
    e.node = static_cast<uint32_t>(rng.Range(1, o.nodes));
    e.mask = rng.Next();
    e.duration_us = rng.RangeSigned(200'000, 8 * kSecond);
    out.push_back(e);
    FaultEvent heal;
    heal.at_us = std::min(t + e.duration_us, o.duration_us);
    heal.kind = FaultEvent::Kind::kHeal;
    out.push_back(heal);
    t = heal.at_us + Gap(rng, 1 * kSecond, 12 * kSecond, o.intensity);
  }
}

void AddCrashes(const SimOptions& o, Prng& rng, std::vector<FaultEvent>& out) {
  for (int64_t t = Gap(rng, 1 * kSecond, 10 * kSecond, o.intensity); t < o.duration_us;
       t += Gap(rng, 1 * kSecond, 12 * kSecond, o.intensity)) {
    FaultEvent e;
    e.at_us = t;
    e.kind = rng.Chance(100'000) ? FaultEvent::Kind::kHandOver : FaultEvent::Kind::kCrash;
    e.node = rng.Chance(500'000) ? 0 : static_cast<uint32_t>(rng.Range(1, o.nodes));
    e.duration_us = rng.Chance(200'000) ? rng.RangeSigned(10'000, 200'000)
                                        : rng.RangeSigned(200'000, 6 * kSecond);
    e.mask = rng.Next();
    out.push_back(e);
  }
}

void AddWindows(const SimOptions& o, Prng& rng, FaultEvent::Kind kind, uint32_t max_per_million,
                std::vector<FaultEvent>& out) {
  for (int64_t t = Gap(rng, 1 * kSecond, 10 * kSecond, o.intensity); t < o.duration_us;) {
    FaultEvent on;
    on.at_us = t;
    on.kind = kind;
    on.param = static_cast<uint32_t>(rng.Range(10'000, max_per_million));
    out.push_back(on);
    FaultEvent off = on;
    off.at_us = std::min(t + rng.RangeSigned(500'000, 6 * kSecond), o.duration_us);
    off.param = 0;
    out.push_back(off);
    t = off.at_us + Gap(rng, 1 * kSecond, 12 * kSecond, o.intensity);
  }
}

void AddClocks(const SimOptions& o, Prng& rng, FaultPlan& plan) {
  for (uint32_t i = 0; i < o.nodes; ++i) {
    ClockSpec c;
    c.mono_base_us = rng.RangeSigned(0, 1'000 * kSecond);  // machines booted at different times
    if (o.faults.skew) {
      const int64_t bound = o.drift_bound_ppm;
      const int64_t limit =
          o.faults.skew_beyond_bound ? std::min<int64_t>(bound * 30, 300'000) : bound;
      // Half the clocks sit at an edge of the allowed range: the adversarial case for leases.
      c.drift_ppm =
          static_cast<int32_t>(rng.Chance(500'000) ? (rng.Chance(500'000) ? limit : -limit)
                                                   : rng.RangeSigned(-limit, limit));
      c.wall_offset_us = rng.RangeSigned(-500'000, 500'000);
      c.jitter_us = 200;
    }
    plan.clocks.push_back(c);
  }
  if (!o.faults.skew) return;
  for (int64_t t = Gap(rng, 2 * kSecond, 30 * kSecond, o.intensity); t < o.duration_us;
       t += Gap(rng, 5 * kSecond, 60 * kSecond, o.intensity)) {
    FaultEvent e;
    e.at_us = t;
    e.kind = FaultEvent::Kind::kClockStep;
    e.node = static_cast<uint32_t>(rng.Range(1, o.nodes));
    e.delta_us = rng.RangeSigned(-2 * kSecond, 2 * kSecond);
    plan.events.push_back(e);
  }
}

}  // namespace

FaultPlan GenerateFaultPlan(const SimOptions& o, Prng& rng) {
  FaultPlan plan;
  // Each kind draws from its own fork, so enabling one kind does not reshuffle the others.
  Prng clock_rng = rng.Fork(), partition_rng = rng.Fork(), crash_rng = rng.Fork();
  Prng loss_rng = rng.Fork(), dup_rng = rng.Fork(), reorder_rng = rng.Fork();
  AddClocks(o, clock_rng, plan);
  if (o.faults.partition) AddPartitions(o, partition_rng, plan.events);
  if (o.faults.crash) AddCrashes(o, crash_rng, plan.events);
  if (o.faults.drop) AddWindows(o, loss_rng, FaultEvent::Kind::kLoss, 300'000, plan.events);
  if (o.faults.dup) AddWindows(o, dup_rng, FaultEvent::Kind::kDup, 200'000, plan.events);
  if (o.faults.reorder) {
    AddWindows(o, reorder_rng, FaultEvent::Kind::kReorder, 300'000, plan.events);
  }
  Prng scheduler_rng = rng.Fork();  // forked last: plans without cron jobs are unchanged
  if (o.faults.scheduler && o.cron_jobs > 0) {
    for (int64_t t = Gap(scheduler_rng, 2 * kSecond, 30 * kSecond, o.intensity); t < o.duration_us;
         t += Gap(scheduler_rng, 5 * kSecond, 60 * kSecond, o.intensity)) {
      FaultEvent e;
      e.at_us = t;
      e.kind = FaultEvent::Kind::kSchedulerDown;
      e.duration_us = scheduler_rng.RangeSigned(200'000, 10 * kSecond);
      plan.events.push_back(e);
    }
  }
  Prng pause_rng = rng.Fork();
  if (o.faults.crash && o.cron_jobs > 0) {
    for (int64_t t = Gap(pause_rng, 2 * kSecond, 20 * kSecond, o.intensity); t < o.duration_us;
         t += Gap(pause_rng, 5 * kSecond, 40 * kSecond, o.intensity)) {
      FaultEvent e;
      e.at_us = t;
      e.kind = FaultEvent::Kind::kPause;
      e.node = pause_rng.Chance(700'000) ? 0 : static_cast<uint32_t>(pause_rng.Range(1, o.nodes));
      e.duration_us = pause_rng.RangeSigned(500'000, 6 * kSecond);
      plan.events.push_back(e);
    }
  }
  Prng disk_rng = rng.Fork();
  // Bit flips hit one node per run: a node whose damage is found stays down (it refuses to start
  // rather than guess), and one lost node leaves a majority of 3 or more with room for crashes.
  if (o.faults.disk && o.nodes >= 3) {
    const uint32_t victim = static_cast<uint32_t>(disk_rng.Range(1, o.nodes));
    for (int64_t t = Gap(disk_rng, 60 * kSecond, 1200 * kSecond, o.intensity); t < o.duration_us;
         t += Gap(disk_rng, 60 * kSecond, 1200 * kSecond, o.intensity)) {
      FaultEvent e;
      e.at_us = t;
      e.kind = FaultEvent::Kind::kDiskFlip;
      e.node = victim;
      e.mask = disk_rng.Next();
      plan.events.push_back(e);
    }
  }
  Prng jump_rng = rng.Fork();
  // The leader's wall clock (node 0: whoever leads then) jumps by 1 to 10 minutes, ahead or
  // behind; NTP then slews it back by halves (sim/clock.h), over about ten minutes.
  if (o.faults.clock_jump) {
    for (int64_t t = Gap(jump_rng, 10 * kSecond, 40 * kSecond, o.intensity); t < o.duration_us;
         t += Gap(jump_rng, 60 * kSecond, 240 * kSecond, o.intensity)) {
      FaultEvent e;
      e.at_us = t;
      e.kind = FaultEvent::Kind::kClockStep;
      e.node = 0;
      const int64_t minutes = jump_rng.RangeSigned(60 * kSecond, 600 * kSecond);
      e.delta_us = jump_rng.Chance(700'000) ? minutes : -minutes;
      plan.events.push_back(e);
    }
  }
  std::stable_sort(plan.events.begin(), plan.events.end(),
                   [](const FaultEvent& a, const FaultEvent& b) { return a.at_us < b.at_us; });
  return plan;
}

std::string DescribeEvent(const FaultEvent& e) {
  switch (e.kind) {
    case FaultEvent::Kind::kPartition:
      return fmt::format("partition kind={}", int(e.partition));
    case FaultEvent::Kind::kHeal:
      return "heal";
    case FaultEvent::Kind::kCrash:
      return fmt::format("crash node={} for={}us", e.node, e.duration_us);
    case FaultEvent::Kind::kHandOver:
      return "handover";
    case FaultEvent::Kind::kLoss:
      return fmt::format("loss={}ppm", e.param);
    case FaultEvent::Kind::kDup:
      return fmt::format("dup={}ppm", e.param);
    case FaultEvent::Kind::kReorder:
      return fmt::format("reorder={}ppm", e.param);
    case FaultEvent::Kind::kClockStep:
      return fmt::format("clock_step node={} {}us", e.node, e.delta_us);
    case FaultEvent::Kind::kSchedulerDown:
      return fmt::format("scheduler_down for={}us", e.duration_us);
    case FaultEvent::Kind::kPause:
      return fmt::format("pause node={} for={}us", e.node, e.duration_us);
    case FaultEvent::Kind::kDiskFlip:
      return fmt::format("disk_flip node={}", e.node);
  }
  return "?";
}

}  // namespace paxcron::sim
