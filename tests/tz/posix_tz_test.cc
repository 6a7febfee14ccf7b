#include "tz/posix_tz.h"

#include <gtest/gtest.h>

#include "cron/civil_time.h"

namespace paxcron::tz {
namespace {

int64_t Utc(int64_t y, int32_t mo, int32_t d, int32_t h, int32_t mi = 0) {
  return cron::SecondsFromCivil({y, mo, d, h, mi, 0});
}

TEST(PosixTz, ParsesEuropeanRule) {
  const PosixTz tz = ParsePosixTz("CET-1CEST,M3.5.0,M10.5.0/3").value();
  EXPECT_EQ(tz.std_offset_seconds, 3600);
  EXPECT_TRUE(tz.has_dst);
  EXPECT_EQ(tz.dst_offset_seconds, 7200);
  EXPECT_EQ(tz.dst_start.month, 3);
  EXPECT_EQ(tz.dst_start.week, 5);
  EXPECT_EQ(tz.dst_start.time_seconds, 7200);
  EXPECT_EQ(tz.dst_end.time_seconds, 3 * 3600);
  EXPECT_EQ(DstStartUnixSeconds(tz, 2026), Utc(2026, 3, 29, 1));
  EXPECT_EQ(DstEndUnixSeconds(tz, 2026), Utc(2026, 10, 25, 1));
  EXPECT_EQ(DstStartUnixSeconds(tz, 2040), Utc(2040, 3, 25, 1));
}

TEST(PosixTz, ParsesOtherForms) {
  const PosixTz apia = ParsePosixTz("<+13>-13").value();
  EXPECT_EQ(apia.std_offset_seconds, 13 * 3600);
  EXPECT_FALSE(apia.has_dst);
  const PosixTz india = ParsePosixTz("IST-5:30").value();
  EXPECT_EQ(india.std_offset_seconds, 5 * 3600 + 1800);
  const PosixTz ny = ParsePosixTz("EST5EDT,M3.2.0,M11.1.0").value();
  EXPECT_EQ(ny.std_offset_seconds, -5 * 3600);
  EXPECT_EQ(DstStartUnixSeconds(ny, 2026), Utc(2026, 3, 8, 7));
  EXPECT_EQ(DstEndUnixSeconds(ny, 2026), Utc(2026, 11, 1, 6));
  const PosixTz lord_howe = ParsePosixTz("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0").value();
  EXPECT_EQ(lord_howe.dst_offset_seconds, 11 * 3600);
  // Nuuk: negative transition times (RFC 8536's extension).
  const PosixTz nuuk = ParsePosixTz("<-02>2<-01>,M3.5.0/-1,M10.5.0/0").value();
  EXPECT_EQ(nuuk.dst_start.time_seconds, -3600);
  EXPECT_EQ(DstStartUnixSeconds(nuuk, 2026), Utc(2026, 3, 29, 1));
  // Julian days: J60 is 1 March in every year; 59 (zero-based) is 29 February in a leap year.
  const PosixTz j = ParsePosixTz("AAA0BBB,J60/0,59/0").value();
  EXPECT_EQ(DstStartUnixSeconds(j, 2028), Utc(2028, 3, 1, 0));
  EXPECT_EQ(DstEndUnixSeconds(j, 2028), Utc(2028, 2, 29, 0) - 3600);
}

TEST(PosixTz, RejectsMalformedRules) {
  for (const char* text :
       {"", "C-1", "CET", "CET-1CEST", "CET-1CEST,M13.1.0,M10.5.0", "CET-1CEST,M3.5.0",
        "CET-1CEST,M3.5.0,M10.5.0/200", "<+13-13", "CET-25", "CET-1CEST,M3.5.7,M10.5.0"}) {
    EXPECT_FALSE(ParsePosixTz(text).ok()) << text;
  }
}

TEST(PosixTz, SpansAlternateNorthAndSouth) {
  const PosixTz berlin = ParsePosixTz("CET-1CEST,M3.5.0,M10.5.0/3").value();
  const cron::ZoneSpan summer = PosixSpanAt(berlin, Utc(2050, 7, 1, 0));
  EXPECT_EQ(summer.offset_seconds, 7200);
  EXPECT_EQ(summer.offset_before_seconds, 3600);
  EXPECT_EQ(summer.begin_unix_seconds, Utc(2050, 3, 27, 1));
  EXPECT_EQ(summer.end_unix_seconds, Utc(2050, 10, 30, 1));
  const cron::ZoneSpan winter = PosixSpanAt(berlin, Utc(2051, 1, 1, 0));
  EXPECT_EQ(winter.offset_seconds, 3600);
  EXPECT_EQ(winter.begin_unix_seconds, Utc(2050, 10, 30, 1));
  const PosixTz sydney = ParsePosixTz("AEST-10AEDT,M10.1.0,M4.1.0/3").value();
  const cron::ZoneSpan january = PosixSpanAt(sydney, Utc(2050, 1, 15, 0));
  EXPECT_EQ(january.offset_seconds, 11 * 3600);
  EXPECT_EQ(january.offset_before_seconds, 10 * 3600);
  EXPECT_LT(january.begin_unix_seconds, Utc(2050, 1, 1, 0));
  EXPECT_GT(january.end_unix_seconds, Utc(2050, 3, 31, 0));
}

TEST(PosixTz, DaylightAllYearHasNoChanges) {
  // zic writes permanent daylight time as DST from 1 January to hour 25 of 31 December.
  const PosixTz tz = ParsePosixTz("EST5EDT,0/0,J365/25").value();
  for (int64_t y = 2040; y < 2050; ++y) {
    const int64_t t = Utc(y, 6, 1, 0);
    const cron::ZoneSpan span = PosixSpanAt(tz, t);
    EXPECT_EQ(span.offset_seconds, -4 * 3600);
    EXPECT_EQ(span.offset_before_seconds, -4 * 3600);
    EXPECT_LE(span.begin_unix_seconds, t);
    EXPECT_GT(span.end_unix_seconds, t);
  }
}

}  // namespace
}  // namespace paxcron::tz
