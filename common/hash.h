// Stable 64-bit hashing (FNV-1a) for trace values and replica checksums: the same bytes give the
// same hash on every run and every machine. Not for hash tables facing untrusted input.
#pragma once

#include <cstdint>
#include <string_view>

namespace paxcron {

constexpr uint64_t kFnvOffset = 1469598103934665603ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

constexpr uint64_t HashBytes(std::string_view bytes, uint64_t seed = kFnvOffset) {
  uint64_t h = seed;
  for (char c : bytes) {
    h ^= static_cast<uint8_t>(c);
    h *= kFnvPrime;
  }
  return h;
}

constexpr uint64_t HashU64(uint64_t value, uint64_t seed = kFnvOffset) {
  uint64_t h = seed;
  for (int i = 0; i < 8; ++i) {
    h ^= (value >> (8 * i)) & 0xff;
    h *= kFnvPrime;
  }
  return h;
}

}  // namespace paxcron
