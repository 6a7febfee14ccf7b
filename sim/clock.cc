#include "sim/clock.h"

#include "common/assert.h"

namespace paxcron::sim {

int64_t NodeClock::Mono(int64_t true_us) const {
  // 64-bit arithmetic is exact for runs up to about 50 days of simulated time.
  PAXCRON_ASSERT(true_us >= 0 && true_us < (int64_t{1} << 52));
  return mono_base_us_ + true_us * (1'000'000 + drift_ppm_) / 1'000'000;
}

int64_t NodeClock::TrueAt(int64_t local_us) const {
  if (local_us <= Mono(0)) return 0;
  int64_t t = (local_us - mono_base_us_) * 1'000'000 / (1'000'000 + drift_ppm_);
  // Integer rounding leaves t within a step or two of the answer; settle it exactly.
  while (t > 0 && Mono(t - 1) >= local_us) --t;
  while (Mono(t) < local_us) ++t;
  PAXCRON_ASSERT(Mono(t) >= local_us && (t == 0 || Mono(t - 1) < local_us));
  return t;
}

int64_t NodeClock::Wall(int64_t true_us, Prng& rng) const {
  const int64_t jitter = jitter_us_ > 0 ? rng.RangeSigned(-jitter_us_, jitter_us_) : 0;
  return kSimWallEpochUs + (Mono(true_us) - mono_base_us_) + wall_offset_us_ + jitter;
}

}  // namespace paxcron::sim
