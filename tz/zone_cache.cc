#include "tz/zone_cache.h"

namespace paxcron::tz {

Result<const cron::ZoneRules*> ZoneCache::Find(std::string_view name) const {
  auto it = zones_.find(name);
  if (it != zones_.end()) return it->second.get();
  Result<std::unique_ptr<const cron::ZoneRules>> loaded = LoadZone(name, zoneinfo_dir_);
  if (!loaded.ok()) return loaded.status();
  const cron::ZoneRules* zone = loaded.value().get();
  zones_.emplace(std::string(name), std::move(loaded.value()));
  return zone;
}

}  // namespace paxcron::tz
