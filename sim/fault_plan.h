// A fault schedule: everything bad that will happen during a run, decided up front from the seed
// (or built by a property test, which can then shrink it). Plain data; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/prng.h"
#include "sim/options.h"

namespace paxcron::sim {

enum class PartitionKind { kSplitHalves, kIsolateLeader, kIsolateNode, kOneWay, kRandomLinks };

struct FaultEvent {
  enum class Kind {
    kPartition,  // cut links (see partition); healed by a later kHeal
    kHeal,
    kCrash,     // crash `node` (0: whoever leads then), restart after duration_us
    kHandOver,  // the leader hands over to another node (a graceful, planned change)
    kLoss,      // set message loss to param per million (0 ends the window)
    kDup,
    kReorder,
    kClockStep,      // step `node`'s wall clock by delta_us
    kSchedulerDown,  // the datacenter scheduler answers nothing for duration_us (cron runs)
    kPause,          // `node` (0: the leader) stops for duration_us, then carries on (a long GC
                     // pause, SIGSTOP, a frozen VM): it wakes with stale beliefs
    kDiskFlip,       // one bit of `node`'s durable files flips (drawn from mask)
  };
  int64_t at_us = 0;
  Kind kind = Kind::kHeal;
  PartitionKind partition = PartitionKind::kSplitHalves;
  uint32_t node = 0;
  uint64_t mask = 0;  // partitions: which nodes / links are on one side, drawn at generation
  uint32_t param = 0;
  int64_t duration_us = 0;
  int64_t delta_us = 0;
};

struct ClockSpec {
  int64_t mono_base_us = 0;
  int32_t drift_ppm = 0;
  int64_t wall_offset_us = 0;
  int64_t jitter_us = 0;
};

struct FaultPlan {
  std::vector<ClockSpec> clocks;   // one per node
  std::vector<FaultEvent> events;  // sorted by at_us
};

FaultPlan GenerateFaultPlan(const SimOptions& options, Prng& rng);
std::string DescribeEvent(const FaultEvent& e);

}  // namespace paxcron::sim
