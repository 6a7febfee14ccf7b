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

ClockVerdict JudgeClock(const std::optional<OffsetEstimate>& estimate, uint32_t quorum,
                        int64_t tolerance_us) {
  if (!estimate.has_value() || estimate->sources < quorum) return ClockVerdict::kUnknown;
  if (estimate->interval.lo_us > tolerance_us || estimate->interval.hi_us < -tolerance_us) {
    return ClockVerdict::kOff;
  }
  return ClockVerdict::kAgrees;
}

}  // namespace paxcron::paxos
