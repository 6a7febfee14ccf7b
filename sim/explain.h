// A violation in plain words: which invariant broke, on which nodes, at which instants, and the
// messages around it, read from the checker's verdict and the run's timeline (sim/timeline.h).
// `paxcron sim --explain` prints it; the timeline page opens on it. Pure; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/checkers.h"
#include "sim/timeline.h"

namespace paxcron::sim {

// An instant on one node's lane that made the violation (node 0: the world).
struct ExplainMark {
  int64_t t_us = 0;
  uint32_t node = 0;
  std::string label;
};

struct Explanation {
  std::string checker;
  std::string invariant;           // the rule, in one sentence
  std::vector<std::string> lines;  // how it broke, in plain words
  std::vector<uint32_t> nodes;     // the nodes involved, ascending
  std::vector<ExplainMark> marks;
  std::vector<uint64_t> message_ids;  // messages involved that the timeline kept
  int64_t window_start_us = 0;        // the view that shows it
  int64_t window_end_us = 0;
};

// REQUIRES: `v` is a checker's verdict (non-empty checker). `timeline` may be null.
Explanation Explain(const Violation& v, const Timeline* timeline);

// The explanation as terminal text, one idea per line, ending with a newline.
std::string FormatExplanation(const Explanation& e);

// Seconds with microseconds: "12.345678 s".
std::string Seconds(int64_t us);

}  // namespace paxcron::sim
