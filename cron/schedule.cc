// The schedule parser. The language and its error messages are documented in cron/SCHEDULE.md.
#include "cron/schedule.h"

#include <charconv>
#include <vector>

#include "common/hash.h"

namespace paxcron::cron {
namespace {

struct FieldSpec {
  const char* name;
  int32_t min;       // the smallest value the text may use
  int32_t max;       // the largest
  int32_t hash_min;  // what a bare '?' picks from
  int32_t hash_max;
  const char* names_hint;    // e.g. "a month name (jan-dec)", or nullptr: numbers only
  const char* const* names;  // three-letter names; names[i] is value first_name + i
  int32_t first_name = 0;
  int32_t name_count = 0;
};

constexpr const char* kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr const char* kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

constexpr FieldSpec kSecond{"second", 0, 59, 0, 59, nullptr, nullptr};
constexpr FieldSpec kMinute{"minute", 0, 59, 0, 59, nullptr, nullptr};
constexpr FieldSpec kHour{"hour", 0, 23, 0, 23, nullptr, nullptr};
// A bare '?' keeps to days 1-28 so that a hashed monthly job fires every month.
constexpr FieldSpec kDayOfMonth{"day-of-month", 1, 31, 1, 28, nullptr, nullptr};
constexpr FieldSpec kMonth{"month", 1, 12, 1, 12, "a month name (jan-dec)", kMonthNames, 1, 12};
// 0 and 7 are both Sunday; a bare '?' picks from 0-6 so that Sunday is not twice as likely.
constexpr FieldSpec kDayOfWeek{"day-of-week", 0, 7, 0, 6, "a day name (sun-sat)", kDayNames, 0, 7};

constexpr size_t kMaxExpressionBytes = 1024;

struct Macro {
  std::string_view name;
  std::string_view expansion;
};
constexpr Macro kMacros[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

Status FieldError(const FieldSpec& f, const std::string& message) {
  return Status::Error(std::string(f.name) + ": " + message);
}

std::string Quote(std::string_view text) { return "'" + std::string(text) + "'"; }

std::string RangeText(int32_t lo, int32_t hi) {
  return std::to_string(lo) + "-" + std::to_string(hi);
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// One value: a number in the field's range, or a three-letter name where the field has names.
Result<int32_t> ParseValue(const FieldSpec& f, std::string_view token, std::string_view item) {
  if (token.empty()) return FieldError(f, Quote(item) + " is missing a value");
  if (token.find_first_not_of("0123456789") == std::string_view::npos) {
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), v);
    if (ec != std::errc() || v < f.min || v > f.max) {
      return FieldError(f, std::string(token) + " is out of range " + RangeText(f.min, f.max));
    }
    return static_cast<int32_t>(v);
  }
  if (f.names != nullptr && token.size() == 3) {
    for (int32_t i = 0; i < f.name_count; ++i) {
      const char* name = f.names[i];
      if (Lower(token[0]) == name[0] && Lower(token[1]) == name[1] && Lower(token[2]) == name[2]) {
        return f.first_name + i;
      }
    }
  }
  std::string what = Quote(token) + " is not a number";
  if (f.names_hint != nullptr) what += std::string(" or ") + f.names_hint;
  return FieldError(f, what);
}

// "?" or "?(a-b)": one value of the range, a stable hash of the job's name and the field's name.
Result<uint64_t> ParseHashed(const FieldSpec& f, std::string_view item, std::string_view job) {
  int32_t lo = f.hash_min, hi = f.hash_max;
  if (item != "?") {
    const size_t dash = item.find('-');
    if (item.size() < 5 || item[1] != '(' || item.back() != ')' || dash == std::string_view::npos) {
      return FieldError(f, Quote(item) + " is not '?' or '?(a-b)'");
    }
    Result<int32_t> a = ParseValue(f, item.substr(2, dash - 2), item);
    if (!a.ok()) return a.status();
    Result<int32_t> b = ParseValue(f, item.substr(dash + 1, item.size() - dash - 2), item);
    if (!b.ok()) return b.status();
    lo = a.value();
    hi = b.value();
    if (lo > hi) return FieldError(f, "range " + Quote(item) + " runs backwards");
  }
  if (job.empty()) {
    return FieldError(f, Quote(item) + " needs a job name: its value is a hash of the name");
  }
  std::string key(job);
  key += '/';
  key += f.name;
  const uint64_t span = static_cast<uint64_t>(hi - lo + 1);
  const int32_t v = lo + static_cast<int32_t>(HashBytes(key) % span);
  PAXCRON_ASSERT(v >= lo && v <= hi);
  return uint64_t{1} << v;
}

// One list item: '*', a value, a range a-b, each with an optional /step; or a '?' form.
Result<uint64_t> ParseItem(const FieldSpec& f, std::string_view item, std::string_view field_text,
                           std::string_view job) {
  if (item.empty()) return FieldError(f, "empty item in " + Quote(field_text));
  if (item[0] == '?') return ParseHashed(f, item, job);
  const size_t slash = item.find('/');
  const std::string_view base = item.substr(0, slash);
  int32_t lo = f.min, hi = f.max, step = 1;
  if (base != "*") {
    const size_t dash = base.find('-');
    Result<int32_t> a = ParseValue(f, base.substr(0, dash), item);
    if (!a.ok()) return a.status();
    lo = hi = a.value();
    if (dash != std::string_view::npos) {
      Result<int32_t> b = ParseValue(f, base.substr(dash + 1), item);
      if (!b.ok()) return b.status();
      hi = b.value();
      if (lo > hi) return FieldError(f, "range " + Quote(base) + " runs backwards");
    } else if (slash != std::string_view::npos) {
      hi = f.max;  // "a/n" reads as "a-max/n"
    }
  }
  if (slash != std::string_view::npos) {
    const std::string_view text = item.substr(slash + 1);
    const int32_t most = f.max - f.min + 1;
    int64_t n = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
      return FieldError(f, "step " + Quote(text) + " in " + Quote(item) + " is not a number");
    }
    if (n < 1 || n > most) {
      return FieldError(f, "step " + std::string(text) + " in " + Quote(item) +
                               " is out of range " + RangeText(1, most));
    }
    step = static_cast<int32_t>(n);
  }
  uint64_t bits = 0;
  for (int32_t v = lo; v <= hi; v += step) bits |= uint64_t{1} << v;
  return bits;
}

// A comma-separated list of items; the result has bit v set for every allowed value v.
Result<uint64_t> ParseField(const FieldSpec& f, std::string_view text, std::string_view job) {
  uint64_t bits = 0;
  size_t begin = 0;
  while (true) {
    const size_t comma = text.find(',', begin);
    Result<uint64_t> item = ParseItem(f, text.substr(begin, comma - begin), text, job);
    if (!item.ok()) return item.status();
    bits |= item.value();
    if (comma == std::string_view::npos) break;
    begin = comma + 1;
  }
  PAXCRON_ASSERT(bits != 0);
  return bits;
}

std::vector<std::string_view> SplitFields(std::string_view expr) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < expr.size()) {
    while (i < expr.size() && (expr[i] == ' ' || expr[i] == '\t')) ++i;
    const size_t begin = i;
    while (i < expr.size() && expr[i] != ' ' && expr[i] != '\t') ++i;
    if (i > begin) fields.push_back(expr.substr(begin, i - begin));
  }
  return fields;
}

