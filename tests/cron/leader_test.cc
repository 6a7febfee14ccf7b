// The cron leader's loop, driven by hand: one replica of the state machine, proposals applied
// in order as if Paxos chose them at once, and a scripted scheduler.
#include "cron/leader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cron/run_name.h"

namespace paxcron::cron {
namespace {

constexpr int64_t kT0 = 1795748400;  // 2026-11-27T03:00:00Z
constexpr int64_t kSecond = 1'000'000;

class LeaderTest : public ::testing::Test {
 protected:
  LeaderTest() : leader_(sm_, Options()) {}
  static LeaderOptions Options() {
    LeaderOptions o;
    o.lookup_after_unknown_us = 5 * kSecond;
    o.unknown_timeout_us = 60 * kSecond;
    return o;
  }

  void Put(const std::string& name, const std::string& schedule,
           void (*edit)(pb::JobSpec&) = nullptr) {
    pb::Command c;
    pb::JobSpec* spec = c.mutable_put_job()->mutable_spec();
    spec->set_name(name);
    spec->set_schedule(schedule);
    if (edit != nullptr) edit(*spec);
    Apply(c);
  }
  void Apply(const pb::Command& c) {
    const bool ok = sm_.Apply(c, now_us_).ok();
    applied_.push_back(c.ShortDebugString() + (ok ? "" : " [rejected]"));
    leader_.OnApplied(c, ok, now_us_);
  }
  // Takes the leader's output; applies its proposals (as Paxos would choose them) until quiet.
  void Settle() {
    for (int round = 0; round < 100; ++round) {
      LeaderOutput out = leader_.TakeOutput();
      for (auto& l : out.launches) launches_.push_back(l);
      for (auto& l : out.lookups) lookups_.push_back(l.run_name);
      if (out.proposals.empty()) return;
      for (const pb::Command& c : out.proposals) Apply(c);
    }
    FAIL() << "the leader never went quiet";
  }
  void At(int64_t t_us) {
    now_us_ = t_us;
    leader_.Tick(now_us_);
    Settle();
  }
  // "gc" every minute; its run of kT0 begun (epoch 5) by an earlier leader, which then died.
  void BeginGcAtT0ByAnEarlierLeader() {
    Put("gc", "* * * * *");
    now_us_ = kT0 * kSecond;
    pb::Command begin;
    begin.mutable_launch_begin()->set_job("gc");
    begin.mutable_launch_begin()->set_scheduled_s(kT0);
    begin.mutable_launch_begin()->set_epoch(5);
    ASSERT_TRUE(sm_.Apply(begin, now_us_).ok());
  }
  // The run above, adopted by a leader of epoch 9 and found absent by its lookup 5 s later: the
  // leader's output right after.
  LeaderOutput LeadAndFindGcAtT0Absent() {
    BeginGcAtT0ByAnEarlierLeader();
    leader_.Start(9, now_us_);
    Settle();
    At((kT0 + 5) * kSecond);
    EXPECT_EQ(lookups_.size(), 1u);
    if (!lookups_.empty()) leader_.OnLookupResult(lookups_[0], LookupStatus::kAbsent, now_us_);
    return leader_.TakeOutput();
  }
  const pb::RunRecord* Record(const std::string& job, const std::string& run) {
    for (const pb::RunRecord& r : sm_.FindJob(job)->history()) {
      if (r.run_name() == run) return &r;
    }
    for (const pb::RunRecord& r : sm_.FindJob(job)->open_runs()) {
      if (r.run_name() == run) return &r;
    }
    return nullptr;
  }

