// A simulated node's clocks, as functions of true (simulated) time.
//
// The monotonic clock (leases, timers) runs at a constant rate 1 + drift_ppm / 1e6 from an
// arbitrary base: it never steps. The wall clock (only used to stamp log entries) is the
// monotonic clock plus an offset that can step, plus a small read jitter. Keeping the rate
// constant per run makes the inverse (the true time at which a local deadline falls) exact, which
// is what the lease checker needs. Thread-compatible.
#pragma once

#include <cstdint>

#include "common/prng.h"

namespace paxcron::sim {

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
