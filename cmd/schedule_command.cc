// `paxcron schedule next`: prints the next fire times of a schedule expression. A contract other
// tools rely on (tests/schedule_cli_test.sh): one RFC 3339 time with its UTC offset per line;
// exit status 2 on a bad expression, zone or option, with one message naming the problem.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cmd/commands.h"
#include "cron/civil_time.h"
#include "cron/schedule.h"
#include "tz/system_zones.h"

namespace paxcron::cmd {
namespace {

constexpr uint64_t kCountMax = 10'000;

struct ScheduleArgs {
  std::string expr;
  std::optional<int64_t> from_unix_seconds;  // absent: now
  uint64_t count = 1;
  std::string zone = "UTC";
  std::string job;
};

Result<ScheduleArgs> ParseScheduleArgs(const std::vector<std::string>& args) {
  if (args.empty() || args[0] != "next") {
    return Status::Error("expected 'next' (try 'paxcron schedule --help')");
  }
  ScheduleArgs out;
  bool have_expr = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0) {
      if (have_expr) {
        return Status::Error(
            "one expression only: quote it, as in 'paxcron schedule next \"0 3 * * *\"'");
      }
      out.expr = arg;
      have_expr = true;
      continue;
    }
    if (i + 1 >= args.size()) return Status::Error(arg + " needs a value");
    const std::string& value = args[++i];
    if (arg == "--from") {
      Result<int64_t> t = cron::ParseRfc3339(value);
      if (!t.ok()) return Status::Error("--from: " + t.status().message());
      out.from_unix_seconds = t.value();
    } else if (arg == "--count") {
      uint64_t n = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || ptr != value.data() + value.size() || n < 1 || n > kCountMax) {
        return Status::Error("--count: '" + value + "' is not a number in 1-" +
                             std::to_string(kCountMax));
      }
      out.count = n;
    } else if (arg == "--tz") {
      out.zone = value;
    } else if (arg == "--job") {
      out.job = value;
    } else {
      return Status::Error("unknown option '" + arg + "' (try 'paxcron schedule --help')");
    }
  }
  if (!have_expr) return Status::Error("missing the schedule expression");
  return out;
}

int64_t NowUnixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "paxcron schedule: %s\n", message.c_str());
  return 2;
}

}  // namespace

void PrintScheduleHelp() {
  std::printf(
      "usage: paxcron schedule next 'EXPR' [--from RFC3339] [--count N] [--tz ZONE] [--job NAME]\n"
      "\n"
      "Prints the next N fire times of a schedule, one per line, as RFC 3339 times with their\n"
      "UTC offset (Z in UTC). The language (cron/SCHEDULE.md): Vixie cron's five fields\n"
      "'minute hour day-of-month month day-of-week', or six with seconds first; lists, ranges,\n"
      "steps, names (jan-dec, sun-sat); @yearly @annually @monthly @weekly @daily @midnight\n"
      "@hourly; '?' or '?(a-b)' for one value picked by a stable hash of the job's name.\n"
      "\n"
      "options:\n"
      "  --from T    start after this time, e.g. 2026-03-29T00:00:00Z (default: now)\n"
      "  --count N   how many fire times, 1-%llu (default 1)\n"
      "  --tz ZONE   IANA time zone the fields are read in, e.g. Europe/Berlin (default UTC;\n"
      "              zones come from $TZDIR or /usr/share/zoneinfo; UTC needs neither)\n"
      "  --job NAME  the job's name, which the '?' fields hash\n"
      "\n"
      "Exit status 0, 1 if no fire time exists within 400 years, 2 on a bad expression, zone\n"
      "or option.\n",
      static_cast<unsigned long long>(kCountMax));
}

int RunSchedule(const std::vector<std::string>& args) {
  if (args.empty() || std::find(args.begin(), args.end(), "--help") != args.end() ||
      args[0] == "help") {
    PrintScheduleHelp();
    return args.empty() ? 2 : 0;
  }
  Result<ScheduleArgs> parsed = ParseScheduleArgs(args);
  if (!parsed.ok()) return Fail(parsed.status().message());
  const ScheduleArgs& a = parsed.value();
  Result<cron::Schedule> schedule = cron::Schedule::Parse(a.expr, a.job);
  if (!schedule.ok()) {
    std::string message = schedule.status().message();
    if (a.job.empty() && message.find("needs a job name") != std::string::npos) {
      message += " (pass --job NAME)";
    }
    return Fail(message);
  }
  const char* tzdir = std::getenv("TZDIR");
  Result<std::unique_ptr<const cron::ZoneRules>> zone =
      tz::LoadZone(a.zone, tzdir != nullptr && tzdir[0] != '\0' ? std::string_view(tzdir)
                                                                : tz::kSystemZoneinfoDir);
  if (!zone.ok()) return Fail("--tz: " + zone.status().message());
  const cron::ZoneRules& rules = *zone.value();
  int64_t t = a.from_unix_seconds.value_or(NowUnixSeconds());
  for (uint64_t i = 0; i < a.count; ++i) {
    Result<int64_t> next = cron::NextFireTime(schedule.value(), t, rules);
    if (!next.ok()) {
      std::fprintf(stderr, "paxcron schedule: %s\n", next.status().message().c_str());
      return 1;
    }
    Result<cron::ZoneSpan> span = rules.SpanAt(next.value());
    if (!span.ok()) {
      std::fprintf(stderr, "paxcron schedule: %s\n", span.status().message().c_str());
      return 1;
    }
    t = next.value();
    std::printf("%s\n",
                cron::FormatRfc3339(t, span.value().offset_seconds, rules.is_utc()).c_str());
  }
  return 0;
}

}  // namespace paxcron::cmd
