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
  std::fprintf(stderr, "paxcron: unknown command '%s' (try 'paxcron --help')\n", command.c_str());
  return 2;
}
