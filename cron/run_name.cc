#include "cron/run_name.h"

#include <fmt/format.h>

#include "cron/civil_time.h"

namespace paxcron::cron {
namespace {

constexpr std::string_view kManualPrefix = "manual-";

bool JobNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

}  // namespace

Status ValidateJobName(std::string_view name) {
  if (name.empty()) return Status::Error("job name: empty");
  if (name.size() > kJobNameMax) {
    return Status::Error("job name: longer than " + std::to_string(kJobNameMax) + " characters");
  }
  for (char c : name) {
    if (!JobNameChar(c)) {
      const auto u = static_cast<unsigned char>(c);
      const std::string shown =
          u >= 0x20 && u < 0x7f ? std::string(1, c) : fmt::format("\\x{:02x}", u);
      return Status::Error(
          fmt::format("job name: '{}' is not allowed (letters, digits, '.', '_', '-')", shown));
    }
  }
  return Status::Ok();
}

std::string RunName(std::string_view job, int64_t scheduled_s) {
  return std::string(job) + "@" + FormatRfc3339(scheduled_s, 0, true);
}

std::string ManualRunName(std::string_view job, int64_t requested_s) {
  return std::string(job) + "@" + std::string(kManualPrefix) + FormatRfc3339(requested_s, 0, true);
}

Result<ParsedRunName> ParseRunName(std::string_view run_name) {
  const size_t at = run_name.find('@');
  if (at == std::string_view::npos) {
    return Status::Error("run name '" + std::string(run_name) + "': no '@'");
  }
  ParsedRunName out;
  out.job = std::string(run_name.substr(0, at));
  if (Status s = ValidateJobName(out.job); !s.ok()) {
    return Status::Error("run name '" + std::string(run_name) + "': " + s.message());
  }
  std::string_view time = run_name.substr(at + 1);
  if (time.substr(0, kManualPrefix.size()) == kManualPrefix) {
    out.manual = true;
    time.remove_prefix(kManualPrefix.size());
  }
  Result<int64_t> t = ParseRfc3339(time);
  if (!t.ok())
    return Status::Error("run name '" + std::string(run_name) + "': " + t.status().message());
  out.scheduled_s = t.value();
  // Only the canonical spelling names a run: one run, one name.
  const std::string canonical =
      out.manual ? ManualRunName(out.job, out.scheduled_s) : RunName(out.job, out.scheduled_s);
  if (canonical != run_name) {
    return Status::Error("run name '" + std::string(run_name) + "': not canonical (expected '" +
                         canonical + "')");
  }
  return out;
}

}  // namespace paxcron::cron
