// The cluster's client commands: `paxcron jobs add|ls|rm|pause|resume|run`, `paxcron runs ls`
// and `paxcron status`. Each reaches the cluster through cluster_client.h; exit status 0 on
// success, 1 when the cluster refused or could not be reached, 2 on a usage error.
#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <map>
#include <set>

#include "cmd/cluster_client.h"
#include "cmd/commands.h"
#include "cron/civil_time.h"
#include "cron/crontab_file.h"
#include "cron/history.h"
#include "cron/job_spec.h"
#include "node/config.h"
#include "tz/zone_cache.h"

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
                                           on_unknown = "skip", timeout, launcher, partition;
  std::vector<std::string> sbatch_options;
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
  app.add_option("--launcher", launcher,
                 "exec (default: the leader runs it) or slurm (sbatch; docs/slurm.md)");
  app.add_option("--partition", partition, "with --launcher slurm: the Slurm partition");
  app.add_option("--sbatch-option", sbatch_options,
                 "with --launcher slurm: an extra sbatch option, written with '=': "
                 "--sbatch-option=--time=10 (repeatable)");
  if (int rc = ParseArgs(app, args); rc >= 0) return rc;
  cron::pb::Command c;
  cron::pb::JobSpec* spec = c.mutable_put_job()->mutable_spec();
  spec->set_name(name);
  spec->set_schedule(schedule);
  spec->set_command(command);
  spec->set_time_zone(tz);
  spec->set_max_catchup(max_catchup);
  spec->set_history_max(history);
  if (launcher != "exec") spec->set_launcher(launcher);
  spec->set_slurm_partition(partition);
  for (const std::string& o : sbatch_options) spec->add_slurm_options(o);
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
    Result<int64_t> seconds = cron::ParseDurationSeconds(*text);
    if (!seconds.ok()) {
      std::fprintf(stderr, "paxcron jobs add: %s: %s\n", setter == 0 ? "--deadline" : "--timeout",
                   seconds.status().message().c_str());
      return 2;
    }
    if (setter == 0) {
      spec->set_deadline_s(static_cast<uint64_t>(seconds.value()));
    } else {
      spec->set_timeout_s(static_cast<uint32_t>(seconds.value()));
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
  CLI::App app{
      "Lists recent runs, newest first: scheduled time, run name, outcome, node, start, exit, "
      "duration.",
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
  std::printf("%-21s %-46s %-16s %-5s %-13s %-9s %s\n", "SCHEDULED", "RUN", "OUTCOME", "NODE",
              "START", "EXIT", "DURATION");
  for (const node::pb::RunRow& row : response.runs()) {
    const cron::pb::RunRecord& r = row.record();
    const cron::pb::RunExit& e = r.exit();
    std::string exit = "-", duration = "-";
    if (e.reported()) {
      exit = e.timed_out()     ? "timeout"
             : e.signal() != 0 ? fmt::format("sig{}", e.signal())
                               : fmt::format("{}", e.exit_code());
      // A Slurm job's final state says more than its exit code (CANCELLED, TIMEOUT, ...).
      if (!e.scheduler_state().empty() && e.scheduler_state() != "COMPLETED") {
        exit += "/" + e.scheduler_state();
      }
      duration = fmt::format("{:.1f}s", e.duration_ms() / 1000.0);
    }
    std::string outcome = cron::RunStateName(r.state());
    if (!r.reason().empty()) outcome += " (" + r.reason() + ")";
    // Started: when its launch began (the cluster time of launch-begin), to the millisecond.
    const std::string start =
        r.begun_us() <= 0 ? "-"
                          : cron::FormatRfc3339(r.begun_us() / 1'000'000, 0, true).substr(11, 8) +
                                fmt::format(".{:03}", (r.begun_us() / 1000) % 1000);
    std::printf("%-21s %-46s %-16s %-5s %-13s %-9s %s\n", Time(r.scheduled_s()).c_str(),
                r.run_name().c_str(), outcome.c_str(),
                r.epoch() == 0 ? "-" : fmt::format("{}", r.epoch() % 256).c_str(), start.c_str(),
                exit.c_str(), duration.c_str());
  }
  return 0;
}

int JobsApply(const std::vector<std::string>& args) {
  CLI::App app{
      "Makes the cluster's job table the file's: adds new jobs, replaces changed ones, removes "
      "the others. The file is crontab-style: 'EXPR NAME [OPTION=VALUE ...] COMMAND' per line "
      "(cron/crontab_file.h).",
      "paxcron jobs apply"};
  ClusterFlags flags;
  AddClusterFlags(app, flags);
  std::string path;
  bool dry_run = false;
  app.add_option("file", path, "the crontab-style file")->required();
  app.add_flag("--dry-run", dry_run, "print what would change, change nothing");
  if (int rc = ParseArgs(app, args); rc >= 0) return rc;
  Result<std::string> text = node::ReadWholeFile(path, "file");
  if (!text.ok()) {
    std::fprintf(stderr, "paxcron jobs apply: %s\n", text.status().message().c_str());
    return 1;
  }
  Result<std::vector<cron::pb::JobSpec>> wanted = cron::ParseCrontab(text.value(), path);
  if (!wanted.ok()) {
    std::fprintf(stderr, "paxcron jobs apply: %s\n", wanted.status().message().c_str());
    return 1;
  }
  // The defaults filled in as the cluster will (and zones checked here first), so that an
  // unchanged job compares equal and is left alone: re-putting one restarts its schedule.
  tz::ZoneCache zones;
  for (cron::pb::JobSpec& spec : wanted.value()) {
    if (Result<cron::CompiledJob> c = cron::CompileJobSpec(spec, zones); !c.ok()) {
      std::fprintf(stderr, "paxcron jobs apply: %s: %s\n", path.c_str(),
                   c.status().message().c_str());
      return 1;
    }
  }
  ClientRequest list;
  list.mutable_list_jobs();
  ClientResponse current;
  if (int rc = Call(flags, list, current); rc >= 0) return rc;
  std::map<std::string, const cron::pb::JobSpec*> have;
  for (const cron::pb::JobState& j : current.jobs()) have[j.spec().name()] = &j.spec();
  std::vector<cron::pb::Command> plan;
  int added = 0, changed = 0, removed = 0, unchanged = 0;
  std::set<std::string> keep;
  for (const cron::pb::JobSpec& spec : wanted.value()) {
    keep.insert(spec.name());
    auto it = have.find(spec.name());
    if (it != have.end() && it->second->SerializeAsString() == spec.SerializeAsString()) {
      ++unchanged;
      continue;
    }
    ++(it == have.end() ? added : changed);
    std::printf("%s %s\n", it == have.end() ? "add" : "change", spec.name().c_str());
    cron::pb::Command c;
    *c.mutable_put_job()->mutable_spec() = spec;
    plan.push_back(std::move(c));
  }
  for (const auto& [name, spec] : have) {
    if (keep.count(name) != 0) continue;
    ++removed;
    std::printf("remove %s\n", name.c_str());
    cron::pb::Command c;
    c.mutable_delete_job()->set_name(name);
    plan.push_back(std::move(c));
  }
  if (!dry_run) {
    for (const cron::pb::Command& c : plan) {
      ClientRequest request;
      *request.mutable_command() = c;
      ClientResponse response;
      if (int rc = Call(flags, request, response); rc >= 0) return rc;
    }
  }
  std::printf("%s%d added, %d changed, %d removed, %d unchanged\n", dry_run ? "(dry run) " : "",
              added, changed, removed, unchanged);
  return 0;
}

}  // namespace

