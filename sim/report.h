// Running one seed end to end, and the one-line reports the `paxcron sim` contract prints.
#pragma once

#include <string>

#include "sim/options.h"
#include "sim/world.h"

namespace paxcron::sim {

// Generates the seed's fault plan and runs it. `trace` may be null.
RunResult RunSeed(const SimOptions& options, Trace* trace);

// "seed 17: ok slots=... " or "seed 17: FAIL lease at t=...: ...".
std::string FormatResultLine(const RunResult& result);

// The exact command line that replays `seed` with the same options.
std::string ReplayCommand(const SimOptions& options, uint64_t seed);

}  // namespace paxcron::sim
