// The launch ledger and the exec launcher: a run is recorded durably before its process starts,
// never launched twice, and a run this node said it had not started stays unstarted; processes
// get the PAXCRON_* environment, report their exit, output tail and duration, and are killed
// at their timeout. Real processes (/bin/sh) on a real libuv loop; every loop run is bounded.
#include <gtest/gtest.h>
#include <uv.h>

#include <cstdlib>
#include <optional>

#include "common/prng.h"
#include "cron/civil_time.h"
#include "node/exec_launcher.h"
#include "node/launch_ledger.h"
#include "storage/mem_file_system.h"
#include "storage/posix_file_system.h"

namespace paxcron::node {
namespace {

TEST(LaunchLedger, RecordsAndRefusalsSurviveACrash) {
  storage::MemFileSystem fs;
  std::vector<std::string> warnings;
  auto ledger = LaunchLedger::Open(fs, "/l", &warnings);
  ASSERT_TRUE(ledger.ok());
  ASSERT_TRUE(ledger.value()->Record("a@2026-11-27T03:00:00Z", 1796187600, 1).ok());
  ASSERT_TRUE(ledger.value()->Refuse("b@2026-11-27T03:00:00Z", 1796187600, 2, 0).ok());
  ledger.value().reset();
  Prng rng(1);
  fs.Crash(rng);  // both were synced
  auto again = LaunchLedger::Open(fs, "/l", &warnings);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again.value()->Find("a@2026-11-27T03:00:00Z"), LaunchLedger::Entry::kLaunched);
  EXPECT_EQ(again.value()->Find("b@2026-11-27T03:00:00Z"), LaunchLedger::Entry::kRefused);
  EXPECT_EQ(again.value()->Find("c@2026-11-27T03:00:00Z"), LaunchLedger::Entry::kNone);
}

// A refusal names the asking leader's epoch; a later asker widens it; a launch under a later
// epoch outranks it. All of it as recovered after a crash.
TEST(LaunchLedger, RefusalEpochsAreWidenedAndOutrankedByALaterLaunch) {
  storage::MemFileSystem fs;
  std::vector<std::string> warnings;
  const std::string b = "b@2026-11-27T03:00:00Z", c = "c@2026-11-27T03:00:00Z";
  const std::string d = "d@2026-11-27T03:00:00Z";
  {
    auto ledger = LaunchLedger::Open(fs, "/l", &warnings);
    ASSERT_TRUE(ledger.ok());
    LaunchLedger& l = *ledger.value();
    ASSERT_TRUE(l.Refuse(b, 1796187600, 1, 5).ok());
    ASSERT_TRUE(l.Refuse(b, 1796187600, 2, 9).ok());
    ASSERT_TRUE(l.Refuse(c, 1796187600, 3, 5).ok());
    ASSERT_TRUE(l.Record(c, 1796187600, 4).ok());
    ASSERT_TRUE(l.Refuse(d, 1796187600, 5, 7).ok());
    ASSERT_TRUE(l.Refuse(d, 1796187600, 6, 0).ok());  // an asker of unknown epoch: all of them
    EXPECT_TRUE(l.Refuses(b, 9));
    EXPECT_FALSE(l.Refuses(b, 10));
  }
  Prng rng(1);
  fs.Crash(rng);
  auto again = LaunchLedger::Open(fs, "/l", &warnings);
  ASSERT_TRUE(again.ok()) << again.status().message();
  LaunchLedger& l = *again.value();
  EXPECT_EQ(l.Find(b), LaunchLedger::Entry::kRefused);
  EXPECT_EQ(l.RefusedThrough(b), 9u);
  EXPECT_TRUE(l.Refuses(b, 1));
  EXPECT_TRUE(l.Refuses(b, 9));
  EXPECT_FALSE(l.Refuses(b, 10));
  EXPECT_EQ(l.Find(c), LaunchLedger::Entry::kLaunched);
  EXPECT_FALSE(l.Refuses(c, 1));
  EXPECT_EQ(l.RefusedThrough(d), 0u);
  EXPECT_TRUE(l.Refuses(d, uint64_t{1} << 60));
}

class ExecLauncherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/paxcron-exec-test.XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    std::vector<std::string> warnings;
    ledger_ = std::move(LaunchLedger::Open(fs_, dir_ + "/ledger", &warnings).value());
    uv_loop_init(&loop_);
    exec_ = std::make_unique<ExecLauncher>(
        &loop_, ledger_.get(), 64, [this](ExecResult r) { results_.push_back(std::move(r)); },
        nullptr);
  }
  void TearDown() override {
    exec_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
    std::system(("rm -rf " + dir_).c_str());
  }
  // Runs the loop until `n` results came in or `seconds` passed.
  void RunUntil(size_t n, double seconds) {
    uv_timer_t deadline;
    uv_timer_init(&loop_, &deadline);
    const uint64_t start = uv_hrtime();
    while (results_.size() < n && uv_hrtime() - start < seconds * 1e9) {
      uv_timer_start(
          &deadline, [](uv_timer_t*) {}, 20, 0);
      uv_run(&loop_, UV_RUN_ONCE);
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&deadline), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);
  }
  cron::LaunchRequest Request(const std::string& command, uint32_t timeout_s = 0) {
    cron::LaunchRequest r;
    r.run_name = "job1@2026-11-27T03:00:00Z";
    r.scheduled_s = cron::ParseRfc3339("2026-11-27T03:00:00Z").value();
    r.spec.set_name("job1");
    r.spec.set_command(command);
    r.spec.set_timeout_s(timeout_s);
    return r;
  }

  std::string dir_;
  storage::PosixFileSystem fs_;
  std::unique_ptr<LaunchLedger> ledger_;
  uv_loop_t loop_{};
  std::unique_ptr<ExecLauncher> exec_;
  std::vector<ExecResult> results_;
};

