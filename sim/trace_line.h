// Reading one line of the simulator's trace (sim/TRACE.md) back: a flat JSON object whose values
// are numbers, strings, null, booleans or arrays. Only what the trace writes is understood; the
// timeline and the explanation (sim/timeline.h, sim/explain.h) read the run this way, so that
// they see exactly the events a trace file holds. Pure; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace paxcron::sim {

struct TraceLine {
  int64_t t_us = 0;
  uint32_t node = 0;  // 0: a world event ("node":null)
  std::string ev;
  // Every field after "ev", in order, with its value as raw JSON text.
  std::vector<std::pair<std::string, std::string>> fields;

  // The raw JSON value of `key`, or empty.
  std::string_view Raw(std::string_view key) const;
  // The value of `key` as an integer (0 when absent or not a number).
  int64_t Int(std::string_view key) const;
  // The value of `key` as a string, unescaped (raw text when not a string).
  std::string Str(std::string_view key) const;
};

// Parses a line the trace wrote. Nullopt when it is not one (no "t", "node" and "ev").
std::optional<TraceLine> ParseTraceLine(std::string_view line);

}  // namespace paxcron::sim
