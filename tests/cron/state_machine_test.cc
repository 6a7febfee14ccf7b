// The replicated cron state machine: the job table, launches by run name, the at-most-once
// invariants of launch-begin, run history and its bounds, run-now, backfill, snapshots.
#include "cron/state_machine.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <set>

#include "cron/civil_time.h"
#include "cron/run_name.h"

namespace paxcron::cron {
namespace {

// 2026-11-27T03:00:00Z, in seconds and in microseconds.
constexpr int64_t kT0 = 1795748400;
constexpr int64_t kT0us = kT0 * 1'000'000;

pb::Command Put(const std::string& name, const std::string& schedule) {
  pb::Command c;
  c.mutable_put_job()->mutable_spec()->set_name(name);
  c.mutable_put_job()->mutable_spec()->set_schedule(schedule);
  c.mutable_put_job()->mutable_spec()->set_command("echo " + name);
  return c;
}
pb::Command Begin(const std::string& job, int64_t t, bool manual = false, uint64_t epoch = 7) {
  pb::Command c;
  c.mutable_launch_begin()->set_job(job);
  c.mutable_launch_begin()->set_scheduled_s(t);
  c.mutable_launch_begin()->set_manual(manual);
  c.mutable_launch_begin()->set_epoch(epoch);
  return c;
}
pb::Command End(const std::string& run, pb::RunState outcome, const std::string& reason = "") {
  pb::Command c;
  c.mutable_launch_end()->set_run_name(run);
  c.mutable_launch_end()->set_outcome(outcome);
  c.mutable_launch_end()->set_reason(reason);
  return c;
}
pb::Command Skip(const std::string& job, int64_t t, const std::string& reason) {
  pb::Command c;
  c.mutable_skip_run()->set_job(job);
  c.mutable_skip_run()->set_scheduled_s(t);
  c.mutable_skip_run()->set_reason(reason);
  return c;
}

class CronStateMachineTest : public ::testing::Test {
 protected:
  UtcOnlyZones zones_;
  CronStateMachine sm_{zones_};
};

TEST(RunName, IsJobAtScheduledTimeAndParsesBack) {
  EXPECT_EQ(RunName("backup", kT0), "backup@2026-11-27T03:00:00Z");
  EXPECT_EQ(ManualRunName("backup", kT0 + 729), "backup@manual-2026-11-27T03:12:09Z");
  Result<ParsedRunName> p = ParseRunName("backup@manual-2026-11-27T03:12:09Z");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.value().job, "backup");
  EXPECT_TRUE(p.value().manual);
  EXPECT_EQ(p.value().scheduled_s, kT0 + 729);
  EXPECT_FALSE(ParseRunName("backup").ok());
  EXPECT_FALSE(ParseRunName("backup@2026-11-27T04:00:00+01:00").ok());  // not canonical
  EXPECT_FALSE(ParseRunName("a,b@2026-11-27T03:00:00Z").ok());
}

TEST(RunName, JobNamesAreCheckedWithAClearError) {
  EXPECT_TRUE(ValidateJobName("nightly.backup_v2-eu").ok());
  EXPECT_EQ(ValidateJobName("a,b").message(),
            "job name: ',' is not allowed (letters, digits, '.', '_', '-')");
  EXPECT_FALSE(ValidateJobName("").ok());
  EXPECT_FALSE(ValidateJobName(std::string(129, 'x')).ok());
  EXPECT_TRUE(ValidateJobName(std::string(128, 'x')).ok());
}

TEST_F(CronStateMachineTest, PutJobSetsTheCursorToTheNextScheduledTime) {
  ASSERT_TRUE(sm_.Apply(Put("backup", "0 3 * * *"), kT0us - 1).ok());
  const pb::JobState* job = sm_.FindJob("backup");
  ASSERT_NE(job, nullptr);
  EXPECT_EQ(job->next_fire_s(), kT0);
  EXPECT_EQ(job->spec().history_max(), kDefaultHistoryMax);  // defaults filled in
  EXPECT_EQ(job->spec().max_catchup(), kDefaultMaxCatchup);
}

TEST_F(CronStateMachineTest, BadJobSpecsAreRejectedWithTheFieldNamed) {
  Status s = sm_.Apply(Put("backup", "0 24 * * *"), kT0us);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("hour"), std::string::npos) << s.message();
  EXPECT_FALSE(sm_.Apply(Put("bad name", "* * * * *"), kT0us).ok());
  pb::Command tz = Put("berlin", "0 3 * * *");
  tz.mutable_put_job()->mutable_spec()->set_time_zone("Mars/Olympus");
  EXPECT_FALSE(sm_.Apply(tz, kT0us).ok());
  EXPECT_EQ(sm_.job_count(), 0u);
  EXPECT_EQ(sm_.commands_rejected(), 3u);
}

