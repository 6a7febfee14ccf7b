// paxcron: a distributed cron on Multi-Paxos. This file only dispatches to subcommands.
#include <cstdio>
#include <string>
#include <vector>

#include "cmd/commands.h"

namespace {

void PrintHelp() {
  std::printf(
      "paxcron: a distributed cron on a Multi-Paxos core with a master lease.\n"
      "\n"
      "usage: paxcron <command> [options]\n"
      "\n"
      "commands:\n"
      "  sim     run the deterministic fault-injecting simulator over one or many seeds and\n"
      "          check agreement, validity, lease safety, durability, replica state and\n"
      "          liveness (see 'paxcron sim --help')\n"
      "  schedule\n"
      "          print the next fire times of a cron expression in a time zone:\n"
      "          next EXPR [--from T] [--count N] [--tz ZONE] [--job NAME]\n"
      "          (see 'paxcron schedule --help')\n"
      "  storage check|dump --data DIR\n"
      "          inspect a node's data directory offline: what it holds, any damage\n"
      "  node --config FILE\n"
      "          run one node of a real cluster (node/CONFIG.md)\n"
      "  cluster up|down [--nodes 3] [--dir DIR]\n"
      "          start or stop a local cluster on 127.0.0.1 in the background\n"
      "  jobs add|ls|rm|pause|resume|run\n"
      "          manage the cluster's jobs (each with --help)\n"
      "  runs ls [JOB]\n"
      "          recent runs: scheduled time, run name, outcome, node, exit, duration\n"
      "  status  members, leader, lease, applied and snapshot slots\n"
      "\n"
      "options:\n"
      "  --help  show this help\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    PrintHelp();
    return args.empty() ? 2 : 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  if (command == "sim") return paxcron::cmd::RunSim(args);
  if (command == "schedule") return paxcron::cmd::RunSchedule(args);
  if (command == "storage") return paxcron::cmd::RunStorage(args);
  if (command == "node") return paxcron::cmd::RunNode(args);
  if (command == "cluster") return paxcron::cmd::RunCluster(args);
  if (command == "jobs") return paxcron::cmd::RunJobs(args);
  if (command == "runs") return paxcron::cmd::RunRuns(args);
  if (command == "status") return paxcron::cmd::RunStatus(args);
  std::fprintf(stderr, "paxcron: unknown command '%s' (try 'paxcron --help')\n", command.c_str());
  return 2;
}
