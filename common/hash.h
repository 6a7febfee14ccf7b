// Stable 64-bit hashing for trace values and replica checksums: the same bytes give the same
// hash on every run and every machine (bytes are read explicitly little-endian). A multiply-xor
// mixer in the style of splitmix64, eight bytes at a time: fast enough to hash every applied
// value. Not for hash tables facing untrusted input.
#pragma once

#include <cstdint>
#include <string_view>

namespace paxcron {

constexpr uint64_t kFnvOffset = 1469598103934665603ull;  // the initial seed of a hash chain

constexpr uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Folds `value` into the running hash `seed`.
constexpr uint64_t HashU64(uint64_t value, uint64_t seed = kFnvOffset) {
  return Mix64(seed ^ Mix64(value + 0x9e3779b97f4a7c15ull));
}

constexpr uint64_t HashBytes(std::string_view bytes, uint64_t seed = kFnvOffset) {
  uint64_t h = HashU64(bytes.size(), seed);
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t word = 0;
    for (size_t b = 0; b < 8; ++b) word |= uint64_t{static_cast<uint8_t>(bytes[i + b])} << (8 * b);
    h = HashU64(word, h);
  }
  uint64_t tail = 0;
  for (size_t b = 0; i + b < bytes.size(); ++b) {
    tail |= uint64_t{static_cast<uint8_t>(bytes[i + b])} << (8 * b);
  }
  return HashU64(tail, h);
}

}  // namespace paxcron
