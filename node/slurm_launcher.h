// The `slurm` launcher (issue 8; docs/slurm.md): a run is submitted to Slurm with
// `sbatch --parsable --job-name=RUN`, looked up with `squeue --name=RUN --states=all` and then in
// the jobcomp file (jobs purged from the controller's memory), and followed to its end by
// polling, so that Slurm's final state and exit code reach the run history. Every sbatch, squeue
// and grep runs as a child process off the loop, with a deadline (child_process.h): a slow or
// absent controller never stalls consensus.
//
// Slurm has no fencing tokens and no request deadline of its own: an sbatch that failed
// ambiguously ("Socket timed out") may still have created the job. The launcher reports that as
// kUnknown, never as a failure, and the node waits out the sbatch deadline plus a settling time
// before it trusts a lookup's "absent" (node.cc, SlurmLookupNotBefore). Single-threaded: the
// node's libuv loop.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "cron/launcher.h"
#include "node/child_process.h"
#include "node/slurm_parse.h"

namespace paxcron::node {

struct SlurmOptions {
  uint32_t timeout_ms = 5000;  // each sbatch/squeue call's deadline
  std::string jobcomp_file;    // JobCompLoc of jobcomp/filetxt, readable here; empty: none
};

class SlurmLauncher {
 public:
  using LaunchDone = std::function<void(cron::LaunchStatus, std::string detail)>;
  using LookupDone = std::function<void(cron::LookupStatus)>;
  // ok false: squeue failed; jobs: every job found of the names asked (squeue, then jobcomp).
  using PollDone = std::function<void(bool ok, std::vector<SlurmJob> jobs)>;

  SlurmLauncher(uv_loop_t* loop, SlurmOptions options, std::function<void(std::string_view)> log);

  // `done` gets kStarted with the job id, or the classified failure with sbatch's message.
  void Launch(const cron::LaunchRequest& request, LaunchDone done);
  void Lookup(const std::string& run_name, LookupDone done);
  // REQUIRES: names not empty, each a valid Slurm job name.
  void Poll(const std::vector<std::string>& names, PollDone done);
  size_t in_flight() const { return runner_.in_flight() + runner_.queued(); }

 private:
  void SearchJobcomp(const std::vector<std::string>& names,
                     std::function<void(bool ok, std::vector<SlurmJob>)> done);

  SlurmOptions options_;
  std::function<void(std::string_view)> log_;
  ChildRunner runner_;
};

}  // namespace paxcron::node
