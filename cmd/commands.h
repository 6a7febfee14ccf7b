// Subcommands of the paxcron command line. Each takes the words after its name and returns the
// process exit code.
#pragma once

#include <string>
#include <vector>

namespace paxcron::cmd {

int RunSim(const std::vector<std::string>& args);
void PrintSimHelp();

int RunSchedule(const std::vector<std::string>& args);
void PrintScheduleHelp();

int RunStorage(const std::vector<std::string>& args);
void PrintStorageHelp();

// The real cluster: the daemon, a local cluster, and the client commands.
int RunNode(const std::vector<std::string>& args);
int RunCluster(const std::vector<std::string>& args);
int RunJobs(const std::vector<std::string>& args);
int RunRuns(const std::vector<std::string>& args);
int RunStatus(const std::vector<std::string>& args);

}  // namespace paxcron::cmd
