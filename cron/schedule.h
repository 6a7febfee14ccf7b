// A parsed cron schedule: the Vixie cron five-field language (or six fields, seconds first),
// its @macros, and `?` fields whose value is a stable hash of the job's name. The language is
// documented in cron/SCHEDULE.md, which tests/cron/ follow line by line.
//
// Pure and immutable after Parse(): thread-safe. Who calls it: the cron state machine, the
// `paxcron schedule` command, tests and benchmarks.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "cron/civil_time.h"
#include "cron/zone_rules.h"

namespace paxcron::cron {

class Schedule {
 public:
  // Parses `expr`. `job_name` feeds the `?` hash and may be empty only if `expr` has no `?`.
  // Errors name the field and the token, e.g. "hour: 24 is out of range 0-23".
  static Result<Schedule> Parse(std::string_view expr, std::string_view job_name);

  // Bit v set when value v is allowed: seconds and minutes 0-59, hours 0-23, days of the month
  // 1-31, months 1-12, days of the week 0-6 (Sunday is 0; a 7 in the text is folded onto 0).
  uint64_t seconds() const { return seconds_; }
  uint64_t minutes() const { return minutes_; }
  uint32_t hours() const { return hours_; }
  uint32_t days_of_month() const { return days_of_month_; }
  uint32_t months() const { return months_; }
  uint32_t days_of_week() const { return days_of_week_; }

  // Vixie cron's rule: when both day fields are restricted (neither starts with '*'), a day
  // matches if either does; otherwise both must.
  bool days_either() const { return days_either_; }

  // True when the second, minute or hour field starts with '*'. Such a schedule follows the
  // wall clock through daylight-saving changes; the others are fixed-time runs (SCHEDULE.md).
  bool follows_clock() const { return follows_clock_; }

  // Bit d (1-31) set when day d of that month matches both day fields under Vixie's rule.
  uint32_t DayMask(int64_t year, int32_t month) const;

  // Whether a wall-clock reading matches every field. For tests and brute-force checks; the
  // search in schedule_next.cc uses the bit masks directly.
  bool Matches(const CivilSecond& local) const;

 private:
  Schedule() = default;

  uint64_t seconds_ = 0;
  uint64_t minutes_ = 0;
  uint32_t hours_ = 0;
  uint32_t days_of_month_ = 0;
  uint32_t months_ = 0;
  uint32_t days_of_week_ = 0;
  bool days_either_ = false;
  bool follows_clock_ = false;
  // Indexed by the weekday of the 1st of a month: bit d set when day d falls on an allowed
  // weekday. Computed once so that DayMask() is a few bit operations.
  std::array<uint32_t, 7> weekday_days_by_first_{};
};

// The first fire time strictly after `after_unix_seconds`, in seconds since the epoch. Local
// times are read in `zone`, with the daylight-saving rules of SCHEDULE.md. The search is bounded:
// past 400 years (one whole Gregorian cycle, so a schedule that has not fired by then never
// will) it gives up with "no fire time within 400 years after ...".
// REQUIRES: after_unix_seconds in [kMinSupportedSeconds, kMaxSupportedSeconds], or an error.
Result<int64_t> NextFireTime(const Schedule& schedule, int64_t after_unix_seconds,
                             const ZoneRules& zone);

}  // namespace paxcron::cron
