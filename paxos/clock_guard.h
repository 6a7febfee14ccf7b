// The clock-integrity guard's arithmetic (issue "Jepsen-style faults", section 3): how far this
// node's wall clock is from a majority's. Pure functions, no clock reads.
//
// Each source is an interval that certainly holds the offset (source's wall clock minus ours):
// a peer's reading taken between our send and our receipt of a heartbeat lies within
// [reading - sent - rtt, reading - sent]; our own clock is [0, 0]. Marzullo's algorithm finds the
// smallest interval consistent with the largest number of sources (TigerBeetle keeps its cluster
// time the same way). If that number reaches a majority, the majority's clock is within the
// interval of ours; the node's own error is its negation.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace paxcron::paxos {

struct OffsetInterval {
  int64_t lo_us = 0;  // REQUIRES: lo_us <= hi_us
  int64_t hi_us = 0;
};

struct OffsetEstimate {
  OffsetInterval interval;  // the agreed offset of the others' clocks from ours
  uint32_t sources = 0;     // how many of the intervals contain it
};

// Marzullo's algorithm: the interval where the most sources overlap (the earliest such one on a
// tie). Empty input: nullopt.
std::optional<OffsetEstimate> Marzullo(const std::vector<OffsetInterval>& sources);

// Whether a node whose majority estimate is `estimate` is certainly off by more than
// `tolerance_us` (its whole interval lies beyond the tolerance), given that a majority of
// `quorum` sources agreed. nullopt estimate, or fewer sources than `quorum`: no verdict (false).
bool ClockBeyondTolerance(const std::optional<OffsetEstimate>& estimate, uint32_t quorum,
                          int64_t tolerance_us);

}  // namespace paxcron::paxos