  UtcOnlyZones zones_;
  CronStateMachine sm_{zones_};
  CronLeader leader_;
  int64_t now_us_ = (kT0 - 30) * kSecond;
  std::vector<LaunchRequest> launches_;
  std::vector<std::string> lookups_;
  std::vector<std::string> applied_;
};

TEST_F(LeaderTest, ADueRunIsBegunThroughTheLogBeforeItIsLaunchedAndItsEndRecorded) {
  Put("backup", "0 3 * * *");
  leader_.Start(7, now_us_);
  At((kT0 - 1) * kSecond);
  EXPECT_TRUE(launches_.empty());
  now_us_ = kT0 * kSecond;
  leader_.Tick(now_us_);
  LeaderOutput out = leader_.TakeOutput();
  ASSERT_EQ(out.proposals.size(), 1u);
  ASSERT_TRUE(out.proposals[0].has_launch_begin());
  EXPECT_TRUE(out.launches.empty());  // not before launch-begin is chosen
  Apply(out.proposals[0]);
  Settle();
  ASSERT_EQ(launches_.size(), 1u);
  EXPECT_EQ(launches_[0].run_name, "backup@2026-11-27T03:00:00Z");
  EXPECT_EQ(launches_[0].epoch, 7u);
  leader_.OnLaunchResult(launches_[0].run_name, LaunchStatus::kStarted, now_us_);
  Settle();
  EXPECT_EQ(Record("backup", launches_[0].run_name)->state(), pb::RUN_STARTED);
  EXPECT_EQ(leader_.unconcluded_runs(), 0u);
}

TEST_F(LeaderTest, AnUnknownOutcomeIsLookedUpAfterTheDeadlineNeverRetriedBlindly) {
  Put("gc", "* * * * *");
  leader_.Start(7, now_us_);
  At(kT0 * kSecond);
  ASSERT_EQ(launches_.size(), 1u);
  const std::string run = launches_[0].run_name;
  leader_.OnLaunchResult(run, LaunchStatus::kUnknown, now_us_);
  At((kT0 + 4) * kSecond);  // within the request deadline: nothing
  EXPECT_EQ(launches_.size(), 1u);
  EXPECT_TRUE(lookups_.empty());
  At((kT0 + 5) * kSecond);
  ASSERT_EQ(lookups_.size(), 1u);
  EXPECT_EQ(lookups_[0], run);
  leader_.OnLookupResult(run, LookupStatus::kAbsent, now_us_);  // certainly not started
  Settle();
  EXPECT_EQ(launches_.size(), 1u);
  At((kT0 + 6) * kSecond);  // after a back-off, and only now, launched again under the same name
  ASSERT_EQ(launches_.size(), 2u);
  EXPECT_EQ(launches_[1].run_name, run);
  leader_.OnLaunchResult(run, LaunchStatus::kUnknown, now_us_);
  At((kT0 + 12) * kSecond);
  leader_.OnLookupResult(run, LookupStatus::kFound, now_us_);
  Settle();
  EXPECT_EQ(Record("gc", run)->state(), pb::RUN_STARTED);
  EXPECT_EQ(Record("gc", run)->reason(), "found by lookup");
}

TEST_F(LeaderTest, ANewLeaderConcludesBegunRunsBeforeBeginningNewOnes) {
  BeginGcAtT0ByAnEarlierLeader();
  now_us_ = (kT0 + 70) * kSecond;  // the next minute is due too
  leader_.Start(9, now_us_);
  Settle();
  At((kT0 + 72) * kSecond);
  EXPECT_TRUE(launches_.empty());  // neither the old run nor the due one, yet
  At((kT0 + 75) * kSecond);
  ASSERT_EQ(lookups_.size(), 1u);
  EXPECT_EQ(lookups_[0], RunName("gc", kT0));
  leader_.OnLookupResult(lookups_[0], LookupStatus::kFound, now_us_);
  Settle();
  EXPECT_EQ(Record("gc", RunName("gc", kT0))->state(), pb::RUN_STARTED);
  At((kT0 + 76) * kSecond);  // concluded: the due run goes now
  ASSERT_EQ(launches_.size(), 1u);
  EXPECT_EQ(launches_[0].run_name, RunName("gc", kT0 + 60));
  EXPECT_EQ(launches_[0].epoch, 9u);
}

// An earlier leader's run that lookup found absent is launched by the new leader only after its
// record names the new leader's epoch (TakeOverRun): otherwise, should the new leader die between
// its launch and the launch-end, a third leader would ask the first leader's launcher again
// (the exec launcher answers from the ledger of the node the record's epoch names), hear
// "absent", and launch the run a second time.
TEST_F(LeaderTest, AnEarlierLeadersAbsentRunIsTakenOverBeforeItIsLaunched) {
  LeaderOutput out = LeadAndFindGcAtT0Absent();
  EXPECT_TRUE(out.launches.empty()) << "launched before its record names this leader";
  ASSERT_EQ(out.proposals.size(), 1u);
  ASSERT_TRUE(out.proposals[0].has_take_over_run());
  EXPECT_EQ(out.proposals[0].take_over_run().epoch(), 9u);
  // Lost (a leader change, a dropped message): proposed again after the proposal timeout.
  At((kT0 + 5) * kSecond + Options().proposal_timeout_us - 1);
  EXPECT_TRUE(launches_.empty());
  At((kT0 + 5) * kSecond + Options().proposal_timeout_us);
  EXPECT_EQ(Record("gc", RunName("gc", kT0))->epoch(), 9u);
  ASSERT_EQ(launches_.size(), 1u);
  EXPECT_EQ(launches_[0].run_name, RunName("gc", kT0));
  EXPECT_EQ(launches_[0].epoch, 9u);
}

// The consensus leader re-ran phase 1 under a higher ballot, keeping its lease, and dropped what
// it had in flight: the loop's proposals are made again at once, not after the proposal timeout
// (docs/nemesis.md: a job stalled 10 s on a healthy cluster). The same ballot changes nothing.
TEST_F(LeaderTest, ProposalsLostToANewBallotAreMadeAgainAtOnce) {
  Put("backup", "* * * * *");
  leader_.Start(7, now_us_);
  leader_.NoteProposerBallot(3, now_us_);
  Settle();
  now_us_ = kT0 * kSecond;
  leader_.Tick(now_us_);
  LeaderOutput lost = leader_.TakeOutput();  // never chosen
  ASSERT_EQ(lost.proposals.size(), 1u);
  ASSERT_TRUE(lost.proposals[0].has_launch_begin());
  leader_.NoteProposerBallot(3, now_us_ + kSecond);
  At(now_us_ + kSecond);
  EXPECT_TRUE(applied_.empty() || !applied_.back().starts_with("launch_begin"))
      << "resent without a ballot change";
  leader_.NoteProposerBallot(4, now_us_ + kSecond);
  At(now_us_ + kSecond);
  ASSERT_EQ(launches_.size(), 1u);
  EXPECT_EQ(launches_[0].run_name, RunName("backup", kT0));
  // The launch's end, lost the same way, is made again too.
  leader_.OnLaunchResult(launches_[0].run_name, LaunchStatus::kStarted, now_us_);
  LeaderOutput end = leader_.TakeOutput();
  ASSERT_EQ(end.proposals.size(), 1u);
  ASSERT_TRUE(end.proposals[0].has_launch_end());
  leader_.NoteProposerBallot(5, now_us_ + kSecond);
  At(now_us_ + kSecond);
  EXPECT_EQ(Record("backup", RunName("backup", kT0))->state(), pb::RUN_STARTED);
  EXPECT_EQ(leader_.unconcluded_runs(), 0u);
  EXPECT_EQ(launches_.size(), 1u);
}

// A take-over chosen after this leader restarted under the same epoch (its new start adopted the
// run before the take-over applied) still lets it launch the run: the record names it already
// (the fast-mode sweep's seed 195, where the run was otherwise never concluded).
TEST_F(LeaderTest, ATakeOverChosenAcrossARestartUnderTheSameEpochStillLaunches) {
  LeaderOutput out = LeadAndFindGcAtT0Absent();
  ASSERT_EQ(out.proposals.size(), 1u);
  ASSERT_TRUE(out.proposals[0].has_take_over_run());
  leader_.Start(9, now_us_);  // the same lease epoch, a new start: the run is adopted again
  Settle();
  Apply(out.proposals[0]);  // the take-over of the earlier start is chosen now
  Settle();
  At((kT0 + 11) * kSecond);
  ASSERT_EQ(lookups_.size(), 2u);
  leader_.OnLookupResult(lookups_[1], LookupStatus::kAbsent, now_us_);
  Settle();
  ASSERT_EQ(launches_.size(), 1u);
  EXPECT_EQ(launches_[0].run_name, RunName("gc", kT0));
  EXPECT_EQ(leader_.unconcluded_runs(), 1u);
}

// A daily job "pay" at 03:00 (missed=skip, the default; on_unknown=relaunch if asked), led from a
// minute before kT0: its run of kT0 is begun, chosen and handed to the launcher.
void LaunchDailyPayAtT0(CronStateMachine& sm, CronLeader& leader, bool relaunch) {
  pb::Command put;
  put.mutable_put_job()->mutable_spec()->set_name("pay");
  put.mutable_put_job()->mutable_spec()->set_schedule("0 3 * * *");
  if (relaunch) put.mutable_put_job()->mutable_spec()->set_on_unknown(pb::ON_UNKNOWN_RELAUNCH);
  ASSERT_TRUE(sm.Apply(put, (kT0 - 60) * kSecond).ok());
  leader.Start(3, (kT0 - 60) * kSecond);
  leader.Tick(kT0 * kSecond);
  LeaderOutput out = leader.TakeOutput();
  ASSERT_EQ(out.proposals.size(), 1u);
  ASSERT_TRUE(sm.Apply(out.proposals[0], kT0 * kSecond).ok());
  leader.OnApplied(out.proposals[0], true, kT0 * kSecond);
  ASSERT_EQ(leader.TakeOutput().launches.size(), 1u);
}

// A launch that certainly failed is tried again later; by then the run may be too late for its
// job's missed policy (a scheduler down for a minute): it is skipped, not started late. A run
// whose time is not yet beyond the grace is still launched again.
TEST_F(LeaderTest, ARelaunchTooLateForTheMissedPolicyIsSkipped) {
  for (bool long_outage : {false, true}) {
    UtcOnlyZones zones;
    CronStateMachine sm(zones);
    CronLeader leader(sm, Options());
    ASSERT_NO_FATAL_FAILURE(LaunchDailyPayAtT0(sm, leader, /*relaunch=*/false));
    const std::string run = RunName("pay", kT0);
    LeaderOutput out;
    // Refused for certain, when the scheduler came back: 2 s or 60 s after the time.
    const int64_t answered = (kT0 + (long_outage ? 60 : 2)) * kSecond;
    leader.OnLaunchResult(run, LaunchStatus::kRejected, answered);
    leader.Tick(answered + 2 * kSecond);  // past the retry back-off
    out = leader.TakeOutput();
    if (long_outage) {
      EXPECT_TRUE(out.launches.empty());
      ASSERT_EQ(out.proposals.size(), 1u);
      EXPECT_EQ(out.proposals[0].launch_end().outcome(), pb::RUN_SKIPPED);
      EXPECT_NE(out.proposals[0].launch_end().reason().find("missed: 62s late"), std::string::npos)
          << out.proposals[0].launch_end().reason();
    } else {
      ASSERT_EQ(out.launches.size(), 1u);
      EXPECT_EQ(out.launches[0].run_name, run);
    }
  }
}

TEST_F(LeaderTest, UnknownForTooLongIsSkippedByDefaultAndRelaunchedOnlyByChoice) {
  for (bool relaunch : {false, true}) {
    UtcOnlyZones zones;
    CronStateMachine sm(zones);
    CronLeader leader(sm, Options());
    ASSERT_NO_FATAL_FAILURE(LaunchDailyPayAtT0(sm, leader, relaunch));
    const std::string run = RunName("pay", kT0);
    LeaderOutput out;
    leader.OnLaunchResult(run, LaunchStatus::kUnknown, kT0 * kSecond);
    int64_t t = kT0 * kSecond;
    for (int i = 0; i < 100; ++i) {  // the scheduler never answers again
      t += 2 * kSecond;
      leader.Tick(t);
      out = leader.TakeOutput();
      if (!out.lookups.empty()) leader.OnLookupResult(run, LookupStatus::kUnknown, t);
      out = leader.TakeOutput();
      if (!out.proposals.empty() || !out.launches.empty()) break;
    }
    if (!relaunch) {
      ASSERT_EQ(out.proposals.size(), 1u);
      EXPECT_EQ(out.proposals[0].launch_end().outcome(), pb::RUN_SKIPPED);
      EXPECT_TRUE(out.launches.empty());
    } else {
      ASSERT_EQ(out.launches.size(), 1u);
      EXPECT_EQ(out.launches[0].run_name, run);
    }
    EXPECT_GT(t - kT0 * kSecond, Options().unknown_timeout_us);
  }
}

TEST_F(LeaderTest, ARejectedLaunchIsRetriedBoundedlyUnlessTheJobMustRun) {
  Put("gc", "0 3 * * *");
  Put("pay", "0 3 * * *", [](pb::JobSpec& s) { s.set_on_unknown(pb::ON_UNKNOWN_RELAUNCH); });
  leader_.Start(1, now_us_);
  At(kT0 * kSecond);
  ASSERT_EQ(launches_.size(), 2u);
  size_t answered = 0;
  for (int i = 1; i <= 5; ++i) {  // the scheduler refuses every launch
    const size_t sent = launches_.size();
    for (; answered < sent; ++answered) {
      leader_.OnLaunchResult(launches_[answered].run_name, LaunchStatus::kRejected, now_us_);
    }
    Settle();
    At(now_us_ + 2 * kSecond);
  }
  // gc gave up after 3 launches, visibly; pay, which must run, is still being tried.
  EXPECT_EQ(Record("gc", RunName("gc", kT0))->state(), pb::RUN_FAILED);
  EXPECT_EQ(Record("pay", RunName("pay", kT0))->state(), pb::RUN_BEGUN);
  int pay_launches = 0;
  for (const LaunchRequest& l : launches_) pay_launches += l.spec.name() == "pay" ? 1 : 0;
  EXPECT_GE(pay_launches, 5);
}

TEST_F(LeaderTest, MissedTimesFollowEachJobsPolicy) {
  Put("skip", "* * * * *");
  Put("latest", "* * * * *", [](pb::JobSpec& s) { s.set_missed(pb::MISSED_LATEST); });
  Put("all", "* * * * *", [](pb::JobSpec& s) {
    s.set_missed(pb::MISSED_ALL);
    s.set_max_catchup(3);
  });
  // No leader for ten minutes; then one starts.
  now_us_ = (kT0 + 600 + 10) * kSecond;
  leader_.Start(1, now_us_);
  for (int i = 0; i < 20; ++i) {
    At(now_us_);
    for (const LaunchRequest& l : launches_) {
      if (Record(l.spec.name(), l.run_name)->state() == pb::RUN_BEGUN) {
        leader_.OnLaunchResult(l.run_name, LaunchStatus::kStarted, now_us_);
      }
    }
    Settle();
  }
  auto count = [&](const std::string& job, pb::RunState state) {
    int n = 0;
    for (const pb::RunRecord& r : sm_.FindJob(job)->history()) n += r.state() == state ? 1 : 0;
    return n;
  };
  // 11 scheduled times were due (03:00 to 03:10), all more than a minute late but the last.
  EXPECT_EQ(count("skip", pb::RUN_SKIPPED), 10);
  EXPECT_EQ(count("skip", pb::RUN_STARTED), 1);  // 03:10, on time
  EXPECT_EQ(count("latest", pb::RUN_SKIPPED), 10);
  EXPECT_EQ(count("latest", pb::RUN_STARTED), 1);
  EXPECT_EQ(count("all", pb::RUN_STARTED), 4);  // 3 caught up + the one on time
  EXPECT_EQ(count("all", pb::RUN_SKIPPED), 7);
  for (const char* job : {"skip", "latest", "all"}) {
    EXPECT_EQ(sm_.FindJob(job)->next_fire_s(), kT0 + 660) << job;
  }
}

TEST_F(LeaderTest, ARunPastItsDeadlineIsSkippedWithTheReason) {
  Put("report", "0 3 * * *", [](pb::JobSpec& s) { s.set_deadline_s(30); });
  leader_.Start(1, now_us_);
  At((kT0 + 45) * kSecond);  // 45 s late (a slow failover), deadline 30 s
  EXPECT_TRUE(launches_.empty());
  const pb::RunRecord* r = Record("report", RunName("report", kT0));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->state(), pb::RUN_SKIPPED);
  EXPECT_EQ(r->reason(), "deadline: 45s late, deadline 30s");
}

TEST_F(LeaderTest, OverlapForbidSkipsWhileThePreviousRunIsOpen) {
  Put("slow", "* * * * *", [](pb::JobSpec& s) { s.set_overlap(pb::OVERLAP_FORBID); });
  leader_.Start(1, now_us_);
  At(kT0 * kSecond);
  ASSERT_EQ(launches_.size(), 1u);
  leader_.OnLaunchResult(launches_[0].run_name, LaunchStatus::kUnknown, now_us_);
  At((kT0 + 60) * kSecond);  // the first one's fate is still open
  const pb::RunRecord* r = Record("slow", RunName("slow", kT0 + 60));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->state(), pb::RUN_SKIPPED);
}

