// Daylight saving in real IANA zones (tz/, from the system's tzdata), as cron/SCHEDULE.md says:
// a fixed-time run skipped by a spring-forward fires right after the gap, one repeated by a
// fall-back fires once, and schedules with '*' in the second, minute or hour field follow the
// clock. Four zones: northern and southern hemispheres, and Lord Howe's half-hour shift.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "cron/schedule.h"
#include "tz/system_zones.h"

namespace paxcron::cron {
namespace {

using Times = std::vector<std::string>;

Times Next(std::string_view expr, std::string_view zone_name, std::string_view from, int count) {
  Result<std::unique_ptr<const ZoneRules>> zone = tz::LoadZone(zone_name);
  PAXCRON_ASSERT(zone.ok());
  Result<Schedule> s = Schedule::Parse(expr, "job");
  PAXCRON_ASSERT(s.ok());
  int64_t t = ParseRfc3339(from).value();
  Times out;
  for (int i = 0; i < count; ++i) {
    Result<int64_t> next = NextFireTime(s.value(), t, *zone.value());
    PAXCRON_ASSERT(next.ok());
    t = next.value();
    out.push_back(FormatRfc3339(t, zone.value()->SpanAt(t).value().offset_seconds, false));
  }
  return out;
}

// Europe/Berlin, 2026-03-29: 02:00 CET becomes 03:00 CEST.
TEST(DaylightSaving, BerlinSpringForward) {
  EXPECT_EQ(Next("30 2 * * *", "Europe/Berlin", "2026-03-27T12:00:00Z", 3),
            (Times{"2026-03-28T02:30:00+01:00", "2026-03-29T03:00:00+02:00",
                   "2026-03-30T02:30:00+02:00"}));
  // Several fixed-time runs in the gap all fire at its end, once.
  EXPECT_EQ(Next("0,30,59 2 * * *", "Europe/Berlin", "2026-03-29T00:00:00Z", 2),
            (Times{"2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00"}));
  EXPECT_EQ(Next("0 2,3 * * *", "Europe/Berlin", "2026-03-29T00:00:00Z", 2),
            (Times{"2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00"}));
  EXPECT_EQ(Next("0 3 * * *", "Europe/Berlin", "2026-03-29T00:00:00Z", 2),
            (Times{"2026-03-29T03:00:00+02:00", "2026-03-30T03:00:00+02:00"}));
  // Wildcards follow the clock: 02:00 and 02:30 never happen.
  EXPECT_EQ(Next("*/30 * * * *", "Europe/Berlin", "2026-03-29T00:15:00Z", 3),
            (Times{"2026-03-29T01:30:00+01:00", "2026-03-29T03:00:00+02:00",
                   "2026-03-29T03:30:00+02:00"}));
  EXPECT_EQ(Next("@hourly", "Europe/Berlin", "2026-03-28T23:30:00Z", 3),
            (Times{"2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00",
                   "2026-03-29T04:00:00+02:00"}));
  EXPECT_EQ(Next("15 * * * *", "Europe/Berlin", "2026-03-29T00:00:00Z", 2),
            (Times{"2026-03-29T01:15:00+01:00", "2026-03-29T03:15:00+02:00"}));
}

// Europe/Berlin, 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:00-02:59 happens twice.
TEST(DaylightSaving, BerlinFallBack) {
  EXPECT_EQ(Next("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", 2),
            (Times{"2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"}));
  // Starting inside the repeated hour, after the first 02:30: no second run.
  EXPECT_EQ(Next("30 2 * * *", "Europe/Berlin", "2026-10-25T00:45:00Z", 1),
            Times{"2026-10-26T02:30:00+01:00"});
  EXPECT_EQ(
      Next("*/30 * * * *", "Europe/Berlin", "2026-10-24T23:45:00Z", 5),
      (Times{"2026-10-25T02:00:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-25T02:00:00+01:00",
             "2026-10-25T02:30:00+01:00", "2026-10-25T03:00:00+01:00"}));
  EXPECT_EQ(Next("0 * * * *", "Europe/Berlin", "2026-10-24T23:30:00Z", 3),
            (Times{"2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00",
                   "2026-10-25T03:00:00+01:00"}));
  EXPECT_EQ(Next("*/20 30 2 * * *", "Europe/Berlin", "2026-10-25T00:00:00Z", 4),
            (Times{"2026-10-25T02:30:00+02:00", "2026-10-25T02:30:20+02:00",
                   "2026-10-25T02:30:40+02:00", "2026-10-25T02:30:00+01:00"}));
}

// America/New_York, 2026-03-08: 02:00 EST becomes 03:00 EDT; 2026-11-01: 02:00 EDT becomes
// 01:00 EST.
TEST(DaylightSaving, NewYorkBothTransitions) {
  EXPECT_EQ(Next("30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", 2),
            (Times{"2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"}));
  EXPECT_EQ(Next("30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", 2),
            (Times{"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"}));
  EXPECT_EQ(
      Next("*/30 * * * *", "America/New_York", "2026-11-01T04:45:00Z", 5),
      (Times{"2026-11-01T01:00:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T01:00:00-05:00",
             "2026-11-01T01:30:00-05:00", "2026-11-01T02:00:00-05:00"}));
  EXPECT_EQ(Next("*/30 * * * *", "America/New_York", "2026-03-08T06:15:00Z", 2),
            (Times{"2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00"}));
}

// Australia/Sydney, southern hemisphere: 2026-04-05 03:00 AEDT becomes 02:00 AEST; 2026-10-04
// 02:00 AEST becomes 03:00 AEDT.
TEST(DaylightSaving, SydneyBothTransitions) {
  EXPECT_EQ(Next("30 2 * * *", "Australia/Sydney", "2026-04-04T00:00:00Z", 2),
            (Times{"2026-04-05T02:30:00+11:00", "2026-04-06T02:30:00+10:00"}));
  EXPECT_EQ(Next("30 2 * * *", "Australia/Sydney", "2026-10-03T00:00:00Z", 2),
            (Times{"2026-10-04T03:00:00+11:00", "2026-10-05T02:30:00+11:00"}));
}

// Australia/Lord_Howe shifts by half an hour: 2026-10-04 02:00 becomes 02:30 (+10:30 to +11),
// 2026-04-05 02:00 becomes 01:30 (+11 to +10:30).
TEST(DaylightSaving, LordHoweHalfHourShift) {
  EXPECT_EQ(Next("15 2 * * *", "Australia/Lord_Howe", "2026-10-03T00:00:00Z", 2),
            (Times{"2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"}));
  EXPECT_EQ(Next("45 1 * * *", "Australia/Lord_Howe", "2026-04-04T00:00:00Z", 2),
            (Times{"2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"}));
  EXPECT_EQ(
      Next("*/15 * * * *", "Australia/Lord_Howe", "2026-04-04T14:20:00Z", 5),
      (Times{"2026-04-05T01:30:00+11:00", "2026-04-05T01:45:00+11:00", "2026-04-05T01:30:00+10:30",
             "2026-04-05T01:45:00+10:30", "2026-04-05T02:00:00+10:30"}));
}

// Past the transitions a TZif file lists (2037), the footer's rule keeps daylight saving going.
TEST(DaylightSaving, ContinuesAfter2037) {
  EXPECT_EQ(Next("30 2 * * *", "Europe/Berlin", "2040-03-24T12:00:00Z", 2),
            (Times{"2040-03-25T03:00:00+02:00", "2040-03-26T02:30:00+02:00"}));
  EXPECT_EQ(Next("0 12 1 7 *", "America/New_York", "2045-01-01T00:00:00Z", 1),
            Times{"2045-07-01T12:00:00-04:00"});
  EXPECT_EQ(Next("30 1 * * *", "America/New_York", "2099-10-31T12:00:00Z", 2),
            (Times{"2099-11-01T01:30:00-04:00", "2099-11-02T01:30:00-05:00"}));
}

}  // namespace
}  // namespace paxcron::cron
