// The language of cron/SCHEDULE.md, field by field, and its error messages.
#include <gtest/gtest.h>

#include <bit>
#include <map>
#include <string>

#include "common/hash.h"
#include "cron/schedule.h"

namespace paxcron::cron {
namespace {

Schedule MustParse(std::string_view expr, std::string_view job = "") {
  Result<Schedule> s = Schedule::Parse(expr, job);
  EXPECT_TRUE(s.ok()) << expr << ": " << (s.ok() ? "" : s.status().message());
  PAXCRON_ASSERT(s.ok());
  return s.value();
}

std::string ErrorOf(std::string_view expr, std::string_view job = "") {
  Result<Schedule> s = Schedule::Parse(expr, job);
  return s.ok() ? "(parsed)" : s.status().message();
}

uint64_t Bits(std::initializer_list<int> values) {
  uint64_t bits = 0;
  for (int v : values) bits |= uint64_t{1} << v;
  return bits;
}

int Only(uint64_t bits) {
  EXPECT_EQ(std::popcount(bits), 1);
  return std::countr_zero(bits);
}

TEST(ScheduleParse, ListsRangesAndSteps) {
  const Schedule s = MustParse("1,5-7,10-30/10 */6 1-31/15 */5 1-5/2");
  EXPECT_EQ(s.seconds(), Bits({0}));
  EXPECT_EQ(s.minutes(), Bits({1, 5, 6, 7, 10, 20, 30}));
  EXPECT_EQ(s.hours(), Bits({0, 6, 12, 18}));
  EXPECT_EQ(s.days_of_month(), Bits({1, 16, 31}));
  EXPECT_EQ(s.months(), Bits({1, 6, 11}));
  EXPECT_EQ(s.days_of_week(), Bits({1, 3, 5}));
  EXPECT_EQ(MustParse("* * * * *").minutes(), (uint64_t{1} << 60) - 1);
}

TEST(ScheduleParse, ValueWithStepRunsToTheEndOfTheField) {
  EXPECT_EQ(MustParse("50/3 * * * *").minutes(), Bits({50, 53, 56, 59}));
  EXPECT_EQ(MustParse("*/60 * * * *").minutes(), Bits({0}));
}

TEST(ScheduleParse, NamesAreCaseInsensitive) {
  const Schedule s = MustParse("0 0 * jan-MAR,Dec mon-fri");
  EXPECT_EQ(s.months(), Bits({1, 2, 3, 12}));
  EXPECT_EQ(s.days_of_week(), Bits({1, 2, 3, 4, 5}));
  EXPECT_EQ(MustParse("0 0 * * SUN,sat").days_of_week(), Bits({0, 6}));
}

TEST(ScheduleParse, ZeroAndSevenAreBothSunday) {
  EXPECT_EQ(MustParse("0 0 * * 7").days_of_week(), Bits({0}));
  EXPECT_EQ(MustParse("0 0 * * 0").days_of_week(), Bits({0}));
  EXPECT_EQ(MustParse("0 0 * * 5-7").days_of_week(), Bits({0, 5, 6}));
  EXPECT_EQ(MustParse("0 0 * * *").days_of_week(), Bits({0, 1, 2, 3, 4, 5, 6}));
}

TEST(ScheduleParse, SixFieldsPutSecondsFirst) {
  const Schedule s = MustParse("*/20 30 2 * * *");
  EXPECT_EQ(s.seconds(), Bits({0, 20, 40}));
  EXPECT_EQ(s.minutes(), Bits({30}));
  EXPECT_EQ(s.hours(), Bits({2}));
}

TEST(ScheduleParse, MacrosExpandToTheirFields) {
  const std::map<std::string, std::string> macros = {
      {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
      {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
      {"@hourly", "0 * * * *"}};
  for (const auto& [macro, fields] : macros) {
    const Schedule a = MustParse(macro), b = MustParse(fields);
    EXPECT_EQ(a.minutes(), b.minutes()) << macro;
    EXPECT_EQ(a.hours(), b.hours()) << macro;
    EXPECT_EQ(a.days_of_month(), b.days_of_month()) << macro;
    EXPECT_EQ(a.months(), b.months()) << macro;
    EXPECT_EQ(a.days_of_week(), b.days_of_week()) << macro;
    EXPECT_EQ(a.follows_clock(), b.follows_clock()) << macro;
  }
  EXPECT_TRUE(MustParse("  @daily\t").hours() == Bits({0}));
}

TEST(ScheduleParse, VixieDayRuleNeedsBothDayFieldsRestricted) {
  EXPECT_TRUE(MustParse("0 0 13 * 5").days_either());    // the 13th, or any Friday
  EXPECT_FALSE(MustParse("0 0 13 * *").days_either());   // the 13th
  EXPECT_FALSE(MustParse("0 0 * * 5").days_either());    // Fridays
  EXPECT_FALSE(MustParse("0 0 */2 * 5").days_either());  // '*' first: odd days that are Fridays
  // March 2026: the 13th is a Friday; Fridays are the 6th, 13th, 20th and 27th.
  EXPECT_EQ(MustParse("0 0 13 * 5").DayMask(2026, 3), Bits({6, 13, 20, 27}));
  EXPECT_EQ(MustParse("0 0 1 * 5").DayMask(2026, 3), Bits({1, 6, 13, 20, 27}));
  EXPECT_EQ(MustParse("0 0 */2 * 5").DayMask(2026, 3), Bits({13, 27}));
  EXPECT_EQ(MustParse("0 0 31 * *").DayMask(2026, 4), 0u);
}

TEST(ScheduleParse, WildcardTimeFieldsFollowTheClock) {
  EXPECT_FALSE(MustParse("30 2 * * *").follows_clock());
  EXPECT_FALSE(MustParse("0-59 0-23 * * *").follows_clock());  // no '*': fixed-time, as cronie
  EXPECT_FALSE(MustParse("@daily").follows_clock());
  EXPECT_FALSE(MustParse("? ? * * *", "job").follows_clock());
  EXPECT_TRUE(MustParse("*/15 * * * *").follows_clock());
  EXPECT_TRUE(MustParse("0 * * * *").follows_clock());
  EXPECT_TRUE(MustParse("@hourly").follows_clock());
  EXPECT_TRUE(MustParse("* 2 * * *").follows_clock());
  EXPECT_TRUE(MustParse("*/10 30 2 * * *").follows_clock());
  EXPECT_FALSE(MustParse("10 30 2 * * *").follows_clock());
}

// The '?' values are part of the language's contract (SCHEDULE.md): a job keeps its time across
// runs, machines and versions. These are HashBytes("<job>/<field>") % range size + range start.
TEST(ScheduleParse, HashedFieldsAreStableForever) {
  const Schedule s = MustParse("? ? ? ? ? ?", "backup");
  EXPECT_EQ(Only(s.seconds()), 41);
  EXPECT_EQ(Only(s.minutes()), 47);
  EXPECT_EQ(Only(s.hours()), 0);
  EXPECT_EQ(Only(s.days_of_month()), 23);
  EXPECT_EQ(Only(s.months()), 8);
  EXPECT_EQ(Only(s.days_of_week()), 1);
  EXPECT_EQ(static_cast<int>(HashBytes("backup/minute") % 60), 47);
  const Schedule t = MustParse("? ? * * *", "nightly-report");
  EXPECT_EQ(Only(t.minutes()), 52);
  EXPECT_EQ(Only(t.hours()), 13);
  const Schedule r = MustParse("?(0-29) ? * * ?(mon-fri)", "db-vacuum");
  EXPECT_EQ(Only(r.minutes()), 4);
  EXPECT_EQ(Only(r.hours()), 7);
  EXPECT_EQ(Only(r.days_of_week()), 3);
}

TEST(ScheduleParse, HashedFieldsStayInTheirRange) {
  for (int i = 0; i < 2000; ++i) {
    const std::string job = "job-" + std::to_string(i);
    const Schedule s = MustParse("?(10-19) ?(1-5) ? * ?(mon-fri)", job);
    const Schedule w = MustParse("0 0 * * ?", job);
    EXPECT_GE(Only(s.minutes()), 10);
    EXPECT_LE(Only(s.minutes()), 19);
    EXPECT_GE(Only(s.hours()), 1);
    EXPECT_LE(Only(s.hours()), 5);
    EXPECT_GE(Only(s.days_of_month()), 1);  // a bare '?' keeps to 1-28: every month has it
    EXPECT_LE(Only(s.days_of_month()), 28);
    EXPECT_GE(Only(s.days_of_week()), 1);
    EXPECT_LE(Only(s.days_of_week()), 5);
    EXPECT_LE(Only(w.days_of_week()), 6);
  }
}

// The thundering herd: 6,000 jobs written for "the same minute" spread over all 60 minutes.
TEST(ScheduleParse, HashedMinutesSpreadJobsOut) {
  int per_minute[60] = {};
  for (int i = 0; i < 6000; ++i) {
    ++per_minute[Only(MustParse("? 3 * * *", "tenant-" + std::to_string(i)).minutes())];
  }
  for (int m = 0; m < 60; ++m) {
    EXPECT_GT(per_minute[m], 60) << "minute " << m;  // 100 expected on average
    EXPECT_LT(per_minute[m], 140) << "minute " << m;
  }
  // Each field hashes its own name: a job's minute and second are not tied together.
  int same = 0;
  for (int i = 0; i < 600; ++i) {
    const Schedule s = MustParse("? ? * * * *", "tenant-" + std::to_string(i));
    if (Only(s.seconds()) == Only(s.minutes())) ++same;
  }
  EXPECT_LT(same, 40);
}

TEST(ScheduleParse, ErrorsNameTheFieldAndTheToken) {
  const std::map<std::string, std::string> cases = {
      {"0 24 * * *", "hour: 24 is out of range 0-23"},
      {"60 * * * *", "minute: 60 is out of range 0-59"},
      {"* * 0 * *", "day-of-month: 0 is out of range 1-31"},
      {"* * 32 * *", "day-of-month: 32 is out of range 1-31"},
      {"* * * 13 *", "month: 13 is out of range 1-12"},
      {"* * * * 8", "day-of-week: 8 is out of range 0-7"},
      {"60 * * * * *", "second: 60 is out of range 0-59"},
      {"99999999999999999999 * * * *", "minute: 99999999999999999999 is out of range 0-59"},
      {"x * * * *", "minute: 'x' is not a number"},
      {"* * * foo *", "month: 'foo' is not a number or a month name (jan-dec)"},
      {"* * * * funday", "day-of-week: 'funday' is not a number or a day name (sun-sat)"},
      {"0 0 * * mon-xyz", "day-of-week: 'xyz' is not a number or a day name (sun-sat)"},
      {"0 jan * * *", "hour: 'jan' is not a number"},
      {"5-2 * * * *", "minute: range '5-2' runs backwards"},
      {"0 0 * * fri-mon", "day-of-week: range 'fri-mon' runs backwards"},
      {"1- * * * *", "minute: '1-' is missing a value"},
      {"*/0 * * * *", "minute: step 0 in '*/0' is out of range 1-60"},
      {"0 */25 * * *", "hour: step 25 in '*/25' is out of range 1-24"},
      {"*/x * * * *", "minute: step 'x' in '*/x' is not a number"},
      {"*/ * * * *", "minute: step '' in '*/' is not a number"},
      {"1,,2 * * * *", "minute: empty item in '1,,2'"},
      {"0 0 1, * *", "day-of-month: empty item in '1,'"},
      {"? * * * *", "minute: '?' needs a job name: its value is a hash of the name"},
      {"0 ?(5 * * *", "hour: '?(5' is not '?' or '?(a-b)'"},
      {"?/5 * * * *", "minute: '?/5' is not '?' or '?(a-b)'"},
      {"?(30-10) * * * *", "minute: range '?(30-10)' runs backwards"},
      {"?(0-60) * * * *", "minute: 60 is out of range 0-59"},
      {"0 0 30 2 *", "day-of-month: '30' never occurs in month '2'"},
      {"0 0 31 apr,jun,sep,nov *", "day-of-month: '31' never occurs in month 'apr,jun,sep,nov'"},
      {"", "empty schedule"},
      {" \t ", "empty schedule"},
      {"* * * *",
       "expected 5 fields (minute hour day-of-month month day-of-week) or 6 (second first), got 4 "
       "in '* * * *'"},
      {"* * * * * * *",
       "expected 5 fields (minute hour day-of-month month day-of-week) or 6 (second first), got 7 "
       "in '* * * * * * *'"},
      {"@often",
       "unknown macro '@often' (expected @yearly, @annually, @monthly, @weekly, @daily, "
       "@midnight or @hourly)"},
      {"@Daily",
       "unknown macro '@Daily' (expected @yearly, @annually, @monthly, @weekly, @daily, "
       "@midnight or @hourly)"},
      {"@reboot", "@reboot is not supported: a paxcron schedule names times, not events"},
      {"@daily 5", "a macro stands alone, not in '@daily 5'"},
  };
  for (const auto& [expr, message] : cases) EXPECT_EQ(ErrorOf(expr, ""), message) << expr;
  EXPECT_EQ(ErrorOf(std::string(2000, '1')), "schedule longer than 1024 characters");
}

TEST(ScheduleParse, ImpossibleDatesAreOnlyRejectedWhenNothingCanMatch) {
  MustParse("0 0 29 2 *");    // every fourth year, mostly
  MustParse("0 0 30 2 1");    // both day fields restricted: any Monday in February
  MustParse("0 0 29 2 */7");  // 29 February that is a Sunday: 2032, 2060, ...
  MustParse("0 0 30,31 2,3 *");
}

}  // namespace
}  // namespace paxcron::cron
