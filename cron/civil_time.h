// Proleptic Gregorian date arithmetic on plain integers: days and seconds since 1970-01-01, with
// no time zone, no clock and no <chrono>. The day conversions are Howard Hinnant's
// days_from_civil and civil_from_days (http://howardhinnant.github.io/date_algorithms.html),
// written out by hand. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace paxcron::cron {

constexpr int64_t kSecondsPerDay = 86400;
// A Gregorian calendar repeats exactly every 400 years: 146,097 days, a whole number of weeks.
constexpr int64_t kDaysPer400Years = 146097;
static_assert(kDaysPer400Years % 7 == 0);

struct CivilDay {
  int64_t year = 1970;
  int32_t month = 1;  // 1-12
  int32_t day = 1;    // 1-31
};

// A wall-clock reading with no zone attached: local time, or UTC when the offset is zero.
struct CivilSecond {
  int64_t year = 1970;
  int32_t month = 1;   // 1-12
  int32_t day = 1;     // 1-31
  int32_t hour = 0;    // 0-23
  int32_t minute = 0;  // 0-59
  int32_t second = 0;  // 0-59 (no leap seconds: POSIX time)

  friend bool operator==(const CivilSecond&, const CivilSecond&) = default;
};

constexpr int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

constexpr bool IsLeapYear(int64_t year) {
  return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

constexpr int32_t DaysInMonth(int64_t year, int32_t month) {
  constexpr int32_t kDays[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month];
}

// Days since 1970-01-01 of a proleptic Gregorian date. REQUIRES: month 1-12, day 1-31.
constexpr int64_t DaysFromCivil(int64_t year, int32_t month, int32_t day) {
  const int64_t y = month <= 2 ? year - 1 : year;
  const int64_t era = FloorDiv(y, 400);
  const int64_t yoe = y - era * 400;                          // [0, 399]
  const int64_t mp = month > 2 ? month - 3 : month + 9;       // March is 0
  const int64_t doy = (153 * mp + 2) / 5 + day - 1;           // [0, 365]
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;  // [0, 146096]
  return era * kDaysPer400Years + doe - 719468;
}

constexpr CivilDay CivilFromDays(int64_t days) {
  const int64_t z = days + 719468;
  const int64_t era = FloorDiv(z, kDaysPer400Years);
  const int64_t doe = z - era * kDaysPer400Years;                             // [0, 146096]
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const int64_t mp = (5 * doy + 2) / 153;                                     // [0, 11]
  const int32_t day = static_cast<int32_t>(doy - (153 * mp + 2) / 5 + 1);
  const int32_t month = static_cast<int32_t>(mp < 10 ? mp + 3 : mp - 9);
  return CivilDay{yoe + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

// 0 = Sunday ... 6 = Saturday. 1970-01-01 was a Thursday.
constexpr int32_t WeekdayFromDays(int64_t days) {
  return static_cast<int32_t>(days + 4 - FloorDiv(days + 4, 7) * 7);
}

// Seconds since the epoch of a wall-clock reading taken as UTC.
constexpr int64_t SecondsFromCivil(const CivilSecond& c) {
  return DaysFromCivil(c.year, c.month, c.day) * kSecondsPerDay + c.hour * 3600 + c.minute * 60 +
         c.second;
}

constexpr CivilSecond CivilFromSeconds(int64_t seconds) {
  const int64_t days = FloorDiv(seconds, kSecondsPerDay);
  const int32_t sod = static_cast<int32_t>(seconds - days * kSecondsPerDay);
  const CivilDay d = CivilFromDays(days);
  return CivilSecond{d.year, d.month, d.day, sod / 3600, sod / 60 % 60, sod % 60};
}

// The instants paxcron reads and prints: 0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
constexpr int64_t kMinSupportedSeconds = DaysFromCivil(0, 1, 1) * kSecondsPerDay;
constexpr int64_t kMaxSupportedSeconds = DaysFromCivil(10000, 1, 1) * kSecondsPerDay - 1;

// RFC 3339 with a numeric offset, e.g. "2026-03-29T03:30:00+02:00", or "Z" when `zulu` is set.
// An offset with a seconds part (old local mean times) cannot be written in RFC 3339: the instant
// is then printed in UTC with "Z", so that the text still names the same instant.
std::string FormatRfc3339(int64_t unix_seconds, int32_t offset_seconds, bool zulu);

// Reads "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" ('t', 'z' and a space for 'T' accepted).
// A fraction is dropped: fire times are whole seconds, and the next one after x.5 is the next
// one after x.
Result<int64_t> ParseRfc3339(std::string_view text);

}  // namespace paxcron::cron