TEST_F(LeaderTest, RunNowAndBackfillAreLaunchedUnderTheirRunNames) {
  Put("backup", "0 * * * *");
  leader_.Start(1, now_us_);
  pb::Command now;
  now.mutable_run_now()->set_job("backup");
  Apply(now);
  Settle();
  ASSERT_EQ(launches_.size(), 1u);
  EXPECT_EQ(launches_[0].run_name, ManualRunName("backup", kT0 - 30));
  pb::Command backfill;
  backfill.mutable_backfill()->set_job("backup");
  backfill.mutable_backfill()->set_from_s(kT0 - 3 * 3600);
  backfill.mutable_backfill()->set_to_s(kT0 - 1);
  Apply(backfill);
  Settle();
  ASSERT_EQ(launches_.size(), 4u);
  EXPECT_EQ(launches_[1].run_name, RunName("backup", kT0 - 3 * 3600));
  EXPECT_EQ(launches_[3].run_name, RunName("backup", kT0 - 3600));
}

// A due time goes before the job's queued backfill: each backfilled launch, once applied, would
// otherwise propose the next at once and keep the job's proposal slot busy for as long as the
// backfill lasts (the fast-mode sweep's seed 2: a due run over a second late behind minutes of
// backfilled times of an every-second job).
TEST_F(LeaderTest, ADueRunGoesBeforeTheJobsQueuedBackfill) {
  now_us_ = kT0 * kSecond - 1;
  Put("tick", "* * * * * *");
  leader_.Start(1, now_us_);
  Settle();
  now_us_ = kT0 * kSecond;  // the job is due now, as the operator's backfill is applied
  pb::Command backfill;
  backfill.mutable_backfill()->set_job("tick");
  backfill.mutable_backfill()->set_from_s(kT0 - 60);
  backfill.mutable_backfill()->set_to_s(kT0 - 1);
  Apply(backfill);
  EXPECT_TRUE(leader_.TakeOutput().proposals.empty()) << "a backfilled time before the due one";
  leader_.Tick(now_us_);
  Settle();
  ASSERT_EQ(launches_.size(), 61u);
  EXPECT_EQ(launches_[0].run_name, RunName("tick", kT0));
  EXPECT_EQ(launches_[1].run_name, RunName("tick", kT0 - 60));
  EXPECT_EQ(launches_[60].run_name, RunName("tick", kT0 - 1));
}

TEST_F(LeaderTest, AfterStopNothingMoreLeavesTheLeader) {
  Put("gc", "* * * * *");
  leader_.Start(1, now_us_);
  At(kT0 * kSecond);
  ASSERT_EQ(launches_.size(), 1u);
  leader_.Stop();
  leader_.OnLaunchResult(launches_[0].run_name, LaunchStatus::kUnknown, now_us_);
  At((kT0 + 600) * kSecond);
  EXPECT_TRUE(leader_.TakeOutput().Empty());
  EXPECT_EQ(launches_.size(), 1u);
  EXPECT_TRUE(lookups_.empty());
  EXPECT_EQ(leader_.NextWakeupUs(), std::numeric_limits<int64_t>::max());
}

}  // namespace
}  // namespace paxcron::cron
