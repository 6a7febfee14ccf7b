// A simulated node's clocks, as functions of true (simulated) time.
//
// The monotonic clock (leases, timers) runs at a constant rate 1 + drift_ppm / 1e6 from an
// arbitrary base: it never steps. The wall clock (stamps on log entries, cron schedules) runs at
// the same rate from kSimWallEpochUs, plus an offset that can step, plus a small read jitter.
// Keeping the rate constant per run makes the inverse (the true time at which a local deadline
// falls) exact, which is what the lease checker needs. Thread-compatible.
#pragma once

#include <cstdint>

#include "common/prng.h"

namespace paxcron::sim {

// Simulated wall clocks start near 2026-11-27T00:00:00Z, so run names and stamps read naturally.
constexpr int64_t kSimWallEpochUs = int64_t{1'795'737'600} * 1'000'000;

class NodeClock {
 public:
  NodeClock() = default;
  NodeClock(int64_t mono_base_us, int32_t drift_ppm, int64_t wall_offset_us, int64_t jitter_us)
      : mono_base_us_(mono_base_us),
        drift_ppm_(drift_ppm),
        wall_offset_us_(wall_offset_us),
        jitter_us_(jitter_us) {}

  int64_t Mono(int64_t true_us) const;
  // The earliest true time at which Mono() reaches `local_us`.
  int64_t TrueAt(int64_t local_us) const;
  int64_t Wall(int64_t true_us, Prng& rng) const;
  void StepWall(int64_t delta_us) { wall_offset_us_ += delta_us; }
  int32_t drift_ppm() const { return drift_ppm_; }

 private:
  int64_t mono_base_us_ = 0;
  int32_t drift_ppm_ = 0;
  int64_t wall_offset_us_ = 0;
  int64_t jitter_us_ = 0;
};

}  // namespace paxcron::sim
