// The Slurm launcher's parsing and command lines (node/slurm_parse.h), and the job spec's
// launcher fields (cron/job_spec.h).
#include "node/slurm_parse.h"

#include <gtest/gtest.h>

#include "cron/job_spec.h"
#include "cron/run_name.h"

namespace paxcron::node {
namespace {

TEST(SlurmParse, SbatchParsable) {
  EXPECT_EQ(ParseSbatchParsable("42\n").value(), "42");
  EXPECT_EQ(ParseSbatchParsable("42;cluster1\n").value(), "42");
  EXPECT_EQ(ParseSbatchParsable("sbatch: warning: something\n17\n").value(), "17");
  EXPECT_FALSE(ParseSbatchParsable("").ok());
  EXPECT_FALSE(ParseSbatchParsable("Submitted batch job 42\n").ok());
  EXPECT_FALSE(ParseSbatchParsable("4x2\n").ok());
}

TEST(SlurmParse, SbatchFailures) {
  using cron::LaunchStatus;
  EXPECT_EQ(ClassifySbatchFailure(false,
                                  "sbatch: error: Batch job submission failed: Socket timed out on "
                                  "send/recv operation\n"),
            LaunchStatus::kUnknown);
  EXPECT_EQ(
      ClassifySbatchFailure(false,
                            "sbatch: error: Batch job submission failed: Unable to contact slurm "
                            "controller (connect failure)\n"),
      LaunchStatus::kUnknown);
  EXPECT_EQ(ClassifySbatchFailure(true, ""), LaunchStatus::kUnknown);
  EXPECT_EQ(ClassifySbatchFailure(false,
                                  "sbatch: error: Batch job submission failed: Invalid "
                                  "partition name specified\n"),
            LaunchStatus::kRejected);
  EXPECT_EQ(ClassifySbatchFailure(false,
                                  "sbatch: error: paxcron-duplicate: job name x@y is "
                                  "already known\nsbatch: error: Batch job submission "
                                  "failed: Unspecified error\n"),
            LaunchStatus::kAlreadyExists);
  EXPECT_EQ(ClassifySbatchFailure(false, "something unexpected"), LaunchStatus::kUnknown);
}

TEST(SlurmParse, Squeue) {
  size_t bad = 0;
  const std::vector<SlurmJob> jobs = ParseSqueue(
      "2|t@2026-11-27T03:00:00Z|FAILED|768\n"
      "3|t@2026-11-27T03:00:01Z|RUNNING|0\n"
      "4|t@2026-11-27T03:00:02Z|CANCELLED|9\n"
      "garbage\n"
      "\n",
      &bad);
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(bad, 1u);
  EXPECT_EQ(jobs[0].id, "2");
  EXPECT_EQ(jobs[0].name, "t@2026-11-27T03:00:00Z");
  EXPECT_EQ(jobs[0].state, "FAILED");
  EXPECT_EQ(jobs[0].exit_code, 3);
  EXPECT_EQ(jobs[0].signal, 0);
  EXPECT_EQ(jobs[1].state, "RUNNING");
  EXPECT_EQ(jobs[2].signal, 9);
  EXPECT_TRUE(IsTerminalSlurmState(jobs[0].state));
  EXPECT_FALSE(IsTerminalSlurmState(jobs[1].state));
  EXPECT_TRUE(IsTerminalSlurmState("CANCELLED by 0"));
  EXPECT_FALSE(IsTerminalSlurmState("PENDING"));
  EXPECT_FALSE(IsTerminalSlurmState("COMPLETING"));
}

TEST(SlurmParse, JobcompLine) {
  const std::optional<SlurmJob> j = ParseJobcompLine(
      "JobId=2 UserId=root(0) GroupId=root(0) Name=t@2026-11-27T03:00:00Z JobState=FAILED "
      "Partition=debug TimeLimit=UNLIMITED StartTime=2026-11-27T13:36:58 NodeList=vm "
      "ReservationName= DerivedExitCode=0:0 ExitCode=3:0 \n");
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ(j->id, "2");
  EXPECT_EQ(j->name, "t@2026-11-27T03:00:00Z");
  EXPECT_EQ(j->state, "FAILED");
  EXPECT_EQ(j->exit_code, 3);
  EXPECT_EQ(j->signal, 0);
  EXPECT_EQ(ParseJobcompLine("JobId=5 Name=x JobState=CANCELLED ExitCode=0:15")->signal, 15);
  EXPECT_FALSE(ParseJobcompLine("JobId=5 Name=x").has_value());
  EXPECT_FALSE(ParseJobcompLine("").has_value());
}

TEST(SlurmParse, RunNamesNeverHoldCommas) {
  // squeue --name=a,b looks up two names: a run name with a comma could not be looked up.
  EXPECT_TRUE(ValidateSlurmJobName(cron::RunName("backup", 1'795'748'400)).ok());
  EXPECT_TRUE(ValidateSlurmJobName(cron::ManualRunName("backup", 1'795'748'400)).ok());
  EXPECT_FALSE(ValidateSlurmJobName("a,b@2026-11-27T03:00:00Z").ok());
  EXPECT_FALSE(ValidateSlurmJobName("a b").ok());
  EXPECT_FALSE(ValidateSlurmJobName("").ok());
  // And the job name rule keeps them out at the source.
  EXPECT_FALSE(cron::ValidateJobName("a,b").ok());
  const std::vector<std::string> lists = JoinNames({"aa", "bb", "cc", "dd"}, 5);
  EXPECT_EQ(lists, (std::vector<std::string>{"aa,bb", "cc,dd"}));
  EXPECT_EQ(JoinNames({"aaaaaaa"}, 3), (std::vector<std::string>{"aaaaaaa"}));
}

TEST(SlurmParse, SbatchCommand) {
  cron::LaunchRequest r;
  r.run_name = "backup@2026-11-27T03:00:00Z";
  r.scheduled_s = 1'795'748'400;
  r.spec.set_name("backup");
  r.spec.set_command("echo hi");
  r.spec.set_slurm_partition("debug");
  r.spec.add_slurm_options("--time=10");
  const SbatchCommand c = SbatchFor(r);
  ASSERT_GE(c.argv.size(), 4u);
  EXPECT_EQ(c.argv[0], "sbatch");
  EXPECT_EQ(c.argv[1], "--parsable");
  EXPECT_EQ(c.argv[2], "--job-name=backup@2026-11-27T03:00:00Z");
  EXPECT_NE(std::find(c.argv.begin(), c.argv.end(), "--partition=debug"), c.argv.end());
  EXPECT_NE(std::find(c.argv.begin(), c.argv.end(), "--time=10"), c.argv.end());
  EXPECT_EQ(c.argv.back(), "--wrap=echo hi");
  EXPECT_EQ(c.env, (std::vector<std::string>{"PAXCRON_JOB=backup",
                                             "PAXCRON_RUN=backup@2026-11-27T03:00:00Z",
                                             "PAXCRON_SCHEDULED_TIME=2026-11-27T03:00:00Z"}));
}

TEST(SlurmParse, JobSpecLauncherFields) {
  cron::UtcOnlyZones zones;
  auto compile = [&](auto edit) {
    cron::pb::JobSpec s;
    s.set_name("j");
    s.set_schedule("* * * * *");
    s.set_command("true");
    edit(s);
    return cron::CompileJobSpec(s, zones, nullptr).status();
  };
  EXPECT_TRUE(compile([](cron::pb::JobSpec&) {}).ok());
  EXPECT_TRUE(compile([](cron::pb::JobSpec& s) {
                s.set_launcher("slurm");
                s.set_slurm_partition("debug");
                s.add_slurm_options("--time=10");
              }).ok());
  EXPECT_FALSE(compile([](cron::pb::JobSpec& s) { s.set_launcher("k8s"); }).ok());
  EXPECT_FALSE(compile([](cron::pb::JobSpec& s) { s.set_slurm_partition("debug"); }).ok());
  for (const char* o : {"--job-name=x", "--parsable", "--export=NONE", "-J x", "--wrap=ls"}) {
    EXPECT_FALSE(compile([&](cron::pb::JobSpec& s) {
                   s.set_launcher("slurm");
                   s.add_slurm_options(o);
                 }).ok())
        << o;
  }
  EXPECT_FALSE(compile([](cron::pb::JobSpec& s) {
                 s.set_launcher("slurm");
                 s.set_slurm_partition("a b");
               }).ok());
}

}  // namespace
}  // namespace paxcron::node
