// The run history as people read it: the summary and every record, open runs first.
#include "cron/history.h"

#include <gtest/gtest.h>

namespace paxcron::cron {
namespace {

TEST(JobHistory, ShowsTheSummaryAndEveryRecordOpenRunsFirst) {
  pb::JobState job;
  job.mutable_spec()->set_name("backup");
  job.mutable_spec()->set_schedule("0 3 * * *");
  job.mutable_spec()->set_time_zone("Europe/Berlin");
  job.set_last_success_s(1'795'748'400);  // 2026-11-27T03:00:00Z
  job.set_expected_missing(2);
  job.set_runs_started(7);
  pb::RunRecord* done = job.add_history();
  done->set_run_name("backup@2026-11-26T03:00:00Z");
  done->set_state(pb::RUN_SKIPPED);
  done->set_reason("missed: 90s late");
  pb::RunRecord* open = job.add_open_runs();
  open->set_run_name("backup@2026-11-27T03:00:00Z");
  open->set_state(pb::RUN_BEGUN);
  open->set_epoch(257);
  open->set_begun_us(1'795'748'400'000'000);
  EXPECT_EQ(FormatJobHistory(job),
            "history of backup ('0 3 * * *' in Europe/Berlin): last success "
            "2026-11-27T03:00:00Z, last failure never, expected runs missing 2, runs started 7, "
            "1 open, 1 kept\n"
            "  backup@2026-11-27T03:00:00Z begun epoch=257 begun=2026-11-27T03:00:00Z ended=-\n"
            "  backup@2026-11-26T03:00:00Z skipped (missed: 90s late) begun=- ended=-\n");
}

}  // namespace
}  // namespace paxcron::cron
