// The cluster's client commands: `paxcron jobs add|ls|rm|pause|resume|run`, `paxcron runs ls`
// and `paxcron status`. Each reaches the cluster through cluster_client.h; exit status 0 on
// success, 1 when the cluster refused or could not be reached, 2 on a usage error.
#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include <cstdio>

#include "cmd/cluster_client.h"
#include "cmd/commands.h"
#include "cron/civil_time.h"
#include "cron/history.h"
#include "sim/options.h"

namespace paxcron::cmd {
namespace {

using node::pb::ClientRequest;
using node::pb::ClientResponse;

std::string Json(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, options);
  return out;
}

std::string Time(int64_t unix_s) {
  if (unix_s <= 0 || unix_s == INT64_MAX) return "-";
  return cron::FormatRfc3339(unix_s, 0, true);
}

// Sends the request; prints the error and returns 1, or returns -1 and fills `response`.
int Call(const ClusterFlags& flags, const ClientRequest& request, ClientResponse& response) {
  Result<ClusterTarget> target = ResolveCluster(flags);
  if (!target.ok()) {
    std::fprintf(stderr, "paxcron: %s\n", target.status().message().c_str());
    return 1;
  }
  Result<ClientResponse> r = CallCluster(target.value(), request, flags.timeout_s);
  if (!r.ok()) {
    std::fprintf(stderr, "paxcron: %s\n", r.status().message().c_str());
    return 1;
  }
  response = std::move(r.value());
  if (!response.ok()) {
    std::fprintf(stderr, "paxcron: %s\n", response.error().c_str());
    return 1;
  }
  return -1;
}

int SimpleCommand(const ClusterFlags& flags, const cron::pb::Command& command,
                  const std::string& done) {
  ClientRequest request;
  *request.mutable_command() = command;
  ClientResponse response;
  if (int rc = Call(flags, request, response); rc >= 0) return rc;
  if (flags.json) {
    std::printf("{\"ok\": true}\n");
  } else {
    std::printf("%s\n", done.c_str());
  }
  return 0;
}

template <typename Enum>
bool ParseChoice(const std::string& text, std::initializer_list<std::pair<const char*, Enum>> map,
                 Enum& out) {
  for (const auto& [name, value] : map) {
    if (text == name) {
      out = value;
      return true;
    }
  }
  return false;
}

int JobsAdd(const std::vector<std::string>& args) {
  CLI::App app{"Adds a job, or replaces the job of that name.", "paxcron jobs add"};
  ClusterFlags flags;
  AddClusterFlags(app, flags);
  std::string name, schedule, command, tz, missed = "skip", deadline, overlap = "allow",
                                           on_unknown = "skip", timeout;
  uint32_t max_catchup = 0, history = 0;
  app.add_option("name", name, "the job's name (letters, digits, '.', '_', '-')")->required();
  app.add_option("--schedule", schedule, "cron expression, e.g. '*/5 * * * *' (cron/SCHEDULE.md)")
      ->required();
  app.add_option("--command", command, "what /bin/sh -c runs")->required();
  app.add_option("--tz", tz, "IANA time zone of the schedule (default UTC)");
  app.add_option("--missed", missed,
                 "times missed while no leader could launch: skip, latest, all");
  app.add_option("--max-catchup", max_catchup, "with --missed all: most missed times run");
  app.add_option("--deadline", deadline, "skip a run that cannot start within this lateness (90s)");
  app.add_option("--overlap", overlap, "allow, or forbid (skip while the previous run is open)");
  app.add_option("--on-unknown", on_unknown,
                 "a launch whose fate cannot be known: skip (never risk twice) or relaunch");
  app.add_option("--timeout", timeout, "kill a run still going after this (1h)");
  app.add_option("--history", history, "finished runs kept (default 100)");
  if (int rc = ParseArgs(app, args); rc >= 0) return rc;
  cron::pb::Command c;
  cron::pb::JobSpec* spec = c.mutable_put_job()->mutable_spec();
  spec->set_name(name);
  spec->set_schedule(schedule);
  spec->set_command(command);
  spec->set_time_zone(tz);
  spec->set_max_catchup(max_catchup);
  spec->set_history_max(history);
  cron::pb::Missed m{};
  cron::pb::Overlap o{};
  cron::pb::OnUnknown u{};
  if (!ParseChoice(missed,
                   {{"skip", cron::pb::MISSED_SKIP},
                    {"latest", cron::pb::MISSED_LATEST},
                    {"all", cron::pb::MISSED_ALL}},
                   m) ||
      !ParseChoice(overlap,
                   {{"allow", cron::pb::OVERLAP_ALLOW}, {"forbid", cron::pb::OVERLAP_FORBID}}, o) ||
      !ParseChoice(
          on_unknown,
          {{"skip", cron::pb::ON_UNKNOWN_SKIP}, {"relaunch", cron::pb::ON_UNKNOWN_RELAUNCH}}, u)) {
    std::fprintf(stderr,
                 "paxcron jobs add: --missed skip|latest|all, --overlap allow|forbid, "
                 "--on-unknown skip|relaunch\n");
    return 2;
  }
  spec->set_missed(m);
  spec->set_overlap(o);
  spec->set_on_unknown(u);
  for (auto [text, setter] : {std::pair<std::string*, int>{&deadline, 0}, {&timeout, 1}}) {
    if (text->empty()) continue;
    Result<int64_t> us = sim::ParseDuration(*text);
    if (!us.ok() || us.value() < 1'000'000) {
      std::fprintf(stderr,
                   "paxcron jobs add: %s: '%s' is not a duration of 1s or more (90s, 10m, 1h)\n",
                   setter == 0 ? "--deadline" : "--timeout", text->c_str());
      return 2;
    }
    if (setter == 0) {
      spec->set_deadline_s(static_cast<uint64_t>(us.value() / 1'000'000));
    } else {
      spec->set_timeout_s(static_cast<uint32_t>(us.value() / 1'000'000));
    }
  }
  return SimpleCommand(flags, c, fmt::format("job {} saved", name));
}

int JobsByName(const std::vector<std::string>& args, const char* verb, const char* help) {
  CLI::App app{help, fmt::format("paxcron jobs {}", verb)};
  ClusterFlags flags;
  AddClusterFlags(app, flags);
  std::string name;
  app.add_option("name", name, "the job's name")->required();
  if (int rc = ParseArgs(app, args); rc >= 0) return rc;
  cron::pb::Command c;
  const std::string v = verb;
  if (v == "rm") c.mutable_delete_job()->set_name(name);
  if (v == "pause") c.mutable_pause_job()->set_name(name);
  if (v == "resume") c.mutable_resume_job()->set_name(name);
  if (v == "run") c.mutable_run_now()->set_job(name);
  const char* done = v == "rm"       ? "removed"
                     : v == "pause"  ? "paused"
                     : v == "resume" ? "resumed"
                                     : "asked to run now";
  return SimpleCommand(flags, c, fmt::format("job {} {}", name, done));
}

int JobsLs(const std::vector<std::string>& args) {
  CLI::App app{"Lists the jobs: schedule, next run, last success and failure.", "paxcron jobs ls"};
  ClusterFlags flags;
  AddClusterFlags(app, flags);
  if (int rc = ParseArgs(app, args); rc >= 0) return rc;
  ClientRequest request;
  request.mutable_list_jobs();
  ClientResponse response;
  if (int rc = Call(flags, request, response); rc >= 0) return rc;
  if (flags.json) {
    std::printf("%s", Json(response).c_str());
    return 0;
  }
  std::printf("%-24s %-18s %-21s %-21s %-8s %s\n", "NAME", "SCHEDULE", "NEXT", "LAST SUCCESS",
              "STARTED", "COMMAND");
  for (const cron::pb::JobState& j : response.jobs()) {
    std::printf("%-24s %-18s %-21s %-21s %-8llu %s%s\n", j.spec().name().c_str(),
                j.spec().schedule().c_str(),
                j.paused() ? "(paused)" : Time(j.next_fire_s()).c_str(),
                Time(j.last_success_s()).c_str(), static_cast<unsigned long long>(j.runs_started()),
                j.spec().command().c_str(),
                j.spec().time_zone().empty() ? "" : (" [" + j.spec().time_zone() + "]").c_str());
  }
  return 0;
}

int RunsLs(const std::vector<std::string>& args) {
  CLI::App app{"Lists recent runs, newest first: scheduled time, run name, outcome, node, exit.",
               "paxcron runs ls"};
  ClusterFlags flags;
  AddClusterFlags(app, flags);
  std::string job;
  uint32_t limit = 20;
  app.add_option("job", job, "only this job's runs");
  app.add_option("--limit", limit, "how many (default 20)");
  if (int rc = ParseArgs(app, args); rc >= 0) return rc;
  ClientRequest request;
  request.mutable_list_runs()->set_job(job);
  request.mutable_list_runs()->set_limit(limit);
  ClientResponse response;
  if (int rc = Call(flags, request, response); rc >= 0) return rc;
  if (flags.json) {
    std::printf("%s", Json(response).c_str());
    return 0;
  }
  std::printf("%-21s %-46s %-16s %-5s %-9s %s\n", "SCHEDULED", "RUN", "OUTCOME", "NODE", "EXIT",
              "DURATION");
  for (const node::pb::RunRow& row : response.runs()) {
    const cron::pb::RunRecord& r = row.record();
    const cron::pb::RunExit& e = r.exit();
    std::string exit = "-", duration = "-";
    if (e.reported()) {
      exit = e.timed_out()     ? "timeout"
             : e.signal() != 0 ? fmt::format("sig{}", e.signal())
                               : fmt::format("{}", e.exit_code());
      duration = fmt::format("{:.1f}s", e.duration_ms() / 1000.0);
    }
    std::string outcome = cron::RunStateName(r.state());
    if (!r.reason().empty()) outcome += " (" + r.reason() + ")";
    std::printf("%-21s %-46s %-16s %-5s %-9s %s\n", Time(r.scheduled_s()).c_str(),
                r.run_name().c_str(), outcome.c_str(),
                r.epoch() == 0 ? "-" : fmt::format("{}", r.epoch() % 256).c_str(), exit.c_str(),
                duration.c_str());
  }
  return 0;
}

}  // namespace

