// The timeline page of one run (`paxcron sim --seed N --html FILE`): one self-contained HTML
// file, the page's script and style (sim/timeline.html, embedded at build time) and the run's
// timeline (sim/timeline.h) as a JSON object. No clock, no network: the same run gives the same
// bytes. Pure; thread-compatible.
#pragma once

#include <string>

#include "sim/explain.h"
#include "sim/timeline.h"
#include "sim/world.h"

namespace paxcron::sim {

// REQUIRES: timeline.Finish() was called. `explanation` is null for a passing run.
std::string RenderTimelineHtml(const Timeline& timeline, const SimOptions& options,
                               const RunResult& result, const Explanation* explanation);

// The run's timeline data alone, as the page embeds it (a JSON object; '<' escaped).
std::string TimelineJson(const Timeline& timeline, const SimOptions& options,
                         const RunResult& result, const Explanation* explanation);

// "html: FILE (N bytes, E events, M messages drawn of K)", and what the cap cut, if anything.
std::string HtmlSummaryLine(const std::string& path, size_t bytes, const Timeline& timeline);

// How long a run of these options lasts at most, for the timeline's sampling windows.
int64_t ExpectedSpanUs(const SimOptions& options);

}  // namespace paxcron::sim
