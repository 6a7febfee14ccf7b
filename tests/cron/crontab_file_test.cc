// Crontab files for `paxcron jobs apply`: 5 and 6 fields and macros, options, commands kept as
// written, and an error naming the file and line for each kind of bad input.
#include "cron/crontab_file.h"

#include <gtest/gtest.h>

namespace paxcron::cron {
namespace {

TEST(Crontab, SlurmLauncherOptions) {
  Result<std::vector<pb::JobSpec>> jobs = ParseCrontab(
      "0 3 * * * etl launcher=slurm partition=batch sbatch=--time=10 sbatch=--mem=1G run.sh\n",
      "jobs.cron");
  ASSERT_TRUE(jobs.ok()) << jobs.status().message();
  const pb::JobSpec& etl = jobs.value()[0];
  EXPECT_EQ(etl.launcher(), "slurm");
  EXPECT_EQ(etl.slurm_partition(), "batch");
  ASSERT_EQ(etl.slurm_options_size(), 2);
  EXPECT_EQ(etl.slurm_options(0), "--time=10");
  EXPECT_EQ(etl.slurm_options(1), "--mem=1G");
  EXPECT_EQ(etl.command(), "run.sh");
  EXPECT_FALSE(ParseCrontab("0 3 * * * etl launcher=k8s run.sh\n", "jobs.cron").ok());
}

TEST(Crontab, ParsesFieldsMacrosOptionsAndCommands) {
  const char* text =
      "# nightly work\n"
      "\n"
      "0 3 * * *      backup   tz=Europe/Berlin missed=latest timeout=2h  /usr/bin/backup --all\n"
      "*/10 * * * * * probe    deadline=5s   curl -fsS 'http://x/ok'  # not a comment\n"
      "@hourly rotate logrotate  /etc/logrotate.conf\r\n"
      "  15 4 * * 1-5 report overlap=forbid on-unknown=relaunch max-catchup=3 history=7 echo 1 2\n";
  Result<std::vector<pb::JobSpec>> jobs = ParseCrontab(text, "jobs.cron");
  ASSERT_TRUE(jobs.ok()) << jobs.status().message();
  ASSERT_EQ(jobs.value().size(), 4u);
  const pb::JobSpec& backup = jobs.value()[0];
  EXPECT_EQ(backup.name(), "backup");
  EXPECT_EQ(backup.schedule(), "0 3 * * *");
  EXPECT_EQ(backup.time_zone(), "Europe/Berlin");
  EXPECT_EQ(backup.missed(), pb::MISSED_LATEST);
  EXPECT_EQ(backup.timeout_s(), 7200u);
  EXPECT_EQ(backup.command(), "/usr/bin/backup --all");
  const pb::JobSpec& probe = jobs.value()[1];
  EXPECT_EQ(probe.schedule(), "*/10 * * * * *");  // six fields: seconds first
  EXPECT_EQ(probe.deadline_s(), 5u);
  EXPECT_EQ(probe.command(), "curl -fsS 'http://x/ok'  # not a comment");
  EXPECT_EQ(jobs.value()[2].schedule(), "@hourly");
  EXPECT_EQ(jobs.value()[2].command(), "logrotate  /etc/logrotate.conf");
  const pb::JobSpec& report = jobs.value()[3];
  EXPECT_EQ(report.schedule(), "15 4 * * 1-5");
  EXPECT_EQ(report.overlap(), pb::OVERLAP_FORBID);
  EXPECT_EQ(report.on_unknown(), pb::ON_UNKNOWN_RELAUNCH);
  EXPECT_EQ(report.max_catchup(), 3u);
  EXPECT_EQ(report.history_max(), 7u);
  EXPECT_EQ(report.command(), "echo 1 2");
}

TEST(Crontab, ErrorsNameTheFileTheLineAndTheProblem) {
  struct Case {
    const char* text;
    const char* expect;
  };
  const Case cases[] = {
      {"0 3 * * * backup\n", "jobs.cron:1: expected a cron expression, a job name and a command"},
      {"0 3 * * * backup tz=UTC\n", "jobs.cron:1: job backup: no command"},
      {"# c\n0 25 * * * backup run\n", "jobs.cron:2: job backup: schedule '0 25 * * *'"},
      {"0 3 * * * backup tz=X missed=never run\n", "missed: 'never' is not one of skip|latest|all"},
      {"0 3 * * * backup color=red run\n", "unknown option 'color'"},
      {"0 3 * * * backup timeout=5 run\n", "timeout: '5' is not a duration"},
      {"0 3 * * * a,b run\n", "jobs.cron:1: job name"},
      {"0 3 * * * 42 run\n", "must contain a letter"},
      {"0 3 * * * x run\n0 4 * * * x run\n", "jobs.cron:2: job x appears twice"},
      {"@often x run\n", "unknown macro"},
      {"0 3 *\n", "jobs.cron:1: expected a cron expression, a job name and a command"},
  };
  for (const Case& c : cases) {
    Result<std::vector<pb::JobSpec>> jobs = ParseCrontab(c.text, "jobs.cron");
    ASSERT_FALSE(jobs.ok()) << c.text;
    EXPECT_NE(jobs.status().message().find(c.expect), std::string::npos)
        << jobs.status().message() << "\n  expected: " << c.expect;
  }
}

TEST(Crontab, Durations) {
  EXPECT_EQ(ParseDurationSeconds("90s").value(), 90);
  EXPECT_EQ(ParseDurationSeconds("15m").value(), 900);
  EXPECT_EQ(ParseDurationSeconds("7d").value(), 7 * 86400);
  EXPECT_FALSE(ParseDurationSeconds("0s").ok());
  EXPECT_FALSE(ParseDurationSeconds("367d").ok());
  EXPECT_FALSE(ParseDurationSeconds("1w").ok());
  EXPECT_FALSE(ParseDurationSeconds("s").ok());
  EXPECT_FALSE(ParseDurationSeconds("").ok());
}

}  // namespace
}  // namespace paxcron::cron