int RunJobs(const std::vector<std::string>& args) {
  const std::string verb = args.empty() ? "" : args[0];
  const std::vector<std::string> rest(args.begin() + (args.empty() ? 0 : 1), args.end());
  if (verb == "add") return JobsAdd(rest);
  if (verb == "ls") return JobsLs(rest);
  if (verb == "rm") return JobsByName(rest, "rm", "Removes a job (its history goes with it).");
  if (verb == "pause")
    return JobsByName(rest, "pause", "Pauses a job: no run begins until resumed.");
  if (verb == "resume") {
    return JobsByName(rest, "resume", "Resumes a paused job from now (missed times are not run).");
  }
  if (verb == "run")
    return JobsByName(rest, "run", "Runs a job now, once, under a manual run name.");
  std::fprintf(verb.empty() || verb == "--help" ? stdout : stderr,
               "usage: paxcron jobs add|ls|rm|pause|resume|run ... (each with --help)\n");
  return verb == "--help" ? 0 : 2;
}

int RunRuns(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "ls") return RunsLs({args.begin() + 1, args.end()});
  std::fprintf(!args.empty() && args[0] == "--help" ? stdout : stderr,
               "usage: paxcron runs ls [JOB] [--limit N] (see 'paxcron runs ls --help')\n");
  return !args.empty() && args[0] == "--help" ? 0 : 2;
}

