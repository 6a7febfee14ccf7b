// The cron at scale: N jobs that each fire once a minute (at a second of the minute chosen by
// '?' hashing, so N/60 launches per second) on a 5-node simulated cluster with no faults, on a
// named scheduler. Reports the launches per simulated second the cluster sustained, lateness
// percentiles (on the launching leader's clock, every run after the first minute), simulated
// seconds per wall second, and the memory one node's cron state needs per job: the snapshot's
// bytes, and the heap bytes of a state machine holding N jobs measured directly (glibc
// mallinfo2; this program is not linked with jemalloc), at two history lengths.
// usage: cron_scale_bench [jobs=100000] [minutes=3]
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cron/job_spec.h"
#include "cron/run_name.h"
#include "cron/state_machine.h"
#include "sim/report.h"
#include "tz/zone_cache.h"

namespace {

using namespace paxcron;

constexpr const char* kEveryMinute = "? * * * * *";  // seconds field hashed by job name

size_t HeapInUse() { return mallinfo2().uordblks; }

struct StateCost {
  double table_bytes_per_job = 0;  // the job table alone, before any run
  double bytes_per_job = 0;        // after the runs
  double snapshot_bytes_per_job = 0;
};

// Builds one replica's state machine with `jobs` jobs, then runs `minutes` minutes of launches
// through it (begin and end of every run), as a leader would.
StateCost MeasureState(uint32_t jobs, uint32_t history_max, uint32_t minutes) {
  tz::ZoneCache zones;
  const size_t before = HeapInUse();
  auto sm = std::make_unique<cron::CronStateMachine>(zones);
  const int64_t start_s = 1'795'737'600;  // 2026-11-27T00:00:00Z
  for (uint32_t i = 0; i < jobs; ++i) {
    cron::pb::Command put;
    cron::pb::JobSpec* spec = put.mutable_put_job()->mutable_spec();
    spec->set_name("job" + std::to_string(i));
    spec->set_schedule(kEveryMinute);
    spec->set_command("echo job" + std::to_string(i));
    spec->set_history_max(history_max);
    if (!sm->Apply(put, start_s * 1'000'000).ok()) std::abort();
  }
  StateCost cost;
  cost.table_bytes_per_job = static_cast<double>(HeapInUse() - before) / jobs;
  for (uint32_t m = 0; m < minutes; ++m) {
    for (uint32_t i = 0; i < jobs; ++i) {
      const std::string name = "job" + std::to_string(i);
      const cron::pb::JobState* job = sm->FindJob(name);
      const int64_t t = job->next_fire_s();
      cron::pb::Command begin;
      begin.mutable_launch_begin()->set_job(name);
      begin.mutable_launch_begin()->set_scheduled_s(t);
      begin.mutable_launch_begin()->set_epoch(1);
      if (!sm->Apply(begin, t * 1'000'000).ok()) std::abort();
      cron::pb::Command end;
      end.mutable_launch_end()->set_run_name(cron::RunName(name, t));
      end.mutable_launch_end()->set_outcome(cron::pb::RUN_STARTED);
      if (!sm->Apply(end, t * 1'000'000 + 1).ok()) std::abort();
    }
  }
  cost.bytes_per_job = static_cast<double>(HeapInUse() - before) / jobs;
  cost.snapshot_bytes_per_job = static_cast<double>(sm->TakeSnapshot().ByteSizeLong()) / jobs;
  return cost;
}

double Percentile(std::vector<int64_t>& v, double p) {
  if (v.empty()) return 0;
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return static_cast<double>(v[i]) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  const long jobs = argc > 1 ? std::atol(argv[1]) : 100'000;
  const long minutes = argc > 2 ? std::atol(argv[2]) : 3;
  if (jobs <= 0 || jobs > 1'000'000 || minutes <= 0 || minutes > 600) {
    std::fprintf(stderr, "usage: cron_scale_bench [jobs 1..1000000] [minutes 1..600]\n");
    return 2;
  }
  const auto n = static_cast<uint32_t>(jobs);

  // 1. Memory per job, one replica's state machine: the table, then with a full history.
  constexpr uint32_t kHistory = 5;
  const StateCost cost = MeasureState(n, kHistory, kHistory + 2);
  std::printf(
      "state: job table %.0f heap bytes/job; with %u runs kept per job %.0f heap bytes/job "
      "(%.0f per run record); snapshot %.0f bytes/job\n",
      cost.table_bytes_per_job, kHistory, cost.bytes_per_job,
      (cost.bytes_per_job - cost.table_bytes_per_job) / kHistory, cost.snapshot_bytes_per_job);

  // 2. The cluster: 5 nodes, no faults, a named scheduler.
  sim::SimOptions o;
  o.seed = 1;
  o.nodes = 5;
  o.duration_us = minutes * 60'000'000;
  o.cron_jobs = n;
  o.cron_schedule = kEveryMinute;
  o.cron_history_max = kHistory;
  o.scheduler = sim::SchedulerMode::kNamed;
  o.cron_settle_us = 20'000'000;
  const auto start = std::chrono::steady_clock::now();
  sim::RunResult r = sim::RunSeed(o, nullptr);
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double sim_s = static_cast<double>(r.stats.simulated_us) / 1e6;
  std::vector<int64_t>& late = r.stats.lateness_full_us;
  std::printf("%s\n", sim::FormatResultLine(r).c_str());
  std::printf(
      "cluster: %u jobs every minute (%.0f launches/s due): %llu runs started in %.0f simulated "
      "s, %llu skipped; started per minute:",
      n, n / 60.0, static_cast<unsigned long long>(r.stats.runs_started), sim_s,
      static_cast<unsigned long long>(r.stats.runs_skipped));
  // The first minute includes putting the jobs; the last may be cut short by the run's end.
  uint64_t slowest = UINT64_MAX;
  const std::vector<uint64_t>& by_minute = r.stats.starts_by_minute;
  for (size_t m = 0; m < by_minute.size(); ++m) {
    std::printf(" %llu", static_cast<unsigned long long>(by_minute[m]));
    if (m >= 1 && m + 1 < by_minute.size()) slowest = std::min(slowest, by_minute[m]);
  }
  std::printf("\nsustained: %.0f launches/s (the slowest full minute after the first)\n",
              slowest == UINT64_MAX ? 0.0 : static_cast<double>(slowest) / 60.0);
  std::printf("lateness of %zu judged starts: p50 %.3fs p99 %.3fs p99.9 %.3fs max %.3fs\n",
              late.size(), Percentile(late, 0.50), Percentile(late, 0.99), Percentile(late, 0.999),
              static_cast<double>(r.stats.late_max_full_us) / 1e6);
  std::printf("speed: %.1f simulated s in %.1f wall s = %.2f simulated s per wall s\n", sim_s, wall,
              sim_s / wall);
  return r.ok ? 0 : 1;
}
