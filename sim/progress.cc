#include "sim/progress.h"

#include <fmt/format.h>

#include "common/assert.h"

namespace paxcron::sim {
namespace {

std::string Remaining(double seconds) {
  const auto s = static_cast<uint64_t>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}h{:02d}m", s / 3600, s % 3600 / 60);
  if (s >= 60) return fmt::format("{}m{:02d}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

}  // namespace

std::string FormatProgress(uint64_t done, uint64_t total, uint64_t failed, double elapsed_s,
                           int width) {
  PAXCRON_ASSERT(total > 0 && done <= total && width > 0);
  const auto filled =
      static_cast<int>(static_cast<double>(done) / static_cast<double>(total) * width);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(static_cast<size_t>(width), '.');
  const double rate = elapsed_s > 0 ? static_cast<double>(done) / elapsed_s : 0;
  const std::string left = rate > 0 ? Remaining(static_cast<double>(total - done) / rate) + " left"
                                    : "time left unknown";
  return fmt::format("[{}] {}/{} seeds, {} failed, {:.1f} seeds/s, {}", bar, done, total, failed,
                     rate, left);
}

}  // namespace paxcron::sim
