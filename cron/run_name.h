// Run names: how a launch is identified, everywhere (the replicated state, the launcher, the
// datacenter scheduler, a new leader's lookups). A run is (job, scheduled time), never the job
// alone (SRE book, "Resolving partial failures"):
//   backup@2026-11-27T03:00:00Z          a scheduled run (RFC 3339, UTC, whole seconds)
//   backup@manual-2026-11-27T03:12:09Z   a run asked for by an operator at that time
// Job names use letters, digits, '.', '_' and '-' only (no ',' or '@'), 1 to 128 characters, so a
// run name is unambiguous and safe in a scheduler's job-name field. Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace paxcron::cron {

constexpr size_t kJobNameMax = 128;

// Ok, or what is wrong, e.g. "job name: ',' is not allowed (letters, digits, '.', '_', '-')".
Status ValidateJobName(std::string_view name);

std::string RunName(std::string_view job, int64_t scheduled_s);
std::string ManualRunName(std::string_view job, int64_t requested_s);

struct ParsedRunName {
  std::string job;
  int64_t scheduled_s = 0;
  bool manual = false;
};
Result<ParsedRunName> ParseRunName(std::string_view run_name);

}  // namespace paxcron::cron