TEST_F(ExecLauncherTest, RunsTheCommandWithItsEnvironmentAndReportsTheExit) {
  const auto status = exec_->Launch(
      Request("echo \"$PAXCRON_JOB $PAXCRON_RUN $PAXCRON_SCHEDULED_TIME\"; echo oops >&2; exit 3"),
      0);
  EXPECT_EQ(status, cron::LaunchStatus::kStarted);
  EXPECT_EQ(ledger_->Find("job1@2026-11-27T03:00:00Z"), LaunchLedger::Entry::kLaunched);
  RunUntil(1, 10);
  ASSERT_EQ(results_.size(), 1u);
  const cron::pb::RunExit& e = results_[0].exit;
  EXPECT_EQ(e.exit_code(), 3);
  EXPECT_FALSE(e.timed_out());
  EXPECT_NE(e.output_tail().find("job1 job1@2026-11-27T03:00:00Z 2026-11-27T03:00:00Z"),
            std::string::npos)
      << e.output_tail();
  EXPECT_NE(e.output_tail().find("oops"), std::string::npos);
  // Never twice, whatever asks.
  EXPECT_EQ(exec_->Launch(Request("true"), 0), cron::LaunchStatus::kAlreadyExists);
  EXPECT_EQ(exec_->Lookup("job1@2026-11-27T03:00:00Z", 1796187600, 0), cron::LookupStatus::kFound);
}

TEST_F(ExecLauncherTest, AnAbsentAnswerIsFinal) {
  EXPECT_EQ(exec_->Lookup("job1@2026-11-27T03:00:00Z", 1796187600, 0), cron::LookupStatus::kAbsent);
  // A paused leader waking up afterwards cannot start it any more; nor, since the asker's epoch
  // is not known, can any later leader on this node.
  EXPECT_EQ(exec_->Launch(Request("true"), 0), cron::LaunchStatus::kRejected);
  cron::LaunchRequest later = Request("true");
  later.epoch = uint64_t{1} << 60;
  EXPECT_EQ(exec_->Launch(later, 0), cron::LaunchStatus::kRejected);
  EXPECT_EQ(exec_->running(), 0u);
}

// This node (once leader under epoch 3) told the leader of epoch 7 that it never started the
// run: no launch of its under epoch 7 or before may start it (a paused old leader waking). Leading
// again under epoch 9, after the run's record was taken over, it may: else a must-run time was
// lost (docs/nemesis.md). The second asker's later epoch widens the refusal.
TEST_F(ExecLauncherTest, ARefusalBindsLaunchesUpToTheAskersEpochOnly) {
  const std::string run = "job1@2026-11-27T03:00:00Z";
  EXPECT_EQ(exec_->Lookup(run, 1796187600, 0, /*refuse=*/true, 7), cron::LookupStatus::kAbsent);
  for (const uint64_t epoch : {3u, 7u}) {
    cron::LaunchRequest r = Request("true");
    r.epoch = epoch;
    EXPECT_EQ(exec_->Launch(r, 0), cron::LaunchStatus::kRejected) << "epoch " << epoch;
  }
  EXPECT_EQ(exec_->Lookup(run, 1796187600, 0, /*refuse=*/true, 8), cron::LookupStatus::kAbsent);
  cron::LaunchRequest r = Request("true");
  r.epoch = 8;
  EXPECT_EQ(exec_->Launch(r, 0), cron::LaunchStatus::kRejected);
  r.epoch = 9;
  EXPECT_EQ(exec_->Launch(r, 0), cron::LaunchStatus::kStarted);
  EXPECT_EQ(exec_->Launch(r, 0), cron::LaunchStatus::kAlreadyExists);
  EXPECT_EQ(exec_->Lookup(run, 1796187600, 0, /*refuse=*/true, 11), cron::LookupStatus::kFound);
  RunUntil(1, 10);
}

TEST_F(ExecLauncherTest, ALookupByTheNodesOwnLeaderLeavesTheRunLaunchable) {
  EXPECT_EQ(exec_->Lookup("job1@2026-11-27T03:00:00Z", 1796187600, 0, /*refuse=*/false),
            cron::LookupStatus::kAbsent);
  EXPECT_EQ(exec_->Launch(Request("true"), 0), cron::LaunchStatus::kStarted);
  EXPECT_EQ(exec_->Lookup("job1@2026-11-27T03:00:00Z", 1796187600, 0, /*refuse=*/false),
            cron::LookupStatus::kFound);
  RunUntil(1, 10);
}

TEST_F(ExecLauncherTest, TheOutputTailIsBoundedAndATimeoutKillsTheRun) {
  ASSERT_EQ(exec_->Launch(Request("seq 1 10000; sleep 30", /*timeout_s=*/1), 0),
            cron::LaunchStatus::kStarted);
  RunUntil(1, 10);
  ASSERT_EQ(results_.size(), 1u);
  const cron::pb::RunExit& e = results_[0].exit;
  EXPECT_TRUE(e.timed_out());
  EXPECT_EQ(e.signal(), 9);
  EXPECT_LE(e.output_tail().size(), 64u);
  EXPECT_NE(e.output_tail().find("10000"), std::string::npos) << e.output_tail();
  EXPECT_GE(e.duration_ms(), 900);
  EXPECT_LT(e.duration_ms(), 5000);
}

}  // namespace
}  // namespace paxcron::node
