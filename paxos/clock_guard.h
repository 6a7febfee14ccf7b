// The clock-integrity guard's arithmetic (issue "Jepsen-style faults", section 3): how far this
// node's wall clock is from a majority's. Pure functions, no clock reads.
//
// Each source is an interval that certainly holds the offset (source's wall clock minus ours):
// a peer's reading taken between our send and our receipt of a heartbeat lies within
// [reading - sent - rtt, reading - sent]; our own clock is [0, 0]. Widened by the tolerance on
// both sides, intervals of clocks that agree within it overlap. Marzullo's algorithm finds the
// interval consistent with the largest number of sources (TigerBeetle keeps its cluster time the
// same way). Our own clock agrees with a majority when a majority's intervals share a point with
// our own widened interval; it is certainly off when too few could, heard or not.
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

// How many of `sources` share one point with `clock` (an interval that may be among them): the
// largest group of clocks that agree with it.
uint32_t AgreeingWith(const std::vector<OffsetInterval>& sources, OffsetInterval clock);

// The guard's judgement of our own clock from `sources`, every interval already widened by half
// the tolerance; sources[0] is our own, the others are one per member heard from recently.
struct ClockJudgement {
  ClockVerdict verdict = ClockVerdict::kUnknown;
  uint32_t agreeing = 0;  // the most sources sharing one point with our own, ours included
  uint32_t heard = 0;     // sources, ours included
  std::optional<OffsetEstimate> majority;  // Marzullo over every source: the others' best guess
};

// kAgrees when `quorum` sources, ours among them, share a point: a majority's clocks are within
// the tolerance of ours. kOff when even the members not heard from (`members` less the sources)
// could not make that many with ours: a majority certainly disagrees. kUnknown otherwise: too
// few readings, or the readings split with no majority either way. Counting the agreement with
// our own interval, not only whether the most-agreed interval misses ours, matters when the
// others split: a leader 2 minutes ahead whose four followers read -2 min, -2 min, +20 s and
// (down) nothing has no majority against it by Marzullo's count, yet cannot find one for it.
ClockJudgement JudgeOwnClock(const std::vector<OffsetInterval>& sources, uint32_t members,
                             uint32_t quorum);

}  // namespace paxcron::paxos
