#include "tz/zone_cache.h"

#include <gtest/gtest.h>

#include "cron/civil_time.h"
#include "cron/state_machine.h"

namespace paxcron::tz {
namespace {

TEST(ZoneCache, LoadsAZoneOnceAndReportsUnknownOnes) {
  ZoneCache zones;
  Result<const cron::ZoneRules*> berlin = zones.Find("Europe/Berlin");
  ASSERT_TRUE(berlin.ok()) << berlin.status().message();
  EXPECT_EQ(berlin.value()->name(), "Europe/Berlin");
  EXPECT_EQ(zones.Find("Europe/Berlin").value(), berlin.value());  // the same object
  EXPECT_EQ(zones.loaded(), 1u);
  EXPECT_FALSE(zones.Find("Mars/Olympus").ok());
}

TEST(ZoneCache, TheStateMachineSchedulesAJobInItsOwnZone) {
  ZoneCache zones;
  cron::CronStateMachine sm(zones);
  cron::pb::Command put;
  cron::pb::JobSpec* spec = put.mutable_put_job()->mutable_spec();
  spec->set_name("berlin-backup");
  spec->set_schedule("0 3 * * *");
  spec->set_time_zone("Europe/Berlin");
  // 2026-11-27T00:00:00Z: 03:00 in Berlin (UTC+1 in winter) is 02:00Z.
  const int64_t midnight = cron::SecondsFromCivil({2026, 11, 27, 0, 0, 0});
  ASSERT_TRUE(sm.Apply(put, midnight * 1'000'000).ok());
  EXPECT_EQ(sm.FindJob("berlin-backup")->next_fire_s(), midnight + 2 * 3600);
}

}  // namespace
}  // namespace paxcron::tz
