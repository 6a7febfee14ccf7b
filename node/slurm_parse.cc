#include "node/slurm_parse.h"

#include <fmt/format.h>

#include <charconv>

#include "common/assert.h"
#include "cron/civil_time.h"

namespace paxcron::node {
namespace {

bool AllDigits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' '))
    s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n')) s.remove_prefix(1);
  return s;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

std::optional<int32_t> ToInt(std::string_view s) {
  int32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

bool IsTerminalSlurmState(std::string_view state) {
  for (std::string_view t : {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL",
                             "PREEMPTED", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE"}) {
    // squeue may print "CANCELLED by 0" in some formats: the first word decides.
    if (state == t || (state.starts_with(t) && state.size() > t.size() && state[t.size()] == ' '))
      return true;
  }
  return false;
}

Status ValidateSlurmJobName(std::string_view run_name) {
  if (run_name.empty()) return Status::Error("slurm job name: empty");
  for (char c : run_name) {
    if (c == ',') {
      return Status::Error(fmt::format(
          "slurm job name {}: ',' is not allowed (squeue --name splits on commas)", run_name));
    }
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return Status::Error(
          fmt::format("slurm job name {}: whitespace or control character", run_name));
    }
  }
  return Status::Ok();
}

Result<std::string> ParseSbatchParsable(std::string_view out) {
  std::string_view s = Trim(out);
  // Warnings may precede the id on their own lines: the id is the last line.
  if (size_t nl = s.rfind('\n'); nl != std::string_view::npos) s = s.substr(nl + 1);
  const std::string_view id = s.substr(0, s.find(';'));
  if (!AllDigits(id)) {
    return Status::Error(fmt::format("sbatch --parsable printed '{}', not a job id", Trim(out)));
  }
  return std::string(id);
}

cron::LaunchStatus ClassifySbatchFailure(bool timed_out, std::string_view err) {
  if (timed_out) return cron::LaunchStatus::kUnknown;
  if (err.find("paxcron-duplicate") != std::string_view::npos) {
    return cron::LaunchStatus::kAlreadyExists;
  }
  // "Batch job submission failed: Socket timed out on send/recv operation" is the ambiguous
  // failure: the controller may have created the job before the reply was lost.
  for (std::string_view ambiguous : {"timed out", "Timed out", "Unable to contact", "Socket",
                                     "Connection", "communication", "Zero Bytes"}) {
    if (err.find(ambiguous) != std::string_view::npos) return cron::LaunchStatus::kUnknown;
  }
  if (err.find("Batch job submission failed:") != std::string_view::npos) {
    return cron::LaunchStatus::kRejected;
  }
  return cron::LaunchStatus::kUnknown;  // anything unexpected: it may have happened
}

std::vector<SlurmJob> ParseSqueue(std::string_view out, size_t* bad) {
  std::vector<SlurmJob> jobs;
  for (std::string_view line : Split(out, '\n')) {
    line = Trim(line);
    if (line.empty()) continue;
    const std::vector<std::string_view> f = Split(line, '|');
    std::optional<int32_t> status = f.size() == 4 ? ToInt(Trim(f[3])) : std::nullopt;
    if (f.size() != 4 || !AllDigits(Trim(f[0])) || Trim(f[1]).empty() || Trim(f[2]).empty()) {
      if (bad != nullptr) ++*bad;
      continue;
    }
    SlurmJob j;
    j.id = Trim(f[0]);
    j.name = Trim(f[1]);
    j.state = Trim(f[2]);
    if (status.has_value() && *status >= 0) {
      j.exit_code = (*status >> 8) & 0xff;
      j.signal = *status & 0x7f;
    }
    jobs.push_back(std::move(j));
  }
  return jobs;
}

std::optional<SlurmJob> ParseJobcompLine(std::string_view line) {
  SlurmJob j;
  for (std::string_view field : Split(Trim(line), ' ')) {
    const size_t eq = field.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view key = field.substr(0, eq), value = field.substr(eq + 1);
    if (key == "JobId") j.id = value;
    if (key == "Name") j.name = value;
    if (key == "JobState") j.state = value;
    if (key == "ExitCode") {
      const std::vector<std::string_view> parts = Split(value, ':');
      if (parts.size() == 2) {
        j.exit_code = ToInt(parts[0]).value_or(0);
        j.signal = ToInt(parts[1]).value_or(0);
      }
    }
  }
  if (!AllDigits(j.id) || j.name.empty() || j.state.empty()) return std::nullopt;
  return j;
}

std::vector<std::string> JoinNames(const std::vector<std::string>& names, size_t chars_max) {
  std::vector<std::string> lists;
  std::string current;
  for (const std::string& n : names) {
    PAXCRON_ASSERT(ValidateSlurmJobName(n).ok());
    if (!current.empty() && current.size() + 1 + n.size() > chars_max) {
      lists.push_back(std::move(current));
      current.clear();
    }
    if (!current.empty()) current += ',';
    current += n;
  }
  if (!current.empty()) lists.push_back(std::move(current));
  return lists;
}

SbatchCommand SbatchFor(const cron::LaunchRequest& request) {
  PAXCRON_ASSERT(ValidateSlurmJobName(request.run_name).ok());
  SbatchCommand c;
  // The job's own working directory and output default to somewhere harmless; its options,
  // which come after, may set others (sbatch: the last occurrence wins).
  c.argv = {"sbatch", "--parsable", "--job-name=" + request.run_name, "--chdir=/tmp",
            "--output=/dev/null"};
  if (!request.spec.slurm_partition().empty()) {
    c.argv.push_back("--partition=" + request.spec.slurm_partition());
  }
  for (const std::string& o : request.spec.slurm_options()) c.argv.push_back(o);
  c.argv.push_back("--wrap=" + request.spec.command());
  c.env = {"PAXCRON_JOB=" + request.spec.name(), "PAXCRON_RUN=" + request.run_name,
           "PAXCRON_SCHEDULED_TIME=" + cron::FormatRfc3339(request.scheduled_s, 0, true)};
  return c;
}

}  // namespace paxcron::node