TEST_F(CronStateMachineTest, AScheduledTimeIsBegunAtMostOnce) {
  ASSERT_TRUE(sm_.Apply(Put("backup", "0 3 * * *"), kT0us - 10'000'000).ok());
  ASSERT_TRUE(sm_.Apply(Begin("backup", kT0), kT0us).ok());
  // Again (a retry, a second leader, a replayed proposal): refused.
  Status again = sm_.Apply(Begin("backup", kT0), kT0us + 1);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.message().find("already begun"), std::string::npos) << again.message();
  // A time that is not the cursor: refused.
  EXPECT_FALSE(sm_.Apply(Begin("backup", kT0 + 3600), kT0us + 2).ok());
  EXPECT_EQ(sm_.FindJob("backup")->next_fire_s(), kT0 + 86400);
  ASSERT_EQ(sm_.Unfinished().size(), 1u);
  EXPECT_EQ(sm_.Unfinished()[0].run_name(), "backup@2026-11-27T03:00:00Z");
  EXPECT_EQ(sm_.Unfinished()[0].epoch(), 7u);
}

TEST_F(CronStateMachineTest, AnOutcomeIsRecordedOnceAndOnlyForABegunRun) {
  ASSERT_TRUE(sm_.Apply(Put("backup", "0 3 * * *"), kT0us - 10'000'000).ok());
  const std::string run = RunName("backup", kT0);
  EXPECT_FALSE(sm_.Apply(End(run, pb::RUN_STARTED), kT0us).ok());  // never begun
  ASSERT_TRUE(sm_.Apply(Begin("backup", kT0), kT0us).ok());
  EXPECT_FALSE(sm_.Apply(End(run, pb::RUN_BEGUN), kT0us + 1).ok());  // not an outcome
  ASSERT_TRUE(sm_.Apply(End(run, pb::RUN_STARTED), kT0us + 2).ok());
  EXPECT_FALSE(sm_.Apply(End(run, pb::RUN_FAILED), kT0us + 3).ok());  // already ended
  const pb::JobState* job = sm_.FindJob("backup");
  EXPECT_EQ(job->last_success_s(), kT0);
  EXPECT_EQ(job->runs_started(), 1u);
  EXPECT_TRUE(sm_.Unfinished().empty());
}

pb::Command Finished(const std::string& run, int exit_code, const std::string& tail = "") {
  pb::Command c;
  c.mutable_run_finished()->set_run_name(run);
  c.mutable_run_finished()->mutable_exit()->set_exit_code(exit_code);
  c.mutable_run_finished()->mutable_exit()->set_duration_ms(1500);
  c.mutable_run_finished()->mutable_exit()->set_output_tail(tail);
  return c;
}

// A later leader takes over an open run before launching it itself: the record then names its
// epoch (the launcher a later lookup must ask). Only an open run, only by a later epoch.
TEST_F(CronStateMachineTest, ATakeOverNamesTheLaterLeadersEpochInTheOpenRunsRecord) {
  ASSERT_TRUE(sm_.Apply(Put("backup", "0 3 * * *"), kT0us - 60'000'000).ok());
  const std::string run = RunName("backup", kT0);
  auto take_over = [&](uint64_t epoch) {
    pb::Command c;
    c.mutable_take_over_run()->set_run_name(run);
    c.mutable_take_over_run()->set_epoch(epoch);
    return sm_.Apply(c, kT0us + 5'000'000);
  };
  EXPECT_FALSE(take_over(9).ok());  // never begun
  ASSERT_TRUE(sm_.Apply(Begin("backup", kT0, false, 7), kT0us).ok());
  EXPECT_FALSE(take_over(7).ok());  // not a later leader
  EXPECT_FALSE(take_over(5).ok());
  ASSERT_TRUE(take_over(9).ok());
  ASSERT_EQ(sm_.FindJob("backup")->open_runs_size(), 1);
  EXPECT_EQ(sm_.FindJob("backup")->open_runs(0).epoch(), 9u);
  EXPECT_FALSE(take_over(9).ok());  // taken over already by that epoch
  ASSERT_TRUE(sm_.Apply(End(run, pb::RUN_STARTED), kT0us + 6'000'000).ok());
  EXPECT_EQ(sm_.FindJob("backup")->history(0).epoch(), 9u);
  EXPECT_FALSE(take_over(11).ok());  // ended: nothing to take over
}

