#include "cron/history.h"

#include <fmt/format.h>

#include "cron/civil_time.h"

namespace paxcron::cron {
namespace {

std::string When(int64_t unix_s, bool known) {
  return known ? FormatRfc3339(unix_s, 0, true) : std::string("never");
}

std::string ClusterTime(int64_t us) {
  return us == 0 ? std::string("-") : FormatRfc3339(us / 1'000'000, 0, true);
}

void AppendRecord(std::string& out, const pb::RunRecord& r) {
  out += fmt::format("  {} {}", r.run_name(), RunStateName(r.state()));
  if (!r.reason().empty()) out += fmt::format(" ({})", r.reason());
  if (r.backfill()) out += " backfill";
  if (r.epoch() != 0) out += fmt::format(" epoch={}", r.epoch());
  out += fmt::format(" begun={} ended={}\n", ClusterTime(r.begun_us()), ClusterTime(r.ended_us()));
}

}  // namespace

const char* RunStateName(pb::RunState state) {
  switch (state) {
    case pb::RUN_BEGUN:
      return "begun";
    case pb::RUN_STARTED:
      return "started";
    case pb::RUN_ALREADY_EXISTED:
      return "already_existed";
    case pb::RUN_FAILED:
      return "failed";
    case pb::RUN_SKIPPED:
      return "skipped";
    default:
      return "?";
  }
}

std::string FormatJobHistory(const pb::JobState& job) {
  std::string out = fmt::format(
      "history of {} ('{}'{}{}): last success {}, last failure {}, expected runs missing {}, "
      "runs started {}, {} open, {} kept\n",
      job.spec().name(), job.spec().schedule(),
      job.spec().time_zone().empty() ? "" : " in " + job.spec().time_zone(),
      job.paused() ? ", paused" : "", When(job.last_success_s(), job.last_success_s() != 0),
      When(job.last_failure_s(), job.last_failure_s() != 0), job.expected_missing(),
      job.runs_started(), job.open_runs_size(), job.history_size());
  for (const pb::RunRecord& r : job.open_runs()) AppendRecord(out, r);
  for (const pb::RunRecord& r : job.history()) AppendRecord(out, r);
  return out;
}

}  // namespace paxcron::cron
