// The TZif file format of the IANA tz database (RFC 8536), read from bytes already in memory:
// the version 2+ data block (64-bit times) and the footer's POSIX TZ rule. Pure parsing;
// thread-safe. The on-disk layout, in short:
//   header "TZif", version, 15 bytes unused, six big-endian 32-bit counts (isutcnt, isstdcnt,
//   leapcnt, timecnt, typecnt, charcnt); the version 1 block (32-bit times); for version 2 and
//   later a second header and block with 64-bit times; then "\n" POSIX-TZ-string "\n".
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "tz/posix_tz.h"

namespace paxcron::tz {

struct TzifTransition {
  int64_t at_unix_seconds;
  int32_t offset_after_seconds;
};

struct TzifData {
  int32_t initial_offset_seconds = 0;  // before the first transition (time type 0)
  // Only the changes of UTC offset, strictly increasing in time: transitions that change only
  // the abbreviation or the DST flag are dropped.
  std::vector<TzifTransition> transitions;
  std::optional<PosixTz> rule;  // after the last transition; absent: the last offset stays
};

// Limits that any real zone is far below; a file beyond them is rejected, not trusted.
constexpr size_t kTzifBytesMax = 1 << 20;
constexpr int32_t kOffsetMaxSeconds = 26 * 3600;

Result<TzifData> ParseTzif(std::string_view bytes);

}  // namespace paxcron::tz
