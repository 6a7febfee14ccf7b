#include "cron/civil_time.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <ctime>

namespace paxcron::cron {
namespace {

static_assert(DaysFromCivil(1970, 1, 1) == 0);
static_assert(DaysFromCivil(2026, 1, 1) == 20454);
static_assert(DaysFromCivil(1969, 12, 31) == -1);
static_assert(WeekdayFromDays(0) == 4);                            // a Thursday
static_assert(WeekdayFromDays(DaysFromCivil(2026, 3, 29)) == 0);   // a Sunday
static_assert(WeekdayFromDays(DaysFromCivil(1969, 12, 28)) == 0);  // before the epoch
static_assert(!IsLeapYear(1900) && IsLeapYear(2000) && !IsLeapYear(2100) && IsLeapYear(2028));
static_assert(DaysInMonth(2028, 2) == 29 && DaysInMonth(2100, 2) == 28 &&
              DaysInMonth(2026, 4) == 30);

TEST(CivilTime, DaysRoundTripOverEightCenturies) {
  int64_t expected_weekday = WeekdayFromDays(DaysFromCivil(1600, 1, 1));
  for (int64_t days = DaysFromCivil(1600, 1, 1); days < DaysFromCivil(2400, 1, 1); ++days) {
    const CivilDay c = CivilFromDays(days);
    ASSERT_EQ(DaysFromCivil(c.year, c.month, c.day), days);
    ASSERT_GE(c.day, 1);
    ASSERT_LE(c.day, DaysInMonth(c.year, c.month));
    ASSERT_EQ(WeekdayFromDays(days), expected_weekday);
    expected_weekday = (expected_weekday + 1) % 7;
  }
}

RC_GTEST_PROP(CivilTime, AgreesWithTimegm, ()) {
  const int64_t seconds = *rc::gen::inRange<int64_t>(-5'000'000'000, 250'000'000'000);
  const CivilSecond c = CivilFromSeconds(seconds);
  std::tm tm{};
  tm.tm_year = static_cast<int>(c.year - 1900);
  tm.tm_mon = c.month - 1;
  tm.tm_mday = c.day;
  tm.tm_hour = c.hour;
  tm.tm_min = c.minute;
  tm.tm_sec = c.second;
  RC_ASSERT(static_cast<int64_t>(timegm(&tm)) == seconds);
  RC_ASSERT(SecondsFromCivil(c) == seconds);
}

TEST(CivilTime, FormatsRfc3339WithOffset) {
  const int64_t t = SecondsFromCivil({2026, 11, 27, 3, 0, 0});
  EXPECT_EQ(FormatRfc3339(t, 0, true), "2026-11-27T03:00:00Z");
  EXPECT_EQ(FormatRfc3339(t, 0, false), "2026-11-27T03:00:00+00:00");
  EXPECT_EQ(FormatRfc3339(t, 7200, false), "2026-11-27T05:00:00+02:00");
  EXPECT_EQ(FormatRfc3339(t, -4 * 3600, false), "2026-11-26T23:00:00-04:00");
  EXPECT_EQ(FormatRfc3339(t, 5 * 3600 + 45 * 60, false), "2026-11-27T08:45:00+05:45");
  EXPECT_EQ(FormatRfc3339(t, -(9 * 3600 + 30 * 60), false), "2026-11-26T17:30:00-09:30");
  // A local mean time with seconds cannot be written in RFC 3339: the same instant, in UTC.
  EXPECT_EQ(FormatRfc3339(t, 3208, false), "2026-11-27T03:00:00Z");
}

TEST(CivilTime, ParsesRfc3339) {
  const int64_t t = SecondsFromCivil({2026, 3, 29, 1, 30, 0});
  EXPECT_EQ(ParseRfc3339("2026-03-29T01:30:00Z").value(), t);
  EXPECT_EQ(ParseRfc3339("2026-03-29t01:30:00z").value(), t);
  EXPECT_EQ(ParseRfc3339("2026-03-29 01:30:00Z").value(), t);
  EXPECT_EQ(ParseRfc3339("2026-03-29T03:30:00+02:00").value(), t);
  EXPECT_EQ(ParseRfc3339("2026-03-28T21:30:00-04:00").value(), t);
  EXPECT_EQ(ParseRfc3339("2026-03-29T01:30:00.999Z").value(), t);
  EXPECT_EQ(ParseRfc3339("2028-02-29T00:00:00Z").value(), SecondsFromCivil({2028, 2, 29}));
}

TEST(CivilTime, RejectsMalformedTimes) {
  for (const char* text :
       {"", "2026-03-29", "2026-03-29T01:30:00", "2026-03-29T01:30Z", "2026-02-29T00:00:00Z",
        "2026-13-01T00:00:00Z", "2026-03-29T24:00:00Z", "2026-03-29T01:30:60Z",
        "2026-03-29T01:30:00+2:00", "2026-03-29T01:30:00+02:00 ", "2026-03-29T01:30:00.Z",
        "20260329T013000Z", "2026-03-29T01:30:00+24:00"}) {
    Result<int64_t> r = ParseRfc3339(text);
    EXPECT_FALSE(r.ok()) << text;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("RFC 3339"), std::string::npos) << text;
    }
  }
}

}  // namespace
}  // namespace paxcron::cron
