// A simulated node's clocks, as functions of true (simulated) time.
//
// The monotonic clock (leases, timers) runs at a constant rate 1 + drift_ppm / 1e6 from an
// arbitrary base: it never steps. Keeping the rate constant per run makes the inverse (the true
// time at which a local deadline falls) exact, which is what the lease checker needs.
//
// The wall clock (stamps on log entries, cron schedules) is disciplined like a machine running
// NTP: it drifts at the same rate as the monotonic clock, but every kNtpPollUs (per node, at its
// own phase) the drift accumulated since is corrected, so its rate error never adds up to more
// than drift_ppm of one poll interval (1% of 64 s: 0.64 s). On top sits an offset: the initial
// one, and the steps of --faults skew (a clock set wrong, a bad time source), which NTP slews
// out, halving what is left at each poll. Plus a small read jitter. Without the discipline
// (before session 4), a 1% drift moved wall clocks 36 s an hour apart, and new leaders of long
// runs found most runs missed. Thread-compatible.
#pragma once

#include <cstdint>

#include "common/prng.h"

namespace paxcron::sim {

// Simulated wall clocks start near 2026-11-27T00:00:00Z, so run names and stamps read naturally.
constexpr int64_t kSimWallEpochUs = int64_t{1'795'737'600} * 1'000'000;
// How often a simulated NTP daemon corrects a wall clock (ntpd's default minimum poll).
constexpr int64_t kNtpPollUs = 64'000'000;

// An offset beyond this is stepped, not slewed, when the world heals (ntpd's step threshold is
// 128 ms; this is the guard's tolerance in the simulator, kSimClockToleranceUs, less a margin).
constexpr int64_t kClockStepThresholdUs = 1'000'000;

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
  // The wall clock jumps by `delta_us` at true time `true_us` (NTP then slews it back).
  void StepWall(int64_t true_us, int64_t delta_us);
  // Wall(t) minus true wall time, without the read jitter.
  int64_t WallError(int64_t true_us) const;
  // The true time of this clock's last NTP poll at or before `true_us` if the poll's correction
  // carried the wall clock forward over `wall_us` (just before the poll it read earlier than
  // wall_us, at the poll not): a run scheduled at wall_us fell due at that poll, not before.
  // Else -1. (A correction here is a jump at the poll; a slewing ntpd spreads it out.)
  int64_t PollThatJumpedOver(int64_t true_us, int64_t wall_us) const;
  int32_t drift_ppm() const { return drift_ppm_; }

 private:
  int64_t Poll(int64_t true_us) const;  // how many NTP polls happened by true_us
  int64_t OffsetAt(int64_t true_us) const;

  int64_t mono_base_us_ = 0;
  int32_t drift_ppm_ = 0;
  int64_t wall_offset_us_ = 0;  // as set at offset_since_us_, halved at each poll after
  int64_t offset_since_us_ = 0;
  int64_t jitter_us_ = 0;
};

}  // namespace paxcron::sim
