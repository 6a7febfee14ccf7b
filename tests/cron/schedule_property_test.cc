// Properties of NextFireTime against a brute-force reading of SCHEDULE.md, instant by instant:
// the fire times it chains through in a window are exactly the brute force's, in UTC, in a
// fixed offset, and around real daylight-saving changes (RapidCheck).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cron/schedule.h"
#include "tz/system_zones.h"

namespace paxcron::cron {
namespace {

const ZoneRules& Zone(const std::string& name) {
  static std::map<std::string, std::unique_ptr<const ZoneRules>>* zones =
      new std::map<std::string, std::unique_ptr<const ZoneRules>>();
  auto it = zones->find(name);
  if (it == zones->end()) {
    auto loaded = tz::LoadZone(name);
    PAXCRON_ASSERT(loaded.ok());
    it = zones->emplace(name, std::move(loaded.value())).first;
  }
  return *it->second;
}

int32_t OffsetAt(const ZoneRules& zone, int64_t t) { return zone.SpanAt(t).value().offset_seconds; }

// SCHEDULE.md, read literally at a resolution of `step` seconds: a schedule that follows the
// clock fires whenever the wall clock shows a matching time; a fixed-time one fires the first
// time the clock shows a matching time, and at the end of a forward jump that skipped one.
// It starts `warm_up` seconds early to learn which times were already shown.
std::vector<int64_t> BruteForce(const Schedule& s, const ZoneRules& zone, int64_t after,
                                int64_t until, int64_t step, int64_t warm_up) {
  std::vector<int64_t> fires;
  std::set<int64_t> shown;  // matching wall-clock times already shown (fixed-time schedules)
  for (int64_t t = FloorDiv(after - warm_up, step) * step; t <= until; t += step) {
    const int64_t offset = OffsetAt(zone, t), before = OffsetAt(zone, t - step);
    const int64_t local = t + offset;
    bool fire = false;
    if (s.follows_clock()) {
      fire = s.Matches(CivilFromSeconds(local));
    } else {
      for (int64_t skipped = t + before; skipped < local && !fire; skipped += step) {
        fire = s.Matches(CivilFromSeconds(skipped));
      }
      if (s.Matches(CivilFromSeconds(local)) && shown.insert(local).second) fire = true;
    }
    if (fire && t > after) fires.push_back(t);
  }
  return fires;
}

std::vector<int64_t> Chain(const Schedule& s, const ZoneRules& zone, int64_t after, int64_t until) {
  std::vector<int64_t> fires;
  for (int64_t t = after;;) {
    Result<int64_t> next = NextFireTime(s, t, zone);
    RC_ASSERT(next.ok());
    RC_ASSERT(next.value() > t);
    if (next.value() > until) break;
    fires.push_back(next.value());
    t = next.value();
  }
  return fires;
}

// A random field: '*', '*/n', a value, a range, a list, a stepped range, or a '?' form.
rc::Gen<std::string> GenField(int lo, int hi) {
  return rc::gen::exec([lo, hi]() -> std::string {
    const int a = *rc::gen::inRange(lo, hi + 1), b = *rc::gen::inRange(lo, hi + 1);
    const int step = *rc::gen::inRange(1, 8);
    const std::string low = std::to_string(std::min(a, b)), high = std::to_string(std::max(a, b));
    switch (*rc::gen::inRange(0, 8)) {
      case 0:
        return "*";
      case 1:
        return "*/" + std::to_string(step);
      case 2:
        return std::to_string(a);
      case 3:
        return low + "-" + high;
      case 4:
        return std::to_string(a) + "," + std::to_string(b);
      case 5:
        return low + "-" + high + "/" + std::to_string(step);
      case 6:
        return "?";
      default:
        return "?(" + low + "-" + high + ")";
    }
  });
}

// An instant near a change of offset in `zone` (in a random year up to 2060), and the
// wall-clock hour that the change skips or repeats, so that schedules can aim at it.
struct NearChange {
  int64_t change;  // the instant the offset changes
  int64_t after;   // up to two days before it or one day after
  int32_t hour;
};

NearChange GenNearChange(const ZoneRules& zone) {
  const int64_t year = *rc::gen::inRange<int64_t>(2020, 2061);
  const int32_t month = *rc::gen::element(1, 4, 7, 10);
  const int64_t mid = SecondsFromCivil({year, month, 1, 0, 0, 0});
  const ZoneSpan span = zone.SpanAt(mid).value();
  int64_t change = span.begin_unix_seconds;
  int64_t before = span.offset_before_seconds, offset = span.offset_seconds;
  if (*rc::gen::arbitrary<bool>() && span.end_unix_seconds < kInstantMax) {
    change = span.end_unix_seconds;
    before = span.offset_seconds;
    offset = zone.SpanAt(change).value().offset_seconds;
  }
  if (change <= kInstantMin) change = mid;
  const int64_t jitter = *rc::gen::inRange<int64_t>(-2 * kSecondsPerDay, kSecondsPerDay);
  return NearChange{change, change + jitter,
                    CivilFromSeconds(change + std::min(before, offset)).hour};
}

std::vector<std::string> ZoneNames() {
  return {"UTC",          "Europe/Berlin",       "America/New_York", "Australia/Sydney",
          "Asia/Kolkata", "Australia/Lord_Howe", "America/Santiago"};
}

RC_GTEST_PROP(ScheduleProperty, ChainsThroughExactlyTheBruteForceFireTimes, ()) {
  const ZoneRules& zone = Zone(*rc::gen::elementOf(ZoneNames()));
  const NearChange near = GenNearChange(zone);
  const std::string hour =
      *rc::gen::arbitrary<bool>() ? std::to_string(near.hour) : *GenField(0, 23);
  const std::string expr = *GenField(0, 59) + " " + hour + " " +
                           *rc::gen::element<std::string>("*", "*", "1-15", "?", "*/3") + " " +
                           *rc::gen::element<std::string>("*", "*", "1-6", "3,4,10,11") + " " +
                           *rc::gen::element<std::string>("*", "*", "1-5", "0,6", "?");
  const std::string job = *rc::gen::element<std::string>("a", "backup", "tenant-17/db");
  Result<Schedule> s = Schedule::Parse(expr, job);
  RC_ASSERT(s.ok());
  const int64_t until = near.after + 3 * kSecondsPerDay;
  RC_TAG(zone.name());
  RC_ASSERT(Chain(s.value(), zone, near.after, until) ==
            BruteForce(s.value(), zone, near.after, until, 60, kSecondsPerDay));
}

RC_GTEST_PROP(ScheduleProperty, SixFieldSchedulesToTheSecond, ()) {
  const ZoneRules& zone = Zone(*rc::gen::element<std::string>("UTC", "Europe/Berlin"));
  const NearChange near = GenNearChange(zone);
  const std::string expr = *GenField(0, 59) + " " + *GenField(0, 59) + " " +
                           *rc::gen::element<std::string>("*", std::to_string(near.hour), "*/2") +
                           " * * *";
  Result<Schedule> s = Schedule::Parse(expr, "job");
  RC_ASSERT(s.ok());
  const int64_t after = near.change + *rc::gen::inRange<int64_t>(-7200, 600);
  const int64_t until = after + 2 * 3600;
  RC_ASSERT(Chain(s.value(), zone, after, until) ==
            BruteForce(s.value(), zone, after, until, 1, 7200));
}

// Sparse schedules over years: each fire time matches, and the next one is found from any
// point in between, across month ends and leap years.
RC_GTEST_PROP(ScheduleProperty, SparseSchedulesMatchAndNothingIsSkipped, ()) {
  const std::string expr =
      *rc::gen::element<std::string>("0 0 29 2 *", "0 12 31 * *", "0 0 29 2 */7", "0 6 13 * 5",
                                     "30 23 28-31 2 *", "0 0 1 1 *", "0 0 */10 * 1");
  const Schedule s = Schedule::Parse(expr, "").value();
  const int64_t after = *rc::gen::inRange<int64_t>(SecondsFromCivil({1980, 1, 1, 0, 0, 0}),
                                                   SecondsFromCivil({2300, 1, 1, 0, 0, 0}));
  const ZoneRules& utc = FixedOffsetZone::Utc();
  const int64_t next = NextFireTime(s, after, utc).value();
  RC_ASSERT(next > after);
  RC_ASSERT(s.Matches(CivilFromSeconds(next)));
  // No matching day strictly between: step through the days (the times of day are fixed).
  for (int64_t day = FloorDiv(after, kSecondsPerDay) + 1; day < FloorDiv(next, kSecondsPerDay);
       ++day) {
    const CivilDay c = CivilFromDays(day);
    RC_ASSERT((s.months() >> c.month & 1) == 0 || (s.DayMask(c.year, c.month) >> c.day & 1) == 0);
  }
  const int64_t midway = after + (next - after) / 2;
  RC_ASSERT(NextFireTime(s, midway, utc).value() == next);
}

}  // namespace
}  // namespace paxcron::cron
