// POSIX TZ rule strings, as found at the end of TZif files (RFC 8536, section 3.3), e.g.
// "CET-1CEST,M3.5.0,M10.5.0/3": they say how a zone's offset changes after the last transition
// a TZif file lists (2037 in Debian's files). Pure computation; thread-safe.
//
// Why not Debian's libhowardhinnant-date: its tz.cpp built with USE_OS_TZDB=1 (as Debian ships
// it) ignores this footer, so every DST zone stays on its 2037 offset forever after.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"
#include "cron/zone_rules.h"

namespace paxcron::tz {

// When DST starts or ends in a year: a day of the year and a local time on it.
struct PosixDateRule {
  enum class Kind { kJulianNoLeap, kZeroBasedDay, kMonthWeekDay };
  Kind kind = Kind::kMonthWeekDay;
  int32_t day = 0;              // Jn: 1-365, never counting 29 February; n: 0-365
  int32_t month = 1;            // Mm.w.d: 1-12
  int32_t week = 1;             //         1-5, 5 meaning the last
  int32_t weekday = 0;          //         0-6, Sunday 0
  int32_t time_seconds = 7200;  // local time of the change; -167h to 167h (RFC 8536)
};

struct PosixTz {
  int32_t std_offset_seconds = 0;  // east of UTC is positive (the inverse of the TZ text's sign)
  bool has_dst = false;
  int32_t dst_offset_seconds = 0;
  PosixDateRule dst_start;  // read in standard time
  PosixDateRule dst_end;    // read in daylight time
};

Result<PosixTz> ParsePosixTz(std::string_view text);

// The UTC instants at which DST starts and ends in `year`. REQUIRES: tz.has_dst.
int64_t DstStartUnixSeconds(const PosixTz& tz, int64_t year);
int64_t DstEndUnixSeconds(const PosixTz& tz, int64_t year);

// The span of constant offset that contains `unix_seconds`, by the rule alone.
// REQUIRES: year of unix_seconds in [-9999, 99999].
cron::ZoneSpan PosixSpanAt(const PosixTz& tz, int64_t unix_seconds);

}  // namespace paxcron::tz
