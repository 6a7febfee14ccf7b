#include "sim/health.h"

#include <algorithm>

#include "common/assert.h"

namespace paxcron::sim {

const char* HealthName(Health h) {
  switch (h) {
    case Health::kDegraded:
      return "degraded";
    case Health::kMajority:
      return "majority";
    case Health::kFull:
      return "full";
  }
  return "?";
}

void HealthTimeline::Note(int64_t t_us, Health level) {
  PAXCRON_ASSERT(points_.empty() || points_.back().first <= t_us);
  if (!points_.empty() && points_.back().second == level) return;
  points_.emplace_back(t_us, level);
}

void HealthTimeline::Dip(int64_t t_us, Health level) {
  const Health now = points_.empty() ? Health::kFull : points_.back().second;
  if (level >= now) return;
  points_.emplace_back(t_us, level);
  points_.emplace_back(t_us, now);
}

Health HealthTimeline::MinOver(int64_t from_us, int64_t to_us) const {
  PAXCRON_ASSERT(from_us <= to_us);
  // The level in force at from_us: the last point at or before it.
  auto it = std::upper_bound(points_.begin(), points_.end(), from_us,
                             [](int64_t t, const auto& p) { return t < p.first; });
  Health low = it == points_.begin() ? Health::kFull : std::prev(it)->second;
  // A dip recorded exactly at from_us sits before `it`: include every point at from_us.
  for (auto back = it; back != points_.begin() && std::prev(back)->first == from_us; --back) {
    low = std::min(low, std::prev(back)->second);
  }
  for (; it != points_.end() && it->first <= to_us; ++it) low = std::min(low, it->second);
  return low;
}

}  // namespace paxcron::sim
