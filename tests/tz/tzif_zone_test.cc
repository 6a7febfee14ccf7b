// The TZif reader against glibc's own reading of the same files (localtime_r), which applies
// the footer's rule past 2037 too; and the loader's errors.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <ctime>
#include <fstream>
#include <iterator>
#include <string>

#include "cron/civil_time.h"
#include "tz/system_zones.h"
#include "tz/tzif.h"

namespace paxcron::tz {
namespace {

// glibc's UTC offset at `t` in the zone of $TZ.
int32_t GlibcOffset(int64_t t) {
  const time_t tt = static_cast<time_t>(t);
  std::tm tm{};
  PAXCRON_ASSERT(localtime_r(&tt, &tm) != nullptr);
  return static_cast<int32_t>(tm.tm_gmtoff);
}

class TzifZoneOracle : public testing::TestWithParam<const char*> {};

TEST_P(TzifZoneOracle, OffsetsAndSpansAgreeWithGlibc) {
  const char* name = GetParam();
  auto zone = LoadZone(name);
  ASSERT_TRUE(zone.ok()) << zone.status().message();
  ASSERT_EQ(setenv("TZ", name, 1), 0);
  tzset();
  // Every 7h13m from 1970 to 2120: lands on every hour of the day and every day of the week.
  const int64_t end = cron::SecondsFromCivil({2120, 1, 1, 0, 0, 0});
  for (int64_t t = 0; t < end; t += 7 * 3600 + 13 * 60) {
    const cron::ZoneSpan span = zone.value()->SpanAt(t).value();
    ASSERT_EQ(span.offset_seconds, GlibcOffset(t)) << name << " at " << t;
    ASSERT_LE(span.begin_unix_seconds, t);
    ASSERT_GT(span.end_unix_seconds, t);
    if (span.begin_unix_seconds > cron::kInstantMin) {
      ASSERT_EQ(GlibcOffset(span.begin_unix_seconds), span.offset_seconds) << name << " " << t;
      ASSERT_EQ(GlibcOffset(span.begin_unix_seconds - 1), span.offset_before_seconds)
          << name << " " << t;
    }
    if (span.end_unix_seconds < end) {
      ASSERT_EQ(GlibcOffset(span.end_unix_seconds - 1), span.offset_seconds) << name << " " << t;
    }
  }
  unsetenv("TZ");
  tzset();
}

INSTANTIATE_TEST_SUITE_P(Zones, TzifZoneOracle,
                         testing::Values("Europe/Berlin", "America/New_York", "Australia/Sydney",
                                         "Australia/Lord_Howe", "Europe/Dublin", "Europe/London",
                                         "America/Sao_Paulo", "America/Santiago",
                                         "Africa/Casablanca", "Pacific/Apia", "Asia/Kolkata",
                                         "America/Nuuk", "Pacific/Chatham", "Asia/Tehran"),
                         [](const testing::TestParamInfo<const char*>& param) {
                           std::string s = param.param;
                           for (char& c : s) c = (c == '/') ? '_' : c;
                           return s;
                         });

TEST(SystemZones, UtcNeedsNoDatabase) {
  auto zone = LoadZone("UTC", "/nonexistent");
  ASSERT_TRUE(zone.ok());
  EXPECT_TRUE(zone.value()->is_utc());
  EXPECT_EQ(zone.value()->SpanAt(1'800'000'000).value().offset_seconds, 0);
}

TEST(SystemZones, ReportsUnknownAndInvalidNames) {
  EXPECT_EQ(LoadZone("Mars/Olympus").status().message(),
            "unknown time zone 'Mars/Olympus' (no such file under /usr/share/zoneinfo; is tzdata "
            "installed?)");
  EXPECT_EQ(LoadZone("Europe/Berlin", "/nonexistent").status().message(),
            "unknown time zone 'Europe/Berlin' (no such file under /nonexistent; is tzdata "
            "installed?)");
  for (const char* bad : {"", "../etc/passwd", "/etc/passwd", "Europe/../../etc/passwd",
                          "Europe//Berlin", "Europe/Berlin/", "Europe/Ber lin"}) {
    EXPECT_EQ(LoadZone(bad).status().message(), "invalid time zone name '" + std::string(bad) + "'")
        << bad;
  }
  EXPECT_FALSE(LoadZone("Europe").ok());        // a directory
  EXPECT_FALSE(LoadZone("zone1970.tab").ok());  // not a TZif file
}

TEST(Tzif, RejectsDamagedFiles) {
  std::ifstream in("/usr/share/zoneinfo/Europe/Berlin", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(ParseTzif(bytes).ok());
  EXPECT_EQ(ParseTzif(bytes).value().rule->std_offset_seconds, 3600);
  for (size_t cut : {size_t{0}, size_t{10}, size_t{44}, size_t{100}, bytes.size() / 2,
                     bytes.size() - 5, bytes.size() - 1}) {
    EXPECT_FALSE(ParseTzif(bytes.substr(0, cut)).ok()) << cut;
  }
  std::string wrong_version = bytes;
  wrong_version[4] = 'x';
  EXPECT_FALSE(ParseTzif(wrong_version).ok());
  EXPECT_FALSE(ParseTzif("TZif2 definitely not a time zone file, but long enough to try").ok());
}

}  // namespace
}  // namespace paxcron::tz
