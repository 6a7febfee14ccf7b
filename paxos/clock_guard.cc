#include "paxos/clock_guard.h"

#include <algorithm>
#include <utility>

#include "common/assert.h"

namespace paxcron::paxos {

std::optional<OffsetEstimate> Marzullo(const std::vector<OffsetInterval>& sources) {
  if (sources.empty()) return std::nullopt;
  // Edges sorted by offset; at equal offsets a start (-1) comes before an end (+1), so that
  // intervals that only touch count as overlapping.
  std::vector<std::pair<int64_t, int>> edges;
  edges.reserve(sources.size() * 2);
  for (const OffsetInterval& s : sources) {
    PAXCRON_ASSERT(s.lo_us <= s.hi_us);
    edges.emplace_back(s.lo_us, -1);
    edges.emplace_back(s.hi_us, +1);
  }
  std::sort(edges.begin(), edges.end());
  OffsetEstimate best;
  uint32_t open = 0;
  for (size_t i = 0; i < edges.size(); ++i) {
    if (edges[i].second == -1) {
      ++open;
      if (open > best.sources) {
        best.sources = open;
        best.interval.lo_us = edges[i].first;
        best.interval.hi_us = edges[i + 1].first;  // a start is never the last edge
      }
    } else {
      --open;
    }
  }
  PAXCRON_ASSERT(best.sources >= 1 && best.interval.lo_us <= best.interval.hi_us);
  return best;
}

const char* ClockVerdictName(ClockVerdict v) {
  switch (v) {
    case ClockVerdict::kAgrees:
      return "agrees";
    case ClockVerdict::kOff:
      return "off";
    case ClockVerdict::kUnknown:
      return "unknown";
  }
  return "?";
}

uint32_t AgreeingWith(const std::vector<OffsetInterval>& sources, OffsetInterval clock) {
  // The intervals that meet `clock`'s, cut to it: the most of them sharing a point is the largest
  // group that agrees with that clock.
  std::vector<OffsetInterval> meeting;
  for (const OffsetInterval& s : sources) {
    if (s.hi_us < clock.lo_us || clock.hi_us < s.lo_us) continue;
    meeting.push_back({std::max(s.lo_us, clock.lo_us), std::min(s.hi_us, clock.hi_us)});
  }
  if (meeting.empty()) return 0;
  return Marzullo(meeting)->sources;
}

ClockJudgement JudgeOwnClock(const std::vector<OffsetInterval>& sources, uint32_t members,
                             uint32_t quorum) {
  PAXCRON_ASSERT(quorum >= 1 && quorum <= members);
  ClockJudgement j;
  j.heard = static_cast<uint32_t>(sources.size());
  if (sources.empty()) return j;
  PAXCRON_ASSERT(j.heard <= members);
  j.majority = Marzullo(sources);
  j.agreeing = AgreeingWith(sources, sources[0]);
  if (j.agreeing >= quorum) {
    j.verdict = ClockVerdict::kAgrees;
  } else if (j.agreeing + (members - j.heard) < quorum) {
    j.verdict = ClockVerdict::kOff;
  }
  return j;
}

}  // namespace paxcron::paxos
