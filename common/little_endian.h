// Fixed-width little-endian integers in byte strings: the on-disk formats (record framing,
// tags, digests) are read and written byte by byte, the same on every machine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/assert.h"

namespace paxcron {

template <typename T>
void PutLittleEndian(T v, std::string& out) {
  char bytes[sizeof(T)];
  for (size_t i = 0; i < sizeof(T); ++i) bytes[i] = static_cast<char>(v >> (8 * i));
  out.append(bytes, sizeof(T));  // one append: push_back per byte shows in profiles
}

// REQUIRES: bytes.size() >= sizeof(T); reads the first sizeof(T) bytes.
template <typename T>
T GetLittleEndian(std::string_view bytes) {
  PAXCRON_ASSERT(bytes.size() >= sizeof(T));
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i)
    v |= static_cast<T>(static_cast<uint8_t>(bytes[i])) << (8 * i);
  return v;
}

}  // namespace paxcron
