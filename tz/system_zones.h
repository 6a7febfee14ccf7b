// Loads time zones from the system's IANA tz database: the TZif files of Debian's tzdata under
// /usr/share/zoneinfo (or $TZDIR, which the caller passes in). "UTC" needs no database at all.
// This is the I/O side of time zones; cron/ sees only the ZoneRules it returns. Thread-safe.
#pragma once

#include <memory>
#include <string_view>

#include "common/status.h"
#include "cron/zone_rules.h"

namespace paxcron::tz {

inline constexpr std::string_view kSystemZoneinfoDir = "/usr/share/zoneinfo";

// Loads zone `name` (e.g. "Europe/Berlin") from `zoneinfo_dir`. "UTC" is built in.
// Errors: "unknown time zone 'Mars/Olympus' (no such file under /usr/share/zoneinfo)", and
// malformed names or files.
Result<std::unique_ptr<const cron::ZoneRules>> LoadZone(
    std::string_view name, std::string_view zoneinfo_dir = kSystemZoneinfoDir);

}  // namespace paxcron::tz
