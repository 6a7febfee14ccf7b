// Simulator speed: simulated seconds per wall second, and simulated messages per wall second,
// for a 5-node cluster with 100 proposals per simulated second, on one core. Runs the same seeds
// with --faults all and with --faults none, interleaved, so both figures share the machine's
// noise. usage: sim_bench [seeds=5] [duration_s=600]
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "sim/report.h"

namespace {

struct Totals {
  double sim_s = 0, wall_s = 0, messages = 0, events = 0;
};

void RunOne(paxcron::sim::SimOptions o, const char* label, Totals& t) {
  const auto start = std::chrono::steady_clock::now();
  const paxcron::sim::RunResult r = paxcron::sim::RunSeed(o, nullptr);
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double sim = static_cast<double>(r.stats.simulated_us) / 1e6;
  std::printf("%-6s seed %llu: %s sim=%.0fs wall=%.3fs  %.0fx real time  %.0f msgs/s\n", label,
              static_cast<unsigned long long>(o.seed), r.ok ? "ok" : "FAIL", sim, wall, sim / wall,
              static_cast<double>(r.stats.messages_sent) / wall);
  t.sim_s += sim;
  t.wall_s += wall;
  t.messages += static_cast<double>(r.stats.messages_sent);
  t.events += static_cast<double>(r.stats.events);
}

void Report(const char* label, const Totals& t) {
  std::printf(
      "%-6s total: %.0f simulated s in %.2f wall s = %.0fx real time; %.0f messages/wall s;"
      " %.0f events/wall s\n",
      label, t.sim_s, t.wall_s, t.sim_s / t.wall_s, t.messages / t.wall_s, t.events / t.wall_s);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace paxcron::sim;
  const int seeds = argc > 1 ? std::atoi(argv[1]) : 5;
  const int duration_s = argc > 2 ? std::atoi(argv[2]) : 600;
  if (seeds <= 0 || duration_s <= 0) {
    std::fprintf(stderr, "usage: sim_bench [seeds>0] [duration_s>0]\n");
    return 2;
  }
  SimOptions all;
  all.nodes = 5;
  all.duration_us = int64_t{duration_s} * 1'000'000;
  all.proposals_per_sec = 100;
  all.faults = ParseFaults("all").value();
  SimOptions none = all;
  none.faults = FaultSet{};
  Totals with_faults, without_faults;
  for (int s = 1; s <= seeds; ++s) {
    all.seed = none.seed = static_cast<uint64_t>(s);
    RunOne(all, "all", with_faults);
    RunOne(none, "none", without_faults);
  }
  Report("all", with_faults);
  Report("none", without_faults);
  return 0;
}
