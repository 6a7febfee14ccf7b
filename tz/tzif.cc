#include "tz/tzif.h"

#include <string>

#include "cron/zone_rules.h"

namespace paxcron::tz {
namespace {

constexpr size_t kHeaderBytes = 44;

struct Counts {
  uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

uint32_t ReadU32(std::string_view b, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(b[at + i]);
  return v;
}

int64_t ReadI64(std::string_view b, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(b[at + i]);
  return static_cast<int64_t>(v);
}

int32_t ReadI32(std::string_view b, size_t at) { return static_cast<int32_t>(ReadU32(b, at)); }

// Reads a header at `at`; the counts say how long the block after it is.
Result<Counts> ReadHeader(std::string_view b, size_t at, char* version) {
  if (b.size() < at + kHeaderBytes || b.substr(at, 4) != "TZif") {
    return Status::Error("not a TZif file (no 'TZif' header)");
  }
  *version = b[at + 4];
  Counts c{ReadU32(b, at + 20), ReadU32(b, at + 24), ReadU32(b, at + 28),
           ReadU32(b, at + 32), ReadU32(b, at + 36), ReadU32(b, at + 40)};
  if (c.typecnt == 0 || c.typecnt > 256 || c.charcnt == 0 ||
      (c.isutcnt != 0 && c.isutcnt != c.typecnt) || (c.isstdcnt != 0 && c.isstdcnt != c.typecnt) ||
      c.timecnt > kTzifBytesMax) {
    return Status::Error("TZif header has impossible counts");
  }
  if (c.leapcnt != 0) return Status::Error("leap-second zones (right/...) are not supported");
  return c;
}

size_t BlockBytes(const Counts& c, size_t time_bytes) {
  return c.timecnt * (time_bytes + 1) + c.typecnt * 6 + c.charcnt + c.leapcnt * (time_bytes + 4) +
         c.isstdcnt + c.isutcnt;
}

// Reads the data block at `at` with `time_bytes`-wide times (4: version 1, 8: version 2+).
Result<TzifData> ReadBlock(std::string_view b, size_t at, const Counts& c, size_t time_bytes) {
  if (b.size() < at + BlockBytes(c, time_bytes)) return Status::Error("TZif file is truncated");
  const size_t indices = at + c.timecnt * time_bytes;
  const size_t types = indices + c.timecnt;
  auto type_offset = [&](uint32_t type) { return ReadI32(b, types + 6 * type); };
  for (uint32_t t = 0; t < c.typecnt; ++t) {
    const int32_t offset = type_offset(t);
    if (offset < -kOffsetMaxSeconds || offset > kOffsetMaxSeconds) {
      return Status::Error("TZif time type has an impossible UTC offset");
    }
  }
  TzifData data;
  data.initial_offset_seconds = type_offset(0);
  int32_t current = data.initial_offset_seconds;
  int64_t previous_at = 0;
  for (uint32_t i = 0; i < c.timecnt; ++i) {
    const int64_t at_seconds =
        time_bytes == 8 ? ReadI64(b, at + 8 * i) : int64_t{ReadI32(b, at + 4 * i)};
    const uint32_t type = static_cast<uint8_t>(b[indices + i]);
    if (type >= c.typecnt) return Status::Error("TZif transition names a missing time type");
    if (i > 0 && at_seconds <= previous_at) {
      return Status::Error("TZif transitions are not in increasing order");
    }
    previous_at = at_seconds;
    const int32_t offset = type_offset(type);
    if (at_seconds <= cron::kInstantMin) {
      data.initial_offset_seconds = current = offset;  // zic's "big bang" marker
      continue;
    }
    if (at_seconds >= cron::kInstantMax || offset == current) continue;
    data.transitions.push_back(TzifTransition{at_seconds, offset});
    current = offset;
  }
  return data;
}

}  // namespace

Result<TzifData> ParseTzif(std::string_view bytes) {
  if (bytes.size() > kTzifBytesMax) return Status::Error("TZif file is larger than 1 MiB");
  char version = 0;
  Result<Counts> v1 = ReadHeader(bytes, 0, &version);
  if (!v1.ok()) return v1.status();
  if (version == '\0') return ReadBlock(bytes, kHeaderBytes, v1.value(), 4);
  if (version < '2' || version > '9') return Status::Error("TZif file has an unknown version");
  const size_t second = kHeaderBytes + BlockBytes(v1.value(), 4);
  Result<Counts> v2 = ReadHeader(bytes, second, &version);
  if (!v2.ok()) return v2.status();
  const size_t block = second + kHeaderBytes;
  Result<TzifData> data = ReadBlock(bytes, block, v2.value(), 8);
  if (!data.ok()) return data.status();
  // The footer: "\n" TZ-string "\n". An empty string means no rule.
  const size_t footer = block + BlockBytes(v2.value(), 8);
  if (bytes.size() < footer + 2 || bytes[footer] != '\n' || bytes.back() != '\n') {
    return Status::Error("TZif footer is missing");
  }
  const std::string_view rule = bytes.substr(footer + 1, bytes.size() - footer - 2);
  if (!rule.empty()) {
    Result<PosixTz> parsed = ParsePosixTz(rule);
    if (!parsed.ok()) return parsed.status();
    data.value().rule = parsed.value();
  }
  return data;
}

}  // namespace paxcron::tz