int RunStatus(const std::vector<std::string>& args) {
  CLI::App app{
      "The cluster as one node sees it: members, leader, lease, applied and snapshot slots.",
      "paxcron status"};
  ClusterFlags flags;
  AddClusterFlags(app, flags);
  if (int rc = ParseArgs(app, args); rc >= 0) return rc;
  ClientRequest request;
  request.mutable_status();
  ClientResponse response;
  if (int rc = Call(flags, request, response); rc >= 0) return rc;
  const node::pb::ClusterStatus& s = response.status();
  if (flags.json) {
    std::printf("%s", Json(s).c_str());
    return 0;
  }
  std::printf("answered by node %u (%s); leader: %s; lease epoch %llu", s.node(), s.role().c_str(),
              s.leader() == 0 ? "unknown" : fmt::format("node {}", s.leader()).c_str(),
              static_cast<unsigned long long>(s.lease_epoch()));
  if (s.lease_remaining_ms() > 0)
    std::printf(", %lld ms left", static_cast<long long>(s.lease_remaining_ms()));
  std::printf("\napplied slot %llu, snapshot slot %llu, %llu jobs\n",
              static_cast<unsigned long long>(s.applied_slot()),
              static_cast<unsigned long long>(s.snapshot_slot()),
              static_cast<unsigned long long>(s.jobs()));
  for (const node::pb::MemberStatus& m : s.members()) {
    std::printf("  node %u %-22s %s%s\n", m.id(), m.address().c_str(),
                m.connected() ? "connected" : "unreachable",
                m.id() == s.leader() ? "  (leader)" : "");
  }
  return 0;
}

}  // namespace paxcron::cmd
