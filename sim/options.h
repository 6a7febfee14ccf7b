// Options of one simulation run, and their parsing from the `paxcron sim` command line words.
// Plain data; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "paxos/config.h"
#include "sim/dc_scheduler.h"

namespace paxcron::sim {

struct FaultSet {
  bool partition = false;
  bool crash = false;
  bool drop = false;
  bool dup = false;
  bool reorder = false;
  bool skew = false;
  bool skew_beyond_bound = false;  // teaching mode: clocks drift far beyond the assumed bound
  bool scheduler = false;          // cron runs: the datacenter scheduler goes down for intervals
  bool disk = false;               // bits flip in durable files of one node (found at restart)
  // The leader's wall clock jumps by minutes (a bad time source); not part of `all`, so that
  // the seeds of earlier sweeps keep their runs.
  bool clock_jump = false;
  bool Any() const {
    return partition || crash || drop || dup || reorder || skew || scheduler || disk || clock_jump;
  }
};

// The classic bugs a run can switch on (--inject-bug); the first four live in the core.
struct BugSet {
  paxos::Bugs core;
  bool ack_before_persist = false;  // the driver replies before its writes are durable
  bool skip_fsync = false;          // the disk acknowledges fsync without doing it
  // The cron layer's classic mistakes (with --jobs).
  bool launch_before_commit = false;  // launch when proposing launch-begin, not once chosen
  bool retry_without_lookup = false;  // relaunch at once after an unknown launch outcome
  bool stale_leader_launch = false;   // no lease check before a launcher call
  bool name_without_time = false;     // the scheduler sees the job name, not JOB@TIME
  bool no_reconcile = false;          // a new leader ignores begun-not-ended launches
  bool missed_all_skips = false;      // the leader skips missed times even of must-run jobs
  bool coarse_poll = false;           // the leader looks for due runs only every 10 s
  bool local_clock_apply = false;     // replicas apply cron commands at their own wall clock
  bool no_clock_guard = false;        // a leader launches whatever a majority says of its clock
};

struct SimOptions {
  uint64_t seed = 1;
  paxos::Mode mode = paxos::Mode::kMulti;  // --mode multi|fast
  uint32_t nodes = 5;
  int64_t duration_us = 60'000'000;  // the safety phase, with faults
  FaultSet faults;
  BugSet bugs;
  std::string bug_name;  // as given on the command line, for the replay line
  std::string faults_text = "none";
  uint32_t proposals_per_sec = 100;
  uint32_t drift_bound_ppm = 10'000;       // what the lease assumes (1%)
  int64_t liveness_bound_us = 15'000'000;  // after healing, a proposal is chosen within this
  uint32_t intensity = 2;                  // 1 gentle .. 3 harsh: how often faults come
  // Every node snapshots its state machine each time this many slots were applied since its
  // last snapshot, and keeps `snapshot_keep_slots` of log below it for lagging peers. 0: never.
  uint64_t snapshot_every_slots = 1000;
  uint64_t snapshot_keep_slots = 250;
  // Log segments on the simulated disks: small, so that compaction deletes files in every run.
  uint64_t segment_bytes = 256 * 1024;

  // The replicated cron (--jobs N > 0): N random jobs launched on a simulated scheduler.
  uint32_t cron_jobs = 0;
  SchedulerMode scheduler = SchedulerMode::kNamed;
  int64_t request_deadline_us = 2'000'000;  // the plain scheduler refuses older requests
  int64_t cron_settle_us = 60'000'000;      // the liveness phase of a cron run, before the final
                                            // checks (every begun launch concluded)
  // Bounded lateness (lateness.cc), on the launching leader's own clock. Steady: while the world
  // is fully healthy. Failover: while a connected majority is up and the scheduler reachable; it
  // covers the old lease running out (up to two lease durations, 4 s: a leader cut off one way
  // keeps extending its granters' promises with heartbeats they hear and it cannot hear answered,
  // until its own lease ends), an election (<= 0.6 s), the new leader concluding partial launches
  // before going on (a lookup after 2 D + 1 s = 5 s) and 2.4 s of slack.
  // Scale runs (bench/cron_scale_bench.cc): when set, every job gets this schedule and the
  // default policies, and keeps `cron_history_max` finished runs (0: the default); the final
  // history check then covers only what the history keeps. Empty: random schedules and policies,
  // and the whole history kept for the final check.
  std::string cron_schedule;
  std::string history_job;  // --history: print this job's replicated history at the end
  uint32_t cron_history_max = 0;
  int64_t lateness_bound_us = 1'000'000;
  int64_t failover_bound_us = 12'000'000;
  // The steady bound applies only after this long of full health: the after-effects of a fault
  // last a while (an unknown launch is looked up 5 s after its request timed out, a lost
  // proposal is resent after 10 s, and a job with overlap=forbid waits for its open run).
  int64_t steady_after_us = 30'000'000;
};

Result<FaultSet> ParseFaults(std::string_view list);
Result<BugSet> ParseBug(std::string_view name);
Result<paxos::Mode> ParseMode(std::string_view name);  // "multi" or "fast"
bool IsFastBug(const BugSet& bugs);                    // a bug that exists only in Fast Paxos mode
Result<int64_t> ParseDuration(std::string_view text);  // "90s", "10m", "1h", "500ms"
std::string FormatDuration(int64_t us);
const std::vector<std::string>& BugNames();

}  // namespace paxcron::sim
