#include "sim/clock.h"

#include <algorithm>

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

// The node's polls fall at true times k * kNtpPollUs - phase, the phase taken from the
// monotonic base so that no random draw is added (the other faults of a seed stay the same).
int64_t NodeClock::Poll(int64_t true_us) const {
  return (true_us + mono_base_us_ % kNtpPollUs) / kNtpPollUs;
}

int64_t NodeClock::OffsetAt(int64_t true_us) const {
  const int64_t halvings = Poll(true_us) - Poll(offset_since_us_);
  PAXCRON_ASSERT(halvings >= 0);
  return halvings >= 62 ? 0 : wall_offset_us_ / (int64_t{1} << halvings);
}

int64_t NodeClock::WallError(int64_t true_us) const {
  const int64_t last_poll_us =
      std::max<int64_t>(0, Poll(true_us) * kNtpPollUs - mono_base_us_ % kNtpPollUs);
  const int64_t drift = (true_us - last_poll_us) * drift_ppm_ / 1'000'000;
  return drift + OffsetAt(true_us);
}

int64_t NodeClock::Wall(int64_t true_us, Prng& rng) const {
  const int64_t jitter = jitter_us_ > 0 ? rng.RangeSigned(-jitter_us_, jitter_us_) : 0;
  return kSimWallEpochUs + true_us + WallError(true_us) + jitter;
}

int64_t NodeClock::PollThatJumpedOver(int64_t true_us, int64_t wall_us) const {
  const int64_t poll_us = Poll(true_us) * kNtpPollUs - mono_base_us_ % kNtpPollUs;
  PAXCRON_ASSERT(poll_us <= true_us);
  if (poll_us <= 0 || poll_us - 1 < offset_since_us_) return -1;  // no poll yet, or stepped since
  const int64_t before_us = kSimWallEpochUs + (poll_us - 1) + WallError(poll_us - 1);
  const int64_t at_us = kSimWallEpochUs + poll_us + WallError(poll_us);
  return before_us < wall_us && at_us >= wall_us ? poll_us : -1;
}

void NodeClock::StepWall(int64_t true_us, int64_t delta_us) {
  PAXCRON_ASSERT(true_us >= offset_since_us_);
  wall_offset_us_ = OffsetAt(true_us) + delta_us;
  offset_since_us_ = true_us;
}

}  // namespace paxcron::sim
