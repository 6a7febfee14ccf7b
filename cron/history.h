// A job's run history as text, for people: the summary users of other cron systems build by
// hand (last success, last failure, runs expected but not started) and every record kept, open
// runs first. Pure; used by `paxcron sim --history` and, later, the operators' CLI.
#pragma once

#include <string>

#include "cron/cron.pb.h"

namespace paxcron::cron {

// "begun", "started", "already_existed", "failed", "skipped" (as in traces).
const char* RunStateName(pb::RunState state);

std::string FormatJobHistory(const pb::JobState& job);

}  // namespace paxcron::cron
