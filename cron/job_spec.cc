#include "cron/job_spec.h"

#include <fmt/format.h>

#include "cron/run_name.h"

namespace paxcron::cron {
namespace {

// The launcher and its options. The Slurm launcher names the job itself (--job-name is the run
// name, the key of every lookup) and passes PAXCRON_* through the environment, so the options
// that would undo either are refused.
Status ValidateLauncher(const pb::JobSpec& spec) {
  const std::string& job = spec.name();
  const std::string& l = spec.launcher();
  if (!l.empty() && l != "exec" && l != "slurm") {
    return Status::Error(fmt::format("job {}: launcher: '{}' is not exec or slurm", job, l));
  }
  if (l != "slurm" && (!spec.slurm_partition().empty() || spec.slurm_options_size() > 0)) {
    return Status::Error(
        fmt::format("job {}: a partition or sbatch options need launcher slurm", job));
  }
  if (spec.slurm_partition().size() > kSlurmPartitionMax ||
      spec.slurm_partition().find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
                                               "WXYZ0123456789._-,") != std::string::npos) {
    return Status::Error(fmt::format("job {}: partition: '{}' is not a partition name", job,
                                     spec.slurm_partition()));
  }
  if (spec.slurm_options_size() > static_cast<int>(kSlurmOptionsMax)) {
    return Status::Error(fmt::format("job {}: more than {} sbatch options", job, kSlurmOptionsMax));
  }
  for (const std::string& o : spec.slurm_options()) {
    if (!o.starts_with("--") || o.size() > kSlurmOptionBytesMax ||
        o.find_first_of("\n\r") != std::string::npos) {
      return Status::Error(
          fmt::format("job {}: sbatch option '{}': write it as --name=value, under {} bytes", job,
                      o, kSlurmOptionBytesMax));
    }
    for (const char* reserved : {"--job-name", "--parsable", "--wrap", "--export"}) {
      const std::string_view r(reserved);
      if (o == r || o.starts_with(std::string(r) + "=")) {
        return Status::Error(
            fmt::format("job {}: sbatch option {}: set by paxcron (the run name is the job name, "
                        "PAXCRON_* travel in the environment)",
                        job, reserved));
      }
    }
  }
  return Status::Ok();
}

}  // namespace

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
  if (Status s = ValidateLauncher(spec); !s.ok()) return s;
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
