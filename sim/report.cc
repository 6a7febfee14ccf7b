#include "sim/report.h"

#include <fmt/format.h>

#include "common/hash.h"

namespace paxcron::sim {

RunResult RunSeed(const SimOptions& options, Trace* trace) {
  Prng plan_rng(HashU64(options.seed, 0));
  World world(options, GenerateFaultPlan(options, plan_rng), trace);
  return world.Run();
}

std::string FormatResultLine(const RunResult& r) {
  const RunStats& s = r.stats;
  if (!r.ok) {
    return fmt::format("seed {}: FAIL {} at t={:.6f}s: {}", r.seed, r.violation.checker,
                       static_cast<double>(r.violation.t_us) / 1e6, r.violation.detail);
  }
  return fmt::format(
             "seed {}: ok slots={} msgs={} dropped={} crashes={} partitions={} elections={} "
             "leases={} "
             "liveness={:.3f}s snapshots={} installs={} log_peak={}B/{}slots snapshot_peak={}B "
             "disk_peak={}B torn={} flips={} damaged={}",
             r.seed, s.slots_chosen, s.messages_sent, s.messages_dropped, s.crashes, s.partitions,
             s.elections_won, s.leases_started, static_cast<double>(s.liveness_us) / 1e6,
             s.snapshots_taken, s.snapshots_installed, s.peak_log_bytes, s.peak_log_slots,
             s.peak_snapshot_bytes, s.peak_disk_bytes, s.torn_tails, s.disk_flips,
             s.disk_damage_found) +
         (s.launch_rpcs > 0
              ? fmt::format(" runs_started={} runs_skipped={} launch_rpcs={} judged={}/{} "
                            "late_steady_max={:.3f}s late_failover_max={:.3f}s",
                            s.runs_started, s.runs_skipped, s.launch_rpcs, s.late_checked_full,
                            s.late_checked_majority, static_cast<double>(s.late_max_full_us) / 1e6,
                            static_cast<double>(s.late_max_majority_us) / 1e6)
              : "") +
         (s.fast_windows > 0
              ? fmt::format(" fast_windows={} collisions={} recoveries={} "
                            "fallbacks={}",
                            s.fast_windows, s.fast_collisions, s.fast_recoveries, s.fast_fallbacks)
              : "") +
         (s.clock_guard_trips > 0 || s.early_max_us > 0
              ? fmt::format(" clock_guard={} early_max={:.3f}s", s.clock_guard_trips,
                            static_cast<double>(s.early_max_us) / 1e6)
              : "");
}

std::string ReplayCommand(const SimOptions& o, uint64_t seed) {
  std::string cmd = fmt::format("paxcron sim --seed {} --nodes {} --duration {} --faults {}", seed,
                                o.nodes, FormatDuration(o.duration_us), o.faults_text);
  if (o.mode == paxos::Mode::kFast) cmd += " --mode fast";
  if (!o.bug_name.empty()) cmd += " --inject-bug " + o.bug_name;
  if (o.intensity != 2) cmd += fmt::format(" --intensity {}", o.intensity);
  if (o.snapshot_every_slots != SimOptions{}.snapshot_every_slots) {
    cmd += fmt::format(" --snapshot-every {}", o.snapshot_every_slots);
  }
  if (o.proposals_per_sec != 100) cmd += fmt::format(" --proposals {}", o.proposals_per_sec);
  if (o.cron_jobs > 0) {
    cmd += fmt::format(" --jobs {} --scheduler {}", o.cron_jobs, SchedulerModeName(o.scheduler));
    if (o.cron_history_max != 0 && o.cron_schedule.empty()) {
      cmd += fmt::format(" --history-max {}", o.cron_history_max);
    }
  }
  return cmd;
}

}  // namespace paxcron::sim
