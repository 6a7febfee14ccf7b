#include "sim/dc_scheduler.h"

#include <fmt/format.h>

namespace paxcron::sim {

Result<SchedulerMode> ParseSchedulerMode(std::string_view name) {
  if (name == "named") return SchedulerMode::kNamed;
  if (name == "fenced") return SchedulerMode::kFenced;
  if (name == "plain") return SchedulerMode::kPlain;
  return Status::Error(
      fmt::format("--scheduler: unknown mode '{}' (expected named, fenced or plain)", name));
}

const char* SchedulerModeName(SchedulerMode mode) {
  switch (mode) {
    case SchedulerMode::kNamed:
      return "named";
    case SchedulerMode::kFenced:
      return "fenced";
    case SchedulerMode::kPlain:
      return "plain";
  }
  return "?";
}

cron::LaunchStatus DcScheduler::Launch(const std::string& run_name, uint32_t node, uint64_t epoch,
                                       int64_t sent_us, int64_t now_us) {
  switch (mode_) {
    case SchedulerMode::kNamed:
      if (starts_by_name_.contains(run_name)) return cron::LaunchStatus::kAlreadyExists;
      break;
    case SchedulerMode::kFenced:
      if (epoch < highest_epoch_) return cron::LaunchStatus::kRejected;
      highest_epoch_ = epoch;
      break;
    case SchedulerMode::kPlain:
      if (now_us - sent_us > request_deadline_us_) return cron::LaunchStatus::kRejected;
      break;
  }
  starts_.push_back(Start{run_name, now_us, node, epoch, sent_us});
  ++starts_by_name_[run_name];
  return cron::LaunchStatus::kStarted;
}

cron::LookupStatus DcScheduler::Lookup(const std::string& run_name) const {
  return starts_by_name_.contains(run_name) ? cron::LookupStatus::kFound
                                            : cron::LookupStatus::kAbsent;
}

size_t DcScheduler::StartsOf(const std::string& run_name) const {
  auto it = starts_by_name_.find(run_name);
  return it == starts_by_name_.end() ? 0 : it->second;
}

}  // namespace paxcron::sim
