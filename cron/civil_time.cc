#include "cron/civil_time.h"

#include <cstdio>

namespace paxcron::cron {
namespace {

// Reads exactly `width` decimal digits at `pos`.
bool ReadDigits(std::string_view text, size_t pos, size_t width, int32_t* out) {
  if (pos + width > text.size()) return false;
  int32_t v = 0;
  for (size_t i = pos; i < pos + width; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    v = v * 10 + (text[i] - '0');
  }
  *out = v;
  return true;
}

Status BadTime(std::string_view text, const char* why) {
  return Status::Error("'" + std::string(text) + "' is not an RFC 3339 time (" + why +
                       "), e.g. 2026-03-29T01:30:00Z or 2026-03-29T03:30:00+02:00");
}

}  // namespace

std::string FormatRfc3339(int64_t unix_seconds, int32_t offset_seconds, bool zulu) {
  if (offset_seconds % 60 != 0) {
    offset_seconds = 0;
    zulu = true;
  }
  const CivilSecond c = CivilFromSeconds(unix_seconds + offset_seconds);
  std::string out;
  if (c.year >= 0 && c.year <= 9999) {
    // The common case, written digit by digit: run names are formatted on every launch.
    out = "0000-00-00T00:00:00";
    auto put = [&out](size_t at, int64_t value, int width) {
      for (int i = width - 1; i >= 0; --i, value /= 10)
        out[at + i] = static_cast<char>('0' + value % 10);
    };
    put(0, c.year, 4);
    put(5, c.month, 2);
    put(8, c.day, 2);
    put(11, c.hour, 2);
    put(14, c.minute, 2);
    put(17, c.second, 2);
  } else {
    char buf[64];
    const int n =
        std::snprintf(buf, sizeof(buf), "%04lld-%02d-%02dT%02d:%02d:%02d",
                      static_cast<long long>(c.year), c.month, c.day, c.hour, c.minute, c.second);
    PAXCRON_ASSERT(n > 0 && static_cast<size_t>(n) < sizeof(buf));
    out.assign(buf, static_cast<size_t>(n));
  }
  if (zulu && offset_seconds == 0) return out + "Z";
  char buf[16];
  const char sign = offset_seconds < 0 ? '-' : '+';
  const int32_t magnitude = offset_seconds < 0 ? -offset_seconds : offset_seconds;
  const int n =
      std::snprintf(buf, sizeof(buf), "%c%02d:%02d", sign, magnitude / 3600, magnitude / 60 % 60);
  PAXCRON_ASSERT(n == 6);
  return out + buf;
}

Result<int64_t> ParseRfc3339(std::string_view text) {
  CivilSecond c;
  int32_t year = 0;
  if (!ReadDigits(text, 0, 4, &year) || text.size() < 19 || text[4] != '-' ||
      !ReadDigits(text, 5, 2, &c.month) || text[7] != '-' || !ReadDigits(text, 8, 2, &c.day) ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') ||
      !ReadDigits(text, 11, 2, &c.hour) || text[13] != ':' || !ReadDigits(text, 14, 2, &c.minute) ||
      text[16] != ':' || !ReadDigits(text, 17, 2, &c.second)) {
    return BadTime(text, "expected YYYY-MM-DDTHH:MM:SS");
  }
  c.year = year;
  if (c.month < 1 || c.month > 12 || c.day < 1 || c.day > DaysInMonth(c.year, c.month) ||
      c.hour > 23 || c.minute > 59 || c.second > 59) {
    return BadTime(text, "no such date or time of day");
  }
  size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const size_t digits_begin = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    if (pos == digits_begin) return BadTime(text, "empty fraction of a second");
  }
  int32_t offset_seconds = 0;
  if (pos + 1 == text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    pos += 1;
  } else if (pos + 6 == text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int32_t oh = 0, om = 0;
    if (!ReadDigits(text, pos + 1, 2, &oh) || text[pos + 3] != ':' ||
        !ReadDigits(text, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return BadTime(text, "bad offset");
    }
    offset_seconds = (text[pos] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    pos += 6;
  } else {
    return BadTime(text, "expected Z or an offset such as +02:00 at the end");
  }
  PAXCRON_ASSERT(pos == text.size());
  const int64_t seconds = SecondsFromCivil(c) - offset_seconds;
  if (seconds < kMinSupportedSeconds || seconds > kMaxSupportedSeconds) {
    return BadTime(text, "outside years 0000-9999 in UTC");
  }
  return seconds;
}

}  // namespace paxcron::cron
