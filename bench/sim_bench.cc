// Simulator speed: simulated seconds per wall second and simulated messages per wall second,
// for a 5-node cluster with --faults all and 100 proposals per simulated second, on one core.
// usage: sim_bench [seeds=5] [duration_s=600]
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "sim/report.h"

int main(int argc, char** argv) {
  using namespace paxcron::sim;
  const int seeds = argc > 1 ? std::atoi(argv[1]) : 5;
  const int duration_s = argc > 2 ? std::atoi(argv[2]) : 600;
  if (seeds <= 0 || duration_s <= 0) {
    std::fprintf(stderr, "usage: sim_bench [seeds>0] [duration_s>0]\n");
    return 2;
  }
  SimOptions o;
  o.nodes = 5;
  o.duration_us = int64_t{duration_s} * 1'000'000;
  o.faults = ParseFaults("all").value();
  o.faults_text = "all";
  o.proposals_per_sec = 100;
  double sim_s = 0, wall_s = 0, msgs = 0, events = 0;
  for (int s = 1; s <= seeds; ++s) {
    o.seed = static_cast<uint64_t>(s);
    const auto start = std::chrono::steady_clock::now();
    const RunResult r = RunSeed(o, nullptr);
    const double w =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("seed %d: %s  sim=%.1fs wall=%.3fs  %.0fx real time  %.0f msgs/s\n", s,
                r.ok ? "ok" : "FAIL", r.stats.simulated_us / 1e6, w, r.stats.simulated_us / 1e6 / w,
                r.stats.messages_sent / w);
    sim_s += r.stats.simulated_us / 1e6;
    wall_s += w;
    msgs += static_cast<double>(r.stats.messages_sent);
    events += static_cast<double>(r.stats.events);
  }
  std::printf(
      "total: %.0f simulated s in %.2f wall s = %.0fx real time; %.0f messages/wall s; "
      "%.0f events/wall s\n",
      sim_s, wall_s, sim_s / wall_s, msgs / wall_s, events / wall_s);
  return 0;
}