int RunJobs(const std::vector<std::string>& args) {
  const std::string verb = args.empty() ? "" : args[0];
  const std::vector<std::string> rest(args.begin() + (args.empty() ? 0 : 1), args.end());
  if (verb == "add") return JobsAdd(rest);
  if (verb == "ls") return JobsLs(rest);
  if (verb == "apply") return JobsApply(rest);
  if (verb == "rm") return JobsByName(rest, "rm", "Removes a job (its history goes with it).");
  if (verb == "pause")
    return JobsByName(rest, "pause", "Pauses a job: no run begins until resumed.");
  if (verb == "resume") {
    return JobsByName(rest, "resume", "Resumes a paused job from now (missed times are not run).");
  }
  if (verb == "run")
    return JobsByName(rest, "run", "Runs a job now, once, under a manual run name.");
  std::fprintf(verb.empty() || verb == "--help" ? stdout : stderr,
               "usage: paxcron jobs add|ls|rm|pause|resume|run|apply ... (each with --help)\n");
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
  std::printf("\napplied slot %llu, snapshot slot %llu, %llu jobs, mode %s\n",
              static_cast<unsigned long long>(s.applied_slot()),
              static_cast<unsigned long long>(s.snapshot_slot()),
              static_cast<unsigned long long>(s.jobs()), s.mode().c_str());
  for (const node::pb::MemberStatus& m : s.members()) {
    std::printf("  node %u %-22s %s%s\n", m.id(), m.address().c_str(),
                m.connected() ? "connected" : "unreachable",
                m.id() == s.leader() ? "  (leader)" : "");
  }
  return 0;
}

}  // namespace paxcron::cmd
