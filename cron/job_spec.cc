#include "cron/job_spec.h"

#include <fmt/format.h>

#include "cron/run_name.h"

namespace paxcron::cron {

Result<const ZoneRules*> UtcOnlyZones::Find(std::string_view name) const {
  if (name == "UTC" || name == "Etc/UTC") return &FixedOffsetZone::Utc();
  return Status::Error(fmt::format("time zone '{}' is unknown here (only UTC is loaded)", name));
}

Result<CompiledJob> CompileJobSpec(pb::JobSpec& spec, const ZoneSource& zones,
                                   ScheduleCache* cache) {
  if (Status s = ValidateJobName(spec.name()); !s.ok()) return s;
  const std::string& job = spec.name();
  if (spec.command().size() > kCommandBytesMax) {
    return Status::Error(
        fmt::format("job {}: command: longer than {} bytes", job, kCommandBytesMax));
  }
  if (!pb::Missed_IsValid(spec.missed()) || !pb::Overlap_IsValid(spec.overlap()) ||
      !pb::OnUnknown_IsValid(spec.on_unknown())) {
    return Status::Error(fmt::format("job {}: unknown policy value", job));
  }
  if (spec.max_catchup() == 0) spec.set_max_catchup(kDefaultMaxCatchup);
  if (spec.max_catchup() > kMaxCatchupLimit) {
    return Status::Error(fmt::format("job {}: max_catchup: {} is above the limit {}", job,
                                     spec.max_catchup(), kMaxCatchupLimit));
  }
  if (spec.history_max() == 0) spec.set_history_max(kDefaultHistoryMax);
  if (spec.history_max() > kHistoryMaxLimit) {
    return Status::Error(fmt::format("job {}: history_max: {} is above the limit {}", job,
                                     spec.history_max(), kHistoryMaxLimit));
  }
  if (spec.deadline_s() > kDeadlineMaxSeconds) {
    return Status::Error(
        fmt::format("job {}: deadline: {}s is longer than a year", job, spec.deadline_s()));
  }
  if (spec.timeout_s() > kDeadlineMaxSeconds) {
    return Status::Error(
        fmt::format("job {}: timeout: {}s is longer than a year", job, spec.timeout_s()));
  }
  const ZoneRules* zone = &FixedOffsetZone::Utc();
  if (!spec.time_zone().empty() && spec.time_zone() != "UTC") {
    Result<const ZoneRules*> found = zones.Find(spec.time_zone());
    if (!found.ok()) return Status::Error(fmt::format("job {}: {}", job, found.status().message()));
    zone = found.value();
  }
  const bool cacheable = cache != nullptr && spec.schedule().find('?') == std::string::npos;
  if (cacheable) {
    if (auto it = cache->find(spec.schedule()); it != cache->end()) {
      return CompiledJob{it->second, zone};
    }
  }
  Result<Schedule> schedule = Schedule::Parse(spec.schedule(), job);
  if (!schedule.ok()) {
    return Status::Error(fmt::format("job {}: schedule: {}", job, schedule.status().message()));
  }
  if (cacheable) cache->emplace(spec.schedule(), schedule.value());
  return CompiledJob{schedule.value(), zone};
}

}  // namespace paxcron::cron
