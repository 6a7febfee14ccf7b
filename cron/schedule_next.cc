// NextFireTime: the bounded search for the next fire time, and the daylight-saving rules of
// cron/SCHEDULE.md ("Time zones"), which follow cronie.
#include <algorithm>
#include <bit>
#include <optional>

#include "cron/schedule.h"

namespace paxcron::cron {
namespace {

// A whole Gregorian cycle: a schedule that does not fire within it never fires.
constexpr int64_t kSearchSeconds = kDaysPer400Years * kSecondsPerDay;
// NextLocalMatch looks at one month per pass; a search spans at most 400 years and three days.
constexpr int32_t kMonthPassesMax = 12 * 401;
// Real zones change offset a few times a year; this bounds a search through a hostile one.
constexpr int32_t kSpansMax = 100'000;

// The first set bit of `mask` at or above `from`, or -1.
int32_t NextBit(uint64_t mask, int32_t from) {
  if (from >= 64) return -1;
  const uint64_t rest = mask & (~uint64_t{0} << from);
  return rest == 0 ? -1 : std::countr_zero(rest);
}

// The first matching second of a day at or after `second_of_day` (0-86399), if any.
std::optional<int32_t> NextTimeOfDay(const Schedule& s, int32_t second_of_day) {
  int32_t hour = second_of_day / 3600, minute = second_of_day / 60 % 60,
          second = second_of_day % 60;
  // Every retry moves to a later minute or hour, and a minute with a matching second always
  // succeeds, so a day takes at most 24 + 24 + 1 passes.
  for (int32_t pass = 0; pass < 50; ++pass) {
    const int32_t h = NextBit(s.hours(), hour);
    if (h < 0) return std::nullopt;
    if (h != hour) {
      hour = h;
      minute = second = 0;
    }
    const int32_t m = NextBit(s.minutes(), minute);
    if (m < 0) {
      hour += 1;
      minute = second = 0;
      continue;
    }
    if (m != minute) {
      minute = m;
      second = 0;
    }
    const int32_t sec = NextBit(s.seconds(), second);
    if (sec < 0) {
      minute += 1;  // 60 finds no minute bit, which carries to the next hour above
      second = 0;
      continue;
    }
    return hour * 3600 + minute * 60 + sec;
  }
  PAXCRON_ASSERT(false && "NextTimeOfDay did not converge");
  return std::nullopt;
}

// The first wall-clock time in [from, until) that the schedule matches, if any. Wall-clock
// times are seconds since 1970-01-01T00:00:00 local, read as if they were UTC.
// REQUIRES: until - from <= kSearchSeconds + three days.
std::optional<int64_t> NextLocalMatch(const Schedule& s, int64_t from, int64_t until) {
  if (from >= until) return std::nullopt;
  PAXCRON_ASSERT(until - from <= kSearchSeconds + 3 * kSecondsPerDay);
  const int64_t from_day = FloorDiv(from, kSecondsPerDay);
  int32_t second_of_day = static_cast<int32_t>(from - from_day * kSecondsPerDay);
  const CivilDay start = CivilFromDays(from_day);
  int64_t year = start.year;
  int32_t month = start.month, first_day = start.day;
  for (int32_t pass = 0; pass < kMonthPassesMax; ++pass) {
    const int64_t month_days = DaysFromCivil(year, month, 1);
    if ((month_days + first_day - 1) * kSecondsPerDay + second_of_day >= until) return std::nullopt;
    if (s.months() >> month & 1) {
      uint32_t days = s.DayMask(year, month) & (~uint32_t{0} << first_day);
      for (; days != 0; days &= days - 1) {
        const int32_t day = std::countr_zero(days);
        std::optional<int32_t> t = NextTimeOfDay(s, day == first_day ? second_of_day : 0);
        if (!t.has_value()) continue;
        const int64_t local = (month_days + day - 1) * kSecondsPerDay + *t;
        PAXCRON_ASSERT(local >= from);
        if (local >= until) return std::nullopt;
        return local;
      }
    }
    const uint32_t later_months = s.months() & (~uint32_t{0} << (month + 1));
    if (later_months != 0) {
      month = std::countr_zero(later_months);
    } else {
      year += 1;
      month = std::countr_zero(s.months());
    }
    first_day = 1;
    second_of_day = 0;
  }
  PAXCRON_ASSERT(false && "NextLocalMatch passed its month bound");
  return std::nullopt;
}

}  // namespace

Result<int64_t> NextFireTime(const Schedule& s, int64_t after_unix_seconds, const ZoneRules& zone) {
  if (after_unix_seconds < kMinSupportedSeconds || after_unix_seconds > kMaxSupportedSeconds) {
    return Status::Error("time out of range: schedules run in years 0000-9999");
  }
  const int64_t limit = after_unix_seconds + kSearchSeconds;  // the last instant searched
  int64_t t = after_unix_seconds + 1;
  // Each pass searches one span of constant UTC offset, from t to the span's end.
  for (int32_t pass = 0; pass < kSpansMax && t <= limit; ++pass) {
    Result<ZoneSpan> found = zone.SpanAt(t);
    if (!found.ok()) return found.status();
    const ZoneSpan& span = found.value();
    PAXCRON_ASSERT(span.begin_unix_seconds <= t && t < span.end_unix_seconds);
    const int64_t offset = span.offset_seconds, before = span.offset_before_seconds;
    const int64_t end = std::min(span.end_unix_seconds, limit + 1);
    int64_t from_local = t + offset;
    if (!s.follows_clock()) {
      // A spring-forward skipped the wall-clock times [begin + before, begin + offset): the
      // fixed-time runs due then fire at the first instant after the gap, as in cronie.
      if (t == span.begin_unix_seconds && before < offset &&
          NextLocalMatch(s, t + before, t + offset).has_value()) {
        return t;
      }
      // A fall-back shows [begin + offset, begin + before) a second time: fixed-time runs fired
      // the first time and do not fire again.
      if (before > offset) from_local = std::max(from_local, span.begin_unix_seconds + before);
    }
    std::optional<int64_t> local = NextLocalMatch(s, from_local, end + offset);
    if (local.has_value()) {
      const int64_t fire = *local - offset;
      PAXCRON_ASSERT(fire > after_unix_seconds && fire >= t && fire < end);
      return fire;
    }
    t = end;
  }
  if (t <= limit) return Status::Error("time zone " + zone.name() + " changes offset too often");
  return Status::Error("no fire time within 400 years after " +
                       FormatRfc3339(after_unix_seconds, 0, true));
}

}  // namespace paxcron::cron
