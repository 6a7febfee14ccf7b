// The system's time zones as a cron::ZoneSource: each zone is loaded from the tz database the
// first time a job names it, then kept. This is where the cron state machine's zone lookups
// meet the disk. Not thread-safe: one per state machine (the driver's thread).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "cron/job_spec.h"
#include "tz/system_zones.h"

namespace paxcron::tz {

class ZoneCache final : public cron::ZoneSource {
 public:
  explicit ZoneCache(std::string zoneinfo_dir = std::string(kSystemZoneinfoDir))
      : zoneinfo_dir_(std::move(zoneinfo_dir)) {}

  Result<const cron::ZoneRules*> Find(std::string_view name) const override;
  size_t loaded() const { return zones_.size(); }

 private:
  std::string zoneinfo_dir_;
  // Loaded zones never change or leave, so the pointers handed out stay valid.
  mutable std::map<std::string, std::unique_ptr<const cron::ZoneRules>, std::less<>> zones_;
};

}  // namespace paxcron::tz
