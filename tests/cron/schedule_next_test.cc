// NextFireTime in zones with one offset: month ends, leap years, the day rule, seconds, bounds.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cron/schedule.h"

namespace paxcron::cron {
namespace {

// The next `count` fire times after `from`, as the CLI prints them.
std::vector<std::string> Next(std::string_view expr, std::string_view from, int count = 1,
                              const ZoneRules& zone = FixedOffsetZone::Utc(),
                              std::string_view job = "") {
  Result<Schedule> s = Schedule::Parse(expr, job);
  PAXCRON_ASSERT(s.ok());
  int64_t t = ParseRfc3339(from).value();
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) {
    Result<int64_t> next = NextFireTime(s.value(), t, zone);
    if (!next.ok()) {
      out.push_back("error: " + next.status().message());
      break;
    }
    EXPECT_GT(next.value(), t);
    t = next.value();
    out.push_back(FormatRfc3339(t, zone.SpanAt(t).value().offset_seconds, zone.is_utc()));
  }
  return out;
}

using Times = std::vector<std::string>;

TEST(NextFireTime, DailyInUtc) {
  EXPECT_EQ(Next("0 3 * * *", "2026-11-26T12:00:00Z", 2),
            (Times{"2026-11-27T03:00:00Z", "2026-11-28T03:00:00Z"}));
}

TEST(NextFireTime, IsStrictlyAfterTheStart) {
  EXPECT_EQ(Next("0 3 * * *", "2026-11-27T03:00:00Z"), Times{"2026-11-28T03:00:00Z"});
  EXPECT_EQ(Next("0 3 * * *", "2026-11-27T02:59:59Z"), Times{"2026-11-27T03:00:00Z"});
  EXPECT_EQ(Next("* * * * *", "2026-11-27T03:00:00.5Z"), Times{"2026-11-27T03:01:00Z"});
}

TEST(NextFireTime, CrossesMonthAndYearEnds) {
  EXPECT_EQ(Next("0 0 31 * *", "2026-01-31T00:00:00Z", 3),
            (Times{"2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z"}));
  EXPECT_EQ(Next("59 23 31 12 *", "2026-12-31T23:59:00Z"), Times{"2027-12-31T23:59:00Z"});
  EXPECT_EQ(Next("*/20 * * * *", "2026-12-31T23:50:00Z", 2),
            (Times{"2027-01-01T00:00:00Z", "2027-01-01T00:20:00Z"}));
  EXPECT_EQ(Next("0 12 30 1,2,3 *", "2028-01-30T12:00:00Z"), Times{"2028-03-30T12:00:00Z"});
}

TEST(NextFireTime, LeapDaysOnly) {
  EXPECT_EQ(Next("0 0 29 2 *", "2026-01-01T00:00:00Z", 3),
            (Times{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z", "2036-02-29T00:00:00Z"}));
  // 2100 is not a leap year: eight years between leap days.
  EXPECT_EQ(Next("0 0 29 2 *", "2096-02-29T00:00:00Z"), Times{"2104-02-29T00:00:00Z"});
  // 29 February that is a Sunday (the '*' rule makes both day fields hold): 28 years apart.
  EXPECT_EQ(Next("0 0 29 2 */7", "2026-01-01T00:00:00Z", 2),
            (Times{"2032-02-29T00:00:00Z", "2060-02-29T00:00:00Z"}));
  EXPECT_EQ(Next("0 0 28-31 2 *", "2100-02-28T00:00:00Z"), Times{"2101-02-28T00:00:00Z"});
}

TEST(NextFireTime, EitherDayFieldMatchesWhenBothAreRestricted) {
  // March 2026: Fridays are the 6th, 13th, 20th, 27th; April's 13th is a Monday.
  EXPECT_EQ(Next("0 0 13 * 5", "2026-03-01T00:00:00Z", 8),
            (Times{"2026-03-06T00:00:00Z", "2026-03-13T00:00:00Z", "2026-03-20T00:00:00Z",
                   "2026-03-27T00:00:00Z", "2026-04-03T00:00:00Z", "2026-04-10T00:00:00Z",
                   "2026-04-13T00:00:00Z", "2026-04-17T00:00:00Z"}));
  EXPECT_EQ(Next("0 0 */2 * 5", "2026-03-01T00:00:00Z", 2),
            (Times{"2026-03-13T00:00:00Z", "2026-03-27T00:00:00Z"}));
  EXPECT_EQ(Next("0 9 * * mon-fri", "2026-03-06T09:00:00Z"), Times{"2026-03-09T09:00:00Z"});
}

TEST(NextFireTime, SecondsField) {
  EXPECT_EQ(Next("*/20 * * * * *", "2026-03-01T12:00:05Z", 4),
            (Times{"2026-03-01T12:00:20Z", "2026-03-01T12:00:40Z", "2026-03-01T12:01:00Z",
                   "2026-03-01T12:01:20Z"}));
  EXPECT_EQ(Next("59 59 23 31 12 *", "2026-06-01T00:00:00Z"), Times{"2026-12-31T23:59:59Z"});
  EXPECT_EQ(Next("30 0 0 * * *", "2026-06-01T00:00:31Z"), Times{"2026-06-02T00:00:30Z"});
}

TEST(NextFireTime, HashedSchedules) {
  // "backup": minute 47, hour 0 (schedule_parse_test.cc pins the values).
  EXPECT_EQ(Next("? ? * * *", "2026-01-01T00:00:00Z", 2, FixedOffsetZone::Utc(), "backup"),
            (Times{"2026-01-01T00:47:00Z", "2026-01-02T00:47:00Z"}));
}

TEST(NextFireTime, FixedOffsetZone) {
  const FixedOffsetZone kolkata("Asia/Kolkata", 5 * 3600 + 30 * 60);
  EXPECT_EQ(Next("0 9 * * *", "2026-06-01T00:00:00Z", 2, kolkata),
            (Times{"2026-06-01T09:00:00+05:30", "2026-06-02T09:00:00+05:30"}));
  const FixedOffsetZone minus("Etc/GMT+10", -10 * 3600);
  EXPECT_EQ(Next("0 0 1 1 *", "2026-12-31T12:00:00Z", 1, minus),
            Times{"2027-01-01T00:00:00-10:00"});
}

TEST(NextFireTime, RejectsTimesOutsideTheSupportedYears) {
  const Schedule s = Schedule::Parse("* * * * *", "").value();
  EXPECT_FALSE(NextFireTime(s, kMaxSupportedSeconds + 1, FixedOffsetZone::Utc()).ok());
  EXPECT_FALSE(NextFireTime(s, kMinSupportedSeconds - 1, FixedOffsetZone::Utc()).ok());
  EXPECT_TRUE(NextFireTime(s, kMaxSupportedSeconds, FixedOffsetZone::Utc()).ok());
}

// A hostile zone: an hour-long span per UTC hour, the clock one hour ahead in even hours, so
// that local hours are always odd and "*/5 2 * * *" never fires. The search must give up.
class OddHoursZone final : public ZoneRules {
 public:
  const std::string& name() const override { return name_; }
  bool is_utc() const override { return false; }
  Result<ZoneSpan> SpanAt(int64_t t) const override {
    const int64_t hour = FloorDiv(t, 3600);
    const int32_t offset = hour % 2 == 0 ? 3600 : 0;
    return ZoneSpan{hour * 3600, hour * 3600 + 3600, offset, 3600 - offset};
  }

 private:
  std::string name_ = "Odd/Hours";
};

TEST(NextFireTime, SearchIsBounded) {
  const Schedule s = Schedule::Parse("*/5 2 * * *", "").value();
  Result<int64_t> r = NextFireTime(s, ParseRfc3339("2026-01-01T00:00:00Z").value(), OddHoursZone());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "time zone Odd/Hours changes offset too often");
}

TEST(NextFireTime, ZoneErrorsPropagate) {
  class BrokenZone final : public ZoneRules {
   public:
    const std::string& name() const override { return name_; }
    bool is_utc() const override { return false; }
    Result<ZoneSpan> SpanAt(int64_t) const override { return Status::Error("zone data lost"); }

   private:
    std::string name_ = "Broken";
  };
  const Schedule s = Schedule::Parse("* * * * *", "").value();
  Result<int64_t> r = NextFireTime(s, 0, BrokenZone());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "zone data lost");
}

}  // namespace
}  // namespace paxcron::cron
