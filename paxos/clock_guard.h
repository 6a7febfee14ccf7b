// The clock-integrity guard's arithmetic (issue "Jepsen-style faults", section 3): how far this
// node's wall clock is from a majority's. Pure functions, no clock reads.
//
// Each source is an interval that certainly holds the offset (source's wall clock minus ours):
// a peer's reading taken between our send and our receipt of a heartbeat lies within
// [reading - sent - rtt, reading - sent]; our own clock is [0, 0]. Widened by the tolerance on
// both sides, intervals of clocks that agree within it overlap. Marzullo's algorithm finds the
// interval consistent with the largest number of sources (TigerBeetle keeps its cluster time the
// same way). If that number reaches a majority and the interval lies wholly beyond our own
// widened interval [-tolerance, tolerance], a majority certainly disagrees with our clock.
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

enum class ClockVerdict {
  kAgrees,   // a majority's clocks are within the tolerance of ours: act
  kOff,      // a majority certainly puts ours beyond it: do not act, hand over
  kUnknown,  // too few fresh readings (a new leader, a partition): do not act yet
};
const char* ClockVerdictName(ClockVerdict v);  // "agrees", "off", "unknown"

// The verdict on a node whose estimate (of intervals widened by `tolerance_us`, its own being
// [-tolerance_us, tolerance_us]) is `estimate`: kAgrees when at least `quorum` sources overlap
// in an interval that meets its own, kOff when they overlap wholly outside it.
ClockVerdict JudgeClock(const std::optional<OffsetEstimate>& estimate, uint32_t quorum,
                        int64_t tolerance_us);

}  // namespace paxcron::paxos
