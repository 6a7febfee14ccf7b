#include "tz/posix_tz.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "cron/civil_time.h"

namespace paxcron::tz {
namespace {

using cron::kSecondsPerDay;

// A cursor over the TZ text; every reader returns false on malformed input.
struct Reader {
  std::string_view text;
  size_t pos = 0;

  bool done() const { return pos == text.size(); }
  char peek() const { return done() ? '\0' : text[pos]; }
  bool Eat(char c) {
    if (peek() != c) return false;
    ++pos;
    return true;
  }
  bool Number(int32_t lo, int32_t hi, int32_t* out) {
    const size_t begin = pos;
    int32_t v = 0;
    while (!done() && peek() >= '0' && peek() <= '9' && pos - begin < 4)
      v = v * 10 + (text[pos++] - '0');
    if (pos == begin || v < lo || v > hi) return false;
    *out = v;
    return true;
  }
  // A zone abbreviation: three or more letters, or <...> with letters, digits, '+' and '-'.
  bool Name() {
    const size_t begin = pos;
    if (Eat('<')) {
      while (!done() && peek() != '>') {
        const char c = peek();
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-') return false;
        ++pos;
      }
      return Eat('>') && pos - begin >= 5;
    }
    while (!done() && std::isalpha(static_cast<unsigned char>(peek()))) ++pos;
    return pos - begin >= 3;
  }
  // [+|-]hh[:mm[:ss]], hours up to max_hours; returns signed seconds.
  bool Duration(int32_t max_hours, int32_t* out) {
    int32_t sign = 1;
    if (Eat('-')) {
      sign = -1;
    } else {
      Eat('+');
    }
    int32_t h = 0, m = 0, s = 0;
    if (!Number(0, max_hours, &h)) return false;
    if (Eat(':') && (!Number(0, 59, &m) || (Eat(':') && !Number(0, 59, &s)))) return false;
    *out = sign * (h * 3600 + m * 60 + s);
    return true;
  }
  bool Date(PosixDateRule* rule) {
    if (Eat('J')) {
      rule->kind = PosixDateRule::Kind::kJulianNoLeap;
      if (!Number(1, 365, &rule->day)) return false;
    } else if (Eat('M')) {
      rule->kind = PosixDateRule::Kind::kMonthWeekDay;
      if (!Number(1, 12, &rule->month) || !Eat('.') || !Number(1, 5, &rule->week) || !Eat('.') ||
          !Number(0, 6, &rule->weekday)) {
        return false;
      }
    } else {
      rule->kind = PosixDateRule::Kind::kZeroBasedDay;
      if (!Number(0, 365, &rule->day)) return false;
    }
    rule->time_seconds = 7200;
    return !Eat('/') || Duration(167, &rule->time_seconds);
  }
};

// Days since the epoch of the rule's day in `year`.
int64_t RuleDay(const PosixDateRule& r, int64_t year) {
  const int64_t jan1 = cron::DaysFromCivil(year, 1, 1);
  switch (r.kind) {
    case PosixDateRule::Kind::kJulianNoLeap:
      return jan1 + r.day - 1 + (cron::IsLeapYear(year) && r.day >= 60 ? 1 : 0);
    case PosixDateRule::Kind::kZeroBasedDay:
      return jan1 + r.day;
    case PosixDateRule::Kind::kMonthWeekDay: {
      const int64_t first = cron::DaysFromCivil(year, r.month, 1);
      int32_t day = 1 + (r.weekday - cron::WeekdayFromDays(first) + 7) % 7 + 7 * (r.week - 1);
      while (day > cron::DaysInMonth(year, r.month)) day -= 7;  // week 5: the last one
      return first + day - 1;
    }
  }
  PAXCRON_ASSERT(false);
  return 0;
}

struct Change {
  int64_t at;
  int32_t offset_after;
};

}  // namespace

Result<PosixTz> ParsePosixTz(std::string_view text) {
  auto bad = [&](const char* why) {
    return Status::Error("bad POSIX TZ rule '" + std::string(text) + "': " + why);
  };
  Reader r{text};
  PosixTz tz;
  int32_t west = 0;
  if (!r.Name()) return bad("expected a standard-time name");
  if (!r.Duration(24, &west)) return bad("expected a standard-time offset");
  tz.std_offset_seconds = -west;
  if (r.done()) return tz;
  if (!r.Name()) return bad("expected a daylight-time name");
  tz.has_dst = true;
  tz.dst_offset_seconds = tz.std_offset_seconds + 3600;
  if (r.peek() != ',' && !r.done()) {
    if (!r.Duration(24, &west)) return bad("expected a daylight-time offset");
    tz.dst_offset_seconds = -west;
  }
  if (!r.Eat(',')) return bad("daylight time without a rule");
  if (!r.Date(&tz.dst_start) || !r.Eat(',') || !r.Date(&tz.dst_end) || !r.done()) {
    return bad("expected ,start[/time],end[/time]");
  }
  return tz;
}

int64_t DstStartUnixSeconds(const PosixTz& tz, int64_t year) {
  PAXCRON_ASSERT(tz.has_dst);
  return RuleDay(tz.dst_start, year) * kSecondsPerDay + tz.dst_start.time_seconds -
         tz.std_offset_seconds;
}

int64_t DstEndUnixSeconds(const PosixTz& tz, int64_t year) {
  PAXCRON_ASSERT(tz.has_dst);
  return RuleDay(tz.dst_end, year) * kSecondsPerDay + tz.dst_end.time_seconds -
         tz.dst_offset_seconds;
}

cron::ZoneSpan PosixSpanAt(const PosixTz& tz, int64_t unix_seconds) {
  if (!tz.has_dst) {
    return cron::ZoneSpan{cron::kInstantMin, cron::kInstantMax, tz.std_offset_seconds,
                          tz.std_offset_seconds};
  }
  // The changes of five years around t. A rule's change may fall up to a week into the
  // neighbouring year (times up to 167 hours), never further, so years y-2..y+2 hold every
  // change near t, and the last one of y+2 lies after the start of y+1.
  const int64_t year = cron::CivilFromSeconds(unix_seconds).year;
  std::array<Change, 10> changes;
  size_t n = 0;
  for (int64_t y = year - 2; y <= year + 2; ++y) {
    changes[n++] = Change{DstStartUnixSeconds(tz, y), tz.dst_offset_seconds};
    changes[n++] = Change{DstEndUnixSeconds(tz, y), tz.std_offset_seconds};
  }
  std::stable_sort(changes.begin(), changes.end(),
                   [](const Change& a, const Change& b) { return a.at < b.at; });
  // Walk the changes; at equal instants the later one wins. Only the first change's "before"
  // is unknown, so a span that starts there reports no change of offset.
  cron::ZoneSpan span{cron::kInstantMin, cron::kInstantMax, 0, 0};
  int32_t current = changes[0].offset_after;
  span.offset_seconds = span.offset_before_seconds = current;
  span.begin_unix_seconds = changes[0].at;
  for (size_t i = 1; i < n; ++i) {
    const Change& c = changes[i];
    if (i + 1 < n && changes[i + 1].at == c.at) continue;
    if (c.offset_after == current) continue;
    if (c.at > unix_seconds) {
      span.end_unix_seconds = c.at;
      return span;
    }
    span = cron::ZoneSpan{c.at, cron::kInstantMax, c.offset_after, current};
    current = c.offset_after;
  }
  // No change after t among these years: the next one, if any, lies past the start of y+1.
  span.end_unix_seconds = cron::DaysFromCivil(year + 1, 1, 1) * kSecondsPerDay;
  return span;
}

}  // namespace paxcron::tz
