// A small, fast, seeded pseudo-random generator (xoshiro256**, seeded through splitmix64), with
// portable helpers. Same seed, same sequence on every platform: std::*_distribution is not
// portable across standard libraries, so it is not used. Not thread-safe; one per owner.
#pragma once

#include <cstdint>

#include "common/assert.h"

namespace paxcron {

class Prng {
 public:
  explicit Prng(uint64_t seed) {
    for (auto& word : state_) word = SplitMix(seed);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }

  // Uniform in [lo, hi], inclusive. REQUIRES: lo <= hi.
  uint64_t Range(uint64_t lo, uint64_t hi) {
    PAXCRON_ASSERT(lo <= hi);
    const uint64_t span = hi - lo + 1;
    if (span == 0) return Next();  // the full 64-bit range
    return lo + Next() % span;     // modulo bias is negligible for our spans
  }

  int64_t RangeSigned(int64_t lo, int64_t hi) {
    PAXCRON_ASSERT(lo <= hi);
    return lo + static_cast<int64_t>(Range(0, static_cast<uint64_t>(hi - lo)));
  }

  // True with probability `per_million` / 1,000,000.
  bool Chance(uint64_t per_million) { return Range(0, 999'999) < per_million; }

  // A new, independent generator: lets each component draw without disturbing the others.
  Prng Fork() { return Prng(Next()); }

 private:
  static uint64_t SplitMix(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  uint64_t state_[4];
};

}  // namespace paxcron