Result<std::string_view> ExpandMacro(std::string_view word) {
  for (const Macro& m : kMacros) {
    if (word == m.name) return m.expansion;
  }
  if (word == "@reboot") {
    return Status::Error("@reboot is not supported: a paxcron schedule names times, not events");
  }
  return Status::Error("unknown macro " + Quote(word) +
                       " (expected @yearly, @annually, @monthly, @weekly, @daily, @midnight or "
                       "@hourly)");
}

}  // namespace

Result<Schedule> Schedule::Parse(std::string_view expr, std::string_view job_name) {
  if (expr.size() > kMaxExpressionBytes) {
    return Status::Error("schedule longer than " + std::to_string(kMaxExpressionBytes) +
                         " characters");
  }
  std::vector<std::string_view> fields = SplitFields(expr);
  if (fields.empty()) return Status::Error("empty schedule");
  if (fields[0][0] == '@') {
    if (fields.size() != 1) return Status::Error("a macro stands alone, not in " + Quote(expr));
    Result<std::string_view> expansion = ExpandMacro(fields[0]);
    if (!expansion.ok()) return expansion.status();
    fields = SplitFields(expansion.value());
  }
  if (fields.size() != 5 && fields.size() != 6) {
    return Status::Error(
        "expected 5 fields (minute hour day-of-month month day-of-week) or 6 "
        "(second first), got " +
        std::to_string(fields.size()) + " in " + Quote(expr));
  }
  const bool with_seconds = fields.size() == 6;
  const size_t first = with_seconds ? 1 : 0;
  const std::string_view dom_text = fields[first + 2], month_text = fields[first + 3];
  const std::string_view dow_text = fields[first + 4];
  const FieldSpec* specs[] = {&kMinute, &kHour, &kDayOfMonth, &kMonth, &kDayOfWeek};
  uint64_t bits[5] = {};
  for (size_t i = 0; i < 5; ++i) {
    Result<uint64_t> b = ParseField(*specs[i], fields[first + i], job_name);
    if (!b.ok()) return b.status();
    bits[i] = b.value();
  }
  Schedule s;
  s.seconds_ = 1;  // five fields: at second 0
  if (with_seconds) {
    Result<uint64_t> b = ParseField(kSecond, fields[0], job_name);
    if (!b.ok()) return b.status();
    s.seconds_ = b.value();
  }
  s.minutes_ = bits[0];
  s.hours_ = static_cast<uint32_t>(bits[1]);
  s.days_of_month_ = static_cast<uint32_t>(bits[2]);
  s.months_ = static_cast<uint32_t>(bits[3]);
  s.days_of_week_ = static_cast<uint32_t>((bits[4] | (bits[4] >> 7)) & 0x7f);  // 7 is Sunday
  s.days_either_ = dom_text[0] != '*' && dow_text[0] != '*';
  s.follows_clock_ = fields[first][0] == '*' || fields[first + 1][0] == '*' ||
                     (with_seconds && fields[0][0] == '*');
  for (int32_t first_weekday = 0; first_weekday < 7; ++first_weekday) {
    uint32_t mask = 0;
    for (int32_t d = 1; d <= 31; ++d) {
      if (s.days_of_week_ & (1u << ((first_weekday + d - 1) % 7))) mask |= 1u << d;
    }
    s.weekday_days_by_first_[static_cast<size_t>(first_weekday)] = mask;
  }
  // Both day fields must hold on some date: "31 in April" alone can never fire. Weekdays need
  // no check: every date falls on every weekday within 400 years, 29 February included.
  if (!s.days_either_) {
    bool possible = false;
    for (int32_t m = 1; m <= 12; ++m) {
      const uint32_t month_days = ((uint32_t{1} << DaysInMonth(2000, m)) - 1) << 1;  // a leap year
      if ((s.months_ >> m & 1) && (s.days_of_month_ & month_days) != 0) possible = true;
    }
    if (!possible) {
      return Status::Error("day-of-month: " + Quote(dom_text) + " never occurs in month " +
                           Quote(month_text));
    }
  }
  return s;
}

uint32_t Schedule::DayMask(int64_t year, int32_t month) const {
  PAXCRON_ASSERT(month >= 1 && month <= 12);
  const int32_t days = DaysInMonth(year, month);
  const uint32_t valid = ((uint32_t{1} << days) - 1) << 1;  // bits 1..days
  const int32_t first_weekday = WeekdayFromDays(DaysFromCivil(year, month, 1));
  const uint32_t by_weekday = weekday_days_by_first_[static_cast<size_t>(first_weekday)];
  const uint32_t mask =
      days_either_ ? (days_of_month_ | by_weekday) : (days_of_month_ & by_weekday);
  return mask & valid;
}

bool Schedule::Matches(const CivilSecond& local) const {
  return (months_ >> local.month & 1) && (DayMask(local.year, local.month) >> local.day & 1) &&
         (hours_ >> local.hour & 1) && (minutes_ >> local.minute & 1) &&
         (seconds_ >> local.second & 1);
}

}  // namespace paxcron::cron