TEST_F(CronStateMachineTest, AProcessExitIsRecordedOnceOnAStartedRunInEitherOrder) {
  ASSERT_TRUE(sm_.Apply(Put("backup", "0 3 * * *"), kT0us - 10'000'000).ok());
  const std::string run = RunName("backup", kT0);
  EXPECT_FALSE(sm_.Apply(Finished(run, 0), kT0us).ok());  // never begun
  ASSERT_TRUE(sm_.Apply(Begin("backup", kT0), kT0us).ok());
  // The process ended before the launch's end was chosen: recorded on the open run.
  ASSERT_TRUE(sm_.Apply(Finished(run, 3, "disk full\n"), kT0us + 1).ok());
  EXPECT_FALSE(sm_.Apply(Finished(run, 0), kT0us + 2).ok());  // at most once
  ASSERT_TRUE(sm_.Apply(End(run, pb::RUN_STARTED), kT0us + 3).ok());
  const pb::RunRecord& r = sm_.FindJob("backup")->history(0);
  EXPECT_TRUE(r.exit().reported());
  EXPECT_EQ(r.exit().exit_code(), 3);
  EXPECT_EQ(r.exit().output_tail(), "disk full\n");
  EXPECT_EQ(r.exit().finished_us(), kT0us + 1);
  // A skipped run has no process; an oversized tail is refused.
  pb::Command skip;
  skip.mutable_skip_run()->set_job("backup");
  skip.mutable_skip_run()->set_scheduled_s(kT0 + 86400);
  ASSERT_TRUE(sm_.Apply(skip, kT0us + 86400'000'000).ok());
  EXPECT_FALSE(sm_.Apply(Finished(RunName("backup", kT0 + 86400), 0), kT0us + 86401'000'000).ok());
  EXPECT_FALSE(
      sm_.Apply(Finished(run, 0, std::string(kOutputTailMax + 1, 'x')), kT0us + 86402'000'000)
          .ok());
}

TEST_F(CronStateMachineTest, SkipsAndFailuresCountAsExpectedRunsMissing) {
  ASSERT_TRUE(sm_.Apply(Put("gc", "*/5 * * * *"), kT0us - 1).ok());
  ASSERT_TRUE(sm_.Apply(Skip("gc", kT0, "missed: no leader"), kT0us).ok());
  ASSERT_TRUE(sm_.Apply(Begin("gc", kT0 + 300), kT0us + 300'000'000).ok());
  ASSERT_TRUE(sm_.Apply(End(RunName("gc", kT0 + 300), pb::RUN_FAILED, "sbatch: exit 1"),
                        kT0us + 301'000'000)
                  .ok());
  const pb::JobState* job = sm_.FindJob("gc");
  EXPECT_EQ(job->expected_missing(), 2u);
  EXPECT_EQ(job->last_failure_s(), kT0 + 300);
  ASSERT_EQ(job->history_size(), 2);
  EXPECT_EQ(job->history(0).state(), pb::RUN_SKIPPED);
  EXPECT_EQ(job->history(0).reason(), "missed: no leader");
  EXPECT_EQ(job->history(1).reason(), "sbatch: exit 1");
}

