// The progress line of a long `paxcron sim --seeds` sweep, drawn on a terminal's stderr only
// (the caller checks isatty and measures the elapsed time: this file reads no clock). Pure.
#pragma once

#include <cstdint>
#include <string>

namespace paxcron::sim {

// "[#####.....] 40/200 seeds, 1 failed, 2.5 seeds/s, 1m04s left" in `width` bar cells.
// REQUIRES: done <= total, total > 0.
std::string FormatProgress(uint64_t done, uint64_t total, uint64_t failed, double elapsed_s,
                           int width = 24);

}  // namespace paxcron::sim
