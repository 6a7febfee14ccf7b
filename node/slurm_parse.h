// The text the Slurm commands print, and the command lines the Slurm launcher runs (issue 8):
// sbatch --parsable's job id, squeue's job lines, the jobcomp/filetxt file's records, and how a
// failed sbatch is classified (rejected for certain, or unknown: it may have created the job).
// Pure functions, no I/O; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "cron/launcher.h"

namespace paxcron::node {

// One Slurm job as squeue or the jobcomp file reports it.
struct SlurmJob {
  std::string id;
  std::string name;   // the run name
  std::string state;  // PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, ...
  int32_t exit_code = 0;
  int32_t signal = 0;
};

// True for the states a job never leaves (it has ended, one way or another).
bool IsTerminalSlurmState(std::string_view state);

// A run name usable as a Slurm job name: not empty, no ',' (squeue --name splits its argument on
// commas: a name with one could never be looked up), no whitespace or control characters.
Status ValidateSlurmJobName(std::string_view run_name);

// sbatch --parsable prints "ID" or "ID;CLUSTER" and a newline. Error: anything else.
Result<std::string> ParseSbatchParsable(std::string_view out);

// A failed sbatch (non-zero exit, or killed at its deadline): kRejected when the controller
// answered "no" (an invalid partition, a job_submit rule), kAlreadyExists when paxcron's example
// job_submit.lua refused a second job of the name, else kUnknown ("Socket timed out", the
// controller unreachable, the deadline): the job may exist, and only a lookup can tell.
cron::LaunchStatus ClassifySbatchFailure(bool timed_out, std::string_view err);

// The squeue format the launcher asks for, and its parser: "ID|NAME|STATE|STATUS" lines, where
// STATUS is the raw wait status (exit code << 8 | signal). Lines that do not parse are skipped
// and counted in *bad (if given).
inline constexpr std::string_view kSqueueFormat = "JobID:|,Name:|,State:|,exit_code:";
std::vector<SlurmJob> ParseSqueue(std::string_view out, size_t* bad = nullptr);

// One line of the jobcomp/filetxt file ("JobId=12 ... Name=RUN JobState=COMPLETED ...
// ExitCode=3:0"). nullopt if the line has no JobId, Name or JobState.
std::optional<SlurmJob> ParseJobcompLine(std::string_view line);

// squeue --name lists of the given names, each argument under `chars_max` characters.
// REQUIRES: every name passes ValidateSlurmJobName.
std::vector<std::string> JoinNames(const std::vector<std::string>& names, size_t chars_max);

struct SbatchCommand {
  std::vector<std::string> argv;  // argv[0] is "sbatch"
  std::vector<std::string> env;   // KEY=VALUE added to the node's environment
};
// The submission of one run: sbatch --parsable --job-name=RUN [--partition=P] [options...]
// --wrap=COMMAND, with PAXCRON_JOB, PAXCRON_RUN, PAXCRON_SCHEDULED_TIME in the environment.
SbatchCommand SbatchFor(const cron::LaunchRequest& request);

}  // namespace paxcron::node
