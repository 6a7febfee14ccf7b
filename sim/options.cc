#include "sim/options.h"

#include <fmt/format.h>

#include <charconv>

namespace paxcron::sim {

const std::vector<std::string>& BugNames() {
  static const std::vector<std::string> names = {
      "no-phase1-recovery",    "ack-before-persist",  "lease-no-drift-margin",
      "no-lease-wait",         "small-quorum",        "retry-without-lookup",
      "launch-before-commit",  "stale-leader-launch", "name-without-time",
      "no-reconcile",          "missed-all-skips",    "coarse-poll",
      "local-clock-apply",     "skip-fsync",          "no-clock-guard",
      "fast-quorum-too-small", "recovery-picks-any"};
  return names;
}

Result<FaultSet> ParseFaults(std::string_view list) {
  FaultSet f;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    const std::string_view word = list.substr(start, comma - start);
    if (word == "none") {
    } else if (word == "all") {
      f.partition = f.crash = f.drop = f.dup = f.reorder = f.skew = f.scheduler = f.disk = true;
    } else if (word == "partition") {
      f.partition = true;
    } else if (word == "crash") {
      f.crash = true;
    } else if (word == "drop") {
      f.drop = true;
    } else if (word == "dup") {
      f.dup = true;
    } else if (word == "reorder") {
      f.reorder = true;
    } else if (word == "skew") {
      f.skew = true;
    } else if (word == "scheduler") {
      f.scheduler = true;
    } else if (word == "disk") {
      f.disk = true;
    } else if (word == "clock-jump") {
      f.clock_jump = true;
    } else if (word == "skew-beyond-bound") {
      f.skew = f.skew_beyond_bound = true;
    } else {
      return Status::Error(fmt::format(
          "--faults: unknown fault '{}' (expected a comma list of none, partition, crash, drop, "
          "dup, reorder, skew, scheduler, disk, clock-jump, skew-beyond-bound, all)",
          word));
    }
    start = comma + 1;
  }
  return f;
}

Result<BugSet> ParseBug(std::string_view name) {
  BugSet b;
  if (name == "no-phase1-recovery") {
    b.core.no_phase1_recovery = true;
  } else if (name == "ack-before-persist") {
    b.ack_before_persist = true;
  } else if (name == "skip-fsync") {
    b.skip_fsync = true;
  } else if (name == "lease-no-drift-margin") {
    b.core.lease_no_drift_margin = true;
  } else if (name == "no-lease-wait") {
    b.core.no_lease_wait = true;
  } else if (name == "small-quorum") {
    b.core.small_quorum = true;
  } else if (name == "retry-without-lookup") {
    b.retry_without_lookup = true;
  } else if (name == "launch-before-commit") {
    b.launch_before_commit = true;
  } else if (name == "stale-leader-launch") {
    b.stale_leader_launch = true;
  } else if (name == "name-without-time") {
    b.name_without_time = true;
  } else if (name == "no-reconcile") {
    b.no_reconcile = true;
  } else if (name == "missed-all-skips") {
    b.missed_all_skips = true;
  } else if (name == "coarse-poll") {
    b.coarse_poll = true;
  } else if (name == "local-clock-apply") {
    b.local_clock_apply = true;
  } else if (name == "no-clock-guard") {
    b.no_clock_guard = true;
  } else if (name == "fast-quorum-too-small") {
    b.core.fast_quorum_too_small = true;
  } else if (name == "recovery-picks-any") {
    b.core.recovery_picks_any = true;
  } else {
    std::string known;
    for (const auto& n : BugNames()) known += (known.empty() ? "" : ", ") + n;
    return Status::Error(fmt::format("--inject-bug: unknown bug '{}' (known: {})", name, known));
  }
  return b;
}

Result<paxos::Mode> ParseMode(std::string_view name) {
  if (name == "multi") return paxos::Mode::kMulti;
  if (name == "fast") return paxos::Mode::kFast;
  return Status::Error(fmt::format("--mode: unknown mode '{}' (expected multi or fast)", name));
}

bool IsFastBug(const BugSet& b) {
  return b.core.fast_quorum_too_small || b.core.recovery_picks_any;
}

Result<int64_t> ParseDuration(std::string_view text) {
  uint64_t number = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, number);
  if (ec != std::errc() || ptr == text.data()) {
    return Status::Error(
        fmt::format("duration '{}': expected a number and a unit (ms, s, m, h)", text));
  }
  const std::string_view unit(ptr, static_cast<size_t>(end - ptr));
  int64_t scale = 0;
  if (unit == "ms") scale = 1'000;
  if (unit == "s" || unit.empty()) scale = 1'000'000;
  if (unit == "m") scale = 60'000'000;
  if (unit == "h") scale = 3'600'000'000;
  if (scale == 0) {
    return Status::Error(fmt::format("duration '{}': unknown unit '{}' (ms, s, m, h)", text, unit));
  }
  if (number == 0 || number > 24 * 3600'000'000ull / static_cast<uint64_t>(scale)) {
    return Status::Error(fmt::format("duration '{}': must be above 0 and at most 24h", text));
  }
  return static_cast<int64_t>(number) * scale;
}

std::string FormatDuration(int64_t us) {
  if (us % 3'600'000'000 == 0) return fmt::format("{}h", us / 3'600'000'000);
  if (us % 60'000'000 == 0) return fmt::format("{}m", us / 60'000'000);
  if (us % 1'000'000 == 0) return fmt::format("{}s", us / 1'000'000);
  return fmt::format("{}ms", us / 1'000);
}

}  // namespace paxcron::sim
