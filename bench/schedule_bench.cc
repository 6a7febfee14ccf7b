// How long NextFireTime takes, in nanoseconds per call, for typical schedules, a 29-February-only
// one, and in a daylight-saving zone. Each call starts from a different instant of 2026-2076.
//   build/schedule_bench [--benchmark_filter=REGEX]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "cron/schedule.h"
#include "tz/system_zones.h"

namespace paxcron::cron {
namespace {

// 4,096 instants spread over 50 years by a fixed stride: no clock, no randomness.
const std::vector<int64_t>& Starts() {
  static const std::vector<int64_t> starts = [] {
    std::vector<int64_t> v;
    const int64_t begin = ParseRfc3339("2026-01-01T00:00:00Z").value();
    const int64_t span = 50 * 365 * kSecondsPerDay;
    for (int64_t i = 0; i < 4096; ++i) v.push_back(begin + (i * 2'654'435'761) % span);
    return v;
  }();
  return starts;
}

const ZoneRules& LoadOrDie(const char* name) {
  static std::vector<std::unique_ptr<const ZoneRules>> zones;
  auto zone = tz::LoadZone(name);
  if (!zone.ok()) {
    std::fprintf(stderr, "schedule_bench: %s\n", zone.status().message().c_str());
    std::exit(2);
  }
  zones.push_back(std::move(zone.value()));
  return *zones.back();
}

void BM_NextFireTime(benchmark::State& state, const char* expr, const char* zone_name) {
  const Schedule s = Schedule::Parse(expr, "benchmark-job").value();
  const ZoneRules& zone = LoadOrDie(zone_name);
  const std::vector<int64_t>& starts = Starts();
  size_t i = 0;
  for (auto _ : state) {
    Result<int64_t> next = NextFireTime(s, starts[i++ & 4095], zone);
    benchmark::DoNotOptimize(next);
  }
  state.SetLabel(std::string(expr) + " in " + zone_name);
}

void BM_Parse(benchmark::State& state) {
  for (auto _ : state) {
    Result<Schedule> s = Schedule::Parse("0,15,30,45 9-17 * jan-jun mon-fri", "job");
    benchmark::DoNotOptimize(s);
  }
}

BENCHMARK_CAPTURE(BM_NextFireTime, every_5_minutes_utc, "*/5 * * * *", "UTC");
BENCHMARK_CAPTURE(BM_NextFireTime, weekdays_0230_utc, "30 2 * * 1-5", "UTC");
BENCHMARK_CAPTURE(BM_NextFireTime, hashed_daily_utc, "? ? * * *", "UTC");
BENCHMARK_CAPTURE(BM_NextFireTime, every_10_seconds_utc, "*/10 * * * * *", "UTC");
BENCHMARK_CAPTURE(BM_NextFireTime, first_of_quarter_utc, "0 0 1 */3 *", "UTC");
BENCHMARK_CAPTURE(BM_NextFireTime, feb29_only_utc, "0 0 29 2 *", "UTC");
BENCHMARK_CAPTURE(BM_NextFireTime, feb29_sunday_utc, "0 0 29 2 */7", "UTC");
BENCHMARK_CAPTURE(BM_NextFireTime, daily_0230_berlin, "30 2 * * *", "Europe/Berlin");
BENCHMARK_CAPTURE(BM_NextFireTime, every_15_minutes_new_york, "*/15 * * * *", "America/New_York");
BENCHMARK_CAPTURE(BM_NextFireTime, feb29_only_berlin, "0 0 29 2 *", "Europe/Berlin");
BENCHMARK(BM_Parse);

}  // namespace
}  // namespace paxcron::cron

BENCHMARK_MAIN();