TEST_F(CronStateMachineTest, OverlapForbidRefusesABeginWhileThePreviousRunIsOpen) {
  pb::Command put = Put("report", "* * * * *");
  put.mutable_put_job()->mutable_spec()->set_overlap(pb::OVERLAP_FORBID);
  ASSERT_TRUE(sm_.Apply(put, kT0us - 1).ok());
  ASSERT_TRUE(sm_.Apply(Begin("report", kT0), kT0us).ok());
  EXPECT_FALSE(sm_.Apply(Begin("report", kT0 + 60), kT0us + 60'000'000).ok());
  ASSERT_TRUE(sm_.Apply(Skip("report", kT0 + 60, "overlap"), kT0us + 60'000'001).ok());
}

TEST_F(CronStateMachineTest, HistoryIsBoundedButUnfinishedRunsAreNeverDropped) {
  pb::Command put = Put("tick", "* * * * *");
  put.mutable_put_job()->mutable_spec()->set_history_max(3);
  ASSERT_TRUE(sm_.Apply(put, kT0us - 1).ok());
  ASSERT_TRUE(sm_.Apply(Begin("tick", kT0), kT0us).ok());  // stays open throughout
  for (int i = 1; i <= 10; ++i) {
    ASSERT_TRUE(sm_.Apply(Skip("tick", kT0 + 60 * i, "test"), kT0us + i).ok());
  }
  const pb::JobState* job = sm_.FindJob("tick");
  ASSERT_EQ(job->history_size(), 3);  // the last 3 finished (3 + 3/16 before a trim)
  EXPECT_EQ(job->history(0).run_name(), RunName("tick", kT0 + 60 * 8));
  ASSERT_EQ(job->open_runs_size(), 1);  // the open one stays
  EXPECT_EQ(job->open_runs(0).run_name(), RunName("tick", kT0));
  EXPECT_EQ(job->history_floor_s(), kT0 + 60 * 7);
}

TEST_F(CronStateMachineTest, RunNowGetsAManualRunNameAndRunsOnce) {
  ASSERT_TRUE(sm_.Apply(Put("backup", "0 3 * * *"), kT0us).ok());
  pb::Command now;
  now.mutable_run_now()->set_job("backup");
  const int64_t at_us = kT0us + 729'000'000;
  ASSERT_TRUE(sm_.Apply(now, at_us).ok());
  EXPECT_FALSE(sm_.Apply(now, at_us + 1).ok());  // the same second: the same run name
  ASSERT_TRUE(sm_.Apply(Begin("backup", kT0 + 729, true), at_us + 2).ok());
  EXPECT_FALSE(sm_.Apply(Begin("backup", kT0 + 729, true), at_us + 3).ok());
  EXPECT_EQ(sm_.Unfinished()[0].run_name(), "backup@manual-2026-11-27T03:12:09Z");
}

TEST_F(CronStateMachineTest, BackfillQueuesOnlyTimesThatNeverBegan) {
  ASSERT_TRUE(sm_.Apply(Put("hourly", "0 * * * *"), kT0us - 1).ok());
  ASSERT_TRUE(sm_.Apply(Begin("hourly", kT0), kT0us).ok());
  ASSERT_TRUE(sm_.Apply(Skip("hourly", kT0 + 3600, "missed"), kT0us + 1).ok());
  ASSERT_TRUE(sm_.Apply(Begin("hourly", kT0 + 7200), kT0us + 2).ok());
  pb::Command backfill;
  backfill.mutable_backfill()->set_job("hourly");
  backfill.mutable_backfill()->set_from_s(kT0 - 7200);
  backfill.mutable_backfill()->set_to_s(kT0 + 36000);
  ASSERT_TRUE(sm_.Apply(backfill, kT0us + 3).ok());
  const pb::JobState* job = sm_.FindJob("hourly");
  // 01:00 and 02:00 (before the job existed, but within range) and the skipped 04:00; not the
  // begun 03:00 and 05:00, and nothing at or after the cursor (06:00).
  ASSERT_EQ(job->backfill_s_size(), 3);
  EXPECT_EQ(job->backfill_s(0), kT0 - 7200);
  EXPECT_EQ(job->backfill_s(2), kT0 + 3600);
  ASSERT_TRUE(sm_.Apply(Begin("hourly", kT0 + 3600), kT0us + 4).ok());  // the skipped one runs
  EXPECT_FALSE(sm_.Apply(Begin("hourly", kT0 + 3600), kT0us + 5).ok());
  EXPECT_EQ(sm_.FindJob("hourly")->backfill_s_size(), 2);
}

