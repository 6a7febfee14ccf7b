// The bounded-lateness checker (issue: "while a majority is up and connected and the scheduler
// reachable, runs start within a stated bound of their scheduled time; after a failover, within
// the failover bound").
//
// Lateness is measured on the clock of the leader that decided: from the moment its wall clock
// read the scheduled time to the start (or the skip). A leader's clock that is wrong makes runs
// fire at the wrong true time whatever the cron does; that error is the clock's, reported by the
// clock faults, and guarded against separately. The health of the world over true time comes
// from the fault state (health.h). A run is judged when its window lies wholly in the past:
//   steady    the world was fully healthy from steady_after before the scheduled time until
//             lateness_bound after it: the run must start within lateness_bound;
//   failover  a connected majority was up (and the scheduler reachable) from failover_bound
//             before until failover_bound after, and at most one leader disruption (a new
//             cron leader, or the running one frozen) happened in that time: one failover,
//             since several in a row add up. The run must start within failover_bound.
// Manual runs and backfilled runs are late on purpose and not judged. A scheduled run skipped as
// missed or past its deadline while the world was fully healthy is a violation too.
#include <fmt/format.h>

#include <algorithm>
#include <bit>

#include "cron/run_name.h"
#include "sim/world.h"

namespace paxcron::sim {

Health World::HealthNow() const {
  const LinkConditions& net = network_.conditions();
  if (now_us_ < scheduler_down_until_us_ || net.loss_per_million > 0 ||
      net.reorder_per_million > 0) {
    return Health::kDegraded;
  }
  const uint32_t n = options_.nodes;
  uint32_t ok_mask = 0;
  uint32_t live_mask = 0;  // a node broken by disk damage is out of the cluster for good
  for (uint32_t i = 1; i <= n; ++i) {
    if (nodes_[i].up && nodes_[i].paused_until_us <= now_us_) ok_mask |= 1u << (i - 1);
    if (!nodes_[i].broken) live_mask |= 1u << (i - 1);
  }
  if (ok_mask == live_mask && !network_.AnyBlocked() && net.dup_per_million == 0) {
    return Health::kFull;
  }
  // The largest group of healthy nodes with every link among them open both ways (n <= 9).
  uint32_t best = 0;
  for (uint32_t group = ok_mask; group != 0; group = (group - 1) & ok_mask) {
    const uint32_t size = static_cast<uint32_t>(std::popcount(group));
    if (size <= best) continue;
    bool connected = true;
    for (uint32_t a = 1; a <= n && connected; ++a) {
      for (uint32_t b = 1; b <= n && connected; ++b) {
        if (a != b && (group >> (a - 1) & 1) && (group >> (b - 1) & 1)) {
          connected = !network_.Blocked(a, b);
        }
      }
    }
    if (connected) best = size;
  }
  return best >= n / 2 + 1 ? Health::kMajority : Health::kDegraded;
}

void World::NoteHealth() {
  if (cron()) health_.Note(now_us_, HealthNow());
}

void World::DipHealth(Health level) {
  if (cron()) health_.Dip(now_us_, level);
}

void World::CheckLateness(const std::string& run, int64_t fire_true_us, int64_t late_us,
                          bool started) {
  const int64_t steady = options_.lateness_bound_us;
  const int64_t failover = options_.failover_bound_us;
  const int64_t warmup = options_.steady_after_us;
  if (fire_true_us - std::max(failover, warmup) < 0) return;  // too early to know what came before
  // The part of each window that has happened yet; when the bound was exceeded, all of it has.
  const int64_t full_end = std::min(fire_true_us + steady, now_us_);
  const int64_t majority_end = std::min(fire_true_us + failover, now_us_);
  if (full_end < fire_true_us - warmup) return;
  const bool full = health_.MinOver(fire_true_us - warmup, full_end) == Health::kFull;
  const auto first = std::lower_bound(leader_disruptions_.begin(), leader_disruptions_.end(),
                                      fire_true_us - failover);
  const auto last = std::upper_bound(first, leader_disruptions_.end(), majority_end);
  const bool majority = majority_end >= fire_true_us - failover && last - first <= 1 &&
                        health_.MinOver(fire_true_us - failover, majority_end) >= Health::kMajority;
  if (full) {
    if (started) {
      ++stats_.late_checked_full;
      stats_.late_max_full_us = std::max(stats_.late_max_full_us, late_us);
      stats_.lateness_full_us.push_back(late_us);
    }
    if (!started || late_us > steady) {
      checkers_.Report(
          "lateness", now_us_,
          fmt::format("run {} {} {:.3f}s late on its leader's clock, although every node was up "
                      "and connected and the scheduler reachable from {:.3f}s before its time "
                      "(steady bound {:.3f}s)",
                      run, started ? "started" : "was skipped", late_us / 1e6, warmup / 1e6,
                      steady / 1e6));
    }
  } else if (majority && started) {
    ++stats_.late_checked_majority;
    stats_.late_max_majority_us = std::max(stats_.late_max_majority_us, late_us);
    if (late_us > failover) {
      checkers_.Report("lateness", now_us_,
                       fmt::format("run {} started {:.3f}s late on its leader's clock, although a "
                                   "connected majority was up and the scheduler reachable "
                                   "throughout (failover bound {:.3f}s)",
                                   run, late_us / 1e6, failover / 1e6));
    }
  }
}

void World::JudgeSkip(Node& n, const cron::pb::SkipRun& skip) {
  const std::string run = cron::RunName(skip.job(), skip.scheduled_s());
  auto origin = skip_origins_.find(run);
  if (origin == skip_origins_.end()) return;
  const SkipOrigin o = origin->second;
  skip_origins_.erase(origin);
  const bool for_lateness =
      skip.reason().starts_with("missed:") || skip.reason().starts_with("deadline:");
  const cron::pb::JobState* job = n.sm->FindJob(skip.job());
  if (!for_lateness || job == nullptr || job->history_size() == 0 ||
      job->history().rbegin()->run_name() != run || job->history().rbegin()->backfill()) {
    return;
  }
  const int64_t late_us = o.wall_us - skip.scheduled_s() * 1'000'000;
  CheckLateness(run, o.true_us - late_us, late_us, false);
}

}  // namespace paxcron::sim
