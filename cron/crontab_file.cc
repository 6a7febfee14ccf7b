#include "cron/crontab_file.h"

#include <fmt/format.h>

#include <charconv>
#include <set>
#include <string>

#include "cron/run_name.h"
#include "cron/schedule.h"

namespace paxcron::cron {
namespace {

constexpr size_t kLineMax = 64 * 1024;
constexpr size_t kJobsMax = 100'000;

// The whitespace-separated tokens of `line`, each with where it starts.
struct Token {
  std::string_view text;
  size_t at;
};

std::vector<Token> Tokens(std::string_view line, size_t max_tokens) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < line.size() && out.size() < max_tokens) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i == line.size()) break;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    out.push_back(Token{line.substr(start, i - start), start});
  }
  return out;
}

bool HasLetter(std::string_view s) {
  for (char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  }
  return false;
}

std::string Join(const std::vector<Token>& tokens, size_t from, size_t to) {
  std::string out;
  for (size_t i = from; i < to; ++i) {
    if (i > from) out += ' ';
    out += tokens[i].text;
  }
  return out;
}

Result<uint32_t> Number(std::string_view text, uint32_t max) {
  uint32_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > max) {
    return Status::Error(fmt::format("'{}' is not a number in 0-{}", text, max));
  }
  return value;
}

Status ApplyOption(std::string_view key, std::string_view value, pb::JobSpec& spec) {
  auto choice = [&](std::initializer_list<std::string_view> names) -> Result<int> {
    int i = 0;
    for (std::string_view n : names) {
      if (value == n) return i;
      ++i;
    }
    std::string all;
    for (std::string_view n : names) all += (all.empty() ? "" : "|") + std::string(n);
    return Status::Error(fmt::format("{}: '{}' is not one of {}", key, value, all));
  };
  if (key == "tz") {
    spec.set_time_zone(std::string(value));
  } else if (key == "missed") {
    Result<int> c = choice({"skip", "latest", "all"});
    if (!c.ok()) return c.status();
    spec.set_missed(static_cast<pb::Missed>(c.value()));
  } else if (key == "overlap") {
    Result<int> c = choice({"allow", "forbid"});
    if (!c.ok()) return c.status();
    spec.set_overlap(static_cast<pb::Overlap>(c.value()));
  } else if (key == "on-unknown") {
    Result<int> c = choice({"skip", "relaunch"});
    if (!c.ok()) return c.status();
    spec.set_on_unknown(static_cast<pb::OnUnknown>(c.value()));
  } else if (key == "max-catchup" || key == "history") {
    Result<uint32_t> n = Number(value, 1'000'000);
    if (!n.ok()) return Status::Error(fmt::format("{}: {}", key, n.status().message()));
    key == "history" ? spec.set_history_max(n.value()) : spec.set_max_catchup(n.value());
  } else if (key == "deadline" || key == "timeout") {
    Result<int64_t> s = ParseDurationSeconds(value);
    if (!s.ok()) return Status::Error(fmt::format("{}: {}", key, s.status().message()));
    key == "deadline" ? spec.set_deadline_s(static_cast<uint64_t>(s.value()))
                      : spec.set_timeout_s(static_cast<uint32_t>(s.value()));
  } else if (key == "launcher") {
    Result<int> c = choice({"exec", "slurm"});
    if (!c.ok()) return c.status();
    spec.set_launcher(c.value() == 0 ? "" : "slurm");
  } else if (key == "partition") {
    spec.set_slurm_partition(std::string(value));
  } else if (key == "sbatch") {  // repeatable: sbatch=--time=10 sbatch=--mem=1G
    spec.add_slurm_options(std::string(value));
  } else {
    return Status::Error(fmt::format(
        "unknown option '{}' (tz, missed, max-catchup, deadline, overlap, on-unknown, timeout, "
        "history, launcher, partition, sbatch)",
        key));
  }
  return Status::Ok();
}

}  // namespace

Result<int64_t> ParseDurationSeconds(std::string_view text) {
  uint64_t number = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, number);
  const std::string_view unit(ptr, static_cast<size_t>(end - ptr));
  uint64_t scale = 0;
  if (unit == "s") scale = 1;
  if (unit == "m") scale = 60;
  if (unit == "h") scale = 3600;
  if (unit == "d") scale = 86400;
  if (ec != std::errc() || ptr == text.data() || scale == 0) {
    return Status::Error(fmt::format("'{}' is not a duration (a number and s, m, h or d)", text));
  }
  if (number == 0 || number > 366 * 86400 / scale) {
    return Status::Error(fmt::format("'{}' is not between 1s and 366d", text));
  }
  return static_cast<int64_t>(number * scale);
}

Result<std::vector<pb::JobSpec>> ParseCrontab(std::string_view text, std::string_view file) {
  std::vector<pb::JobSpec> jobs;
  std::set<std::string, std::less<>> names;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto bad = [&](std::string_view what) {
      return Status::Error(fmt::format("{}:{}: {}", file, line_no, what));
    };
    if (line.size() > kLineMax) return bad(fmt::format("longer than {} bytes", kLineMax));
    const std::vector<Token> t = Tokens(line, 64);
    if (t.empty() || t[0].text.front() == '#') continue;
    // The expression: a macro, or 6 fields when a name follows a valid sixth field, else 5.
    size_t fields = 0;
    if (t[0].text.front() == '@') {
      fields = 1;
    } else if (t.size() >= 7 && Schedule::Parse(Join(t, 0, 6), "x").ok() && HasLetter(t[6].text)) {
      fields = 6;
    } else {
      fields = 5;
    }
    if (t.size() < fields + 2) {
      return bad("expected a cron expression, a job name and a command");
    }
    pb::JobSpec spec;
    spec.set_schedule(Join(t, 0, fields));
    spec.set_name(std::string(t[fields].text));
    if (Status s = ValidateJobName(spec.name()); !s.ok()) return bad(s.message());
    if (!HasLetter(spec.name())) {
      return bad(
          fmt::format("job name '{}': in a crontab file it must contain a letter", spec.name()));
    }
    if (Result<Schedule> s = Schedule::Parse(spec.schedule(), spec.name()); !s.ok()) {
      return bad(fmt::format("job {}: schedule '{}': {}", spec.name(), spec.schedule(),
                             s.status().message()));
    }
    size_t i = fields + 1;
    for (; i < t.size(); ++i) {
      const size_t eq = t[i].text.find('=');
      if (eq == std::string_view::npos || eq == 0) break;
      const std::string_view key = t[i].text.substr(0, eq);
      if (key.find_first_not_of("abcdefghijklmnopqrstuvwxyz-") != std::string_view::npos) break;
      if (Status s = ApplyOption(key, t[i].text.substr(eq + 1), spec); !s.ok()) {
        return bad(fmt::format("job {}: {}", spec.name(), s.message()));
      }
    }
    if (i >= t.size()) return bad(fmt::format("job {}: no command", spec.name()));
    spec.set_command(std::string(line.substr(t[i].at)));
    if (!names.insert(spec.name()).second) {
      return bad(fmt::format("job {} appears twice", spec.name()));
    }
    if (jobs.size() == kJobsMax) return bad(fmt::format("more than {} jobs", kJobsMax));
    jobs.push_back(std::move(spec));
  }
  return jobs;
}

}  // namespace paxcron::cron