TEST_F(CronStateMachineTest, PausedJobsDoNotBeginAndResumeFromNow) {
  ASSERT_TRUE(sm_.Apply(Put("gc", "*/5 * * * *"), kT0us - 1).ok());
  pb::Command pause;
  pause.mutable_pause_job()->set_name("gc");
  ASSERT_TRUE(sm_.Apply(pause, kT0us).ok());
  EXPECT_FALSE(sm_.Apply(Begin("gc", kT0), kT0us + 1).ok());
  pb::Command resume;
  resume.mutable_resume_job()->set_name("gc");
  ASSERT_TRUE(sm_.Apply(resume, kT0us + 3'600'000'000).ok());
  EXPECT_EQ(sm_.FindJob("gc")->next_fire_s(), kT0 + 3600 + 300);
}

TEST_F(CronStateMachineTest, ClusterTimeNeverGoesBack) {
  ASSERT_TRUE(sm_.Apply(Put("gc", "*/5 * * * *"), kT0us).ok());
  ASSERT_TRUE(sm_.Apply(Put("gc2", "*/5 * * * *"), kT0us - 3'600'000'000).ok());
  EXPECT_EQ(sm_.cluster_time_us(), kT0us);
  EXPECT_EQ(sm_.FindJob("gc2")->next_fire_s(), kT0 + 300);
}

TEST_F(CronStateMachineTest, ASnapshotRestoresTheSameStateAndChecksum) {
  ASSERT_TRUE(sm_.Apply(Put("b", "0 3 * * *"), kT0us - 1).ok());
  ASSERT_TRUE(sm_.Apply(Put("a", "*/5 * * * *"), kT0us - 1).ok());
  ASSERT_TRUE(sm_.Apply(Begin("b", kT0), kT0us).ok());
  const pb::Snapshot snap = sm_.TakeSnapshot();
  ASSERT_EQ(snap.jobs_size(), 2);
  EXPECT_EQ(snap.jobs(0).spec().name(), "a");  // sorted
  CronStateMachine copy(zones_);
  ASSERT_TRUE(copy.LoadSnapshot(snap).ok());
  EXPECT_EQ(copy.Checksum(), sm_.Checksum());
  // The copy continues exactly like the original.
  ASSERT_TRUE(copy.Apply(End(RunName("b", kT0), pb::RUN_STARTED), kT0us + 1).ok());
  ASSERT_TRUE(sm_.Apply(End(RunName("b", kT0), pb::RUN_STARTED), kT0us + 1).ok());
  EXPECT_EQ(copy.Checksum(), sm_.Checksum());
  pb::Snapshot bad = snap;
  *bad.add_jobs() = snap.jobs(0);
  EXPECT_FALSE(copy.LoadSnapshot(bad).ok());
}

// Whatever sequence of commands arrives (a random interleaving of begins, ends, skips, retries
// and duplicates from any number of leaders), no run name ever begins twice.
RC_GTEST_PROP(CronStateMachineProperty, NoRunNameEverBeginsTwice, ()) {
  UtcOnlyZones zones;
  CronStateMachine sm(zones);
  RC_ASSERT(sm.Apply(Put("j", "*/2 * * * *"), kT0us - 1).ok());
  std::set<std::string> begun;
  int64_t now_us = kT0us;
  const int steps = *rc::gen::inRange(1, 200);
  for (int i = 0; i < steps; ++i) {
    now_us += *rc::gen::inRange<int64_t>(0, 90'000'000);
    const int64_t t = kT0 + 120 * *rc::gen::inRange<int64_t>(-2, 60);
    const int kind = *rc::gen::inRange(0, 4);
    const pb::Command c = kind == 0   ? Begin("j", t)
                          : kind == 1 ? Skip("j", t, "x")
                          : kind == 2 ? End(RunName("j", t), pb::RUN_STARTED)
                                      : Begin("j", t, false, 99);
    const bool ok = sm.Apply(c, now_us).ok();
    if (ok && c.has_launch_begin()) RC_ASSERT(begun.insert(RunName("j", t)).second);
  }
}

}  // namespace
}  // namespace paxcron::cron
