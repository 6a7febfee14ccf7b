// Validation of a job's specification, and the defaults of its policies. A spec from an operator
// is bad input: every error names the field and what is wrong. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/status.h"
#include "cron/cron.pb.h"
#include "cron/schedule.h"
#include "cron/zone_rules.h"

namespace paxcron::cron {

constexpr uint32_t kDefaultMaxCatchup = 10;
constexpr uint32_t kMaxCatchupLimit = 1000;
constexpr uint32_t kDefaultHistoryMax = 100;
constexpr uint32_t kHistoryMaxLimit = 10000;
constexpr size_t kCommandBytesMax = 4096;
constexpr uint64_t kDeadlineMaxSeconds = 366ull * 24 * 3600;
constexpr size_t kSlurmPartitionMax = 128;
constexpr size_t kSlurmOptionsMax = 32;
constexpr size_t kSlurmOptionBytesMax = 512;

// Where the state machine finds time zones. Reading the tz database is I/O: the driver loads the
// zones and hands cron/ this read-only view. Every replica must see the same zones (the same
// tzdata version), or they could compute different next fire times.
class ZoneSource {
 public:
  virtual ~ZoneSource() = default;
  // REQUIRES: name is not empty ("" means UTC and is resolved by the caller).
  virtual Result<const ZoneRules*> Find(std::string_view name) const = 0;
};

// Knows only UTC: for tests and for clusters that use no other zone.
class UtcOnlyZones final : public ZoneSource {
 public:
  Result<const ZoneRules*> Find(std::string_view name) const override;
};

struct CompiledJob {
  Schedule schedule;
  const ZoneRules* zone;
};

// Schedules already parsed, by their text: a snapshot of a million jobs holds few distinct
// schedules. Only schedules without '?' are kept (a '?' hashes the job's name).
using ScheduleCache = std::map<std::string, Schedule, std::less<>>;

// Fills the policy defaults into `spec`, checks every field, and parses the schedule (looking it
// up in `cache` first, and adding it, when one is given).
Result<CompiledJob> CompileJobSpec(pb::JobSpec& spec, const ZoneSource& zones,
                                   ScheduleCache* cache = nullptr);

}  // namespace paxcron::cron
