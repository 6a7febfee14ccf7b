// The launcher interface: how the cron leader's decisions reach a datacenter scheduler. The
// leader never calls a scheduler itself (cron/ does no I/O); it emits LaunchRequests and lookups,
// and a driver carries them out (the simulator's scheduler, or, later, the exec and Slurm
// launchers) and feeds the replies back. Every operation is named by the run name, so that a
// launch can be looked up unambiguously after any failure (MISSION.md, "Partial failures").
#pragma once

#include <cstdint>
#include <string>

#include "cron/cron.pb.h"

namespace paxcron::cron {

// What a launch attempt reports.
enum class LaunchStatus {
  kStarted,        // the scheduler accepted it: the job runs
  kAlreadyExists,  // the scheduler already had a job of this run name (a named scheduler)
  kRejected,       // refused for certain (a stale fencing epoch, an expired request): not started
  kUnknown,        // no answer (timeout, lost reply, scheduler down): it may or may not have run
};

// What a lookup by run name finds.
enum class LookupStatus {
  kFound,    // a job of this run name exists or existed
  kAbsent,   // none, and none can appear later (the scheduler's guarantee, see the driver)
  kUnknown,  // no answer
};

const char* LaunchStatusName(LaunchStatus s);
const char* LookupStatusName(LookupStatus s);

struct LaunchRequest {
  std::string run_name;  // JOB@SCHEDULED: the scheduler's job name
  pb::JobSpec spec;      // what to run
  int64_t scheduled_s = 0;
  uint64_t epoch = 0;  // the leader's lease epoch: a fencing token the scheduler may check
};

struct LookupRequest {
  std::string run_name;
};

}  // namespace paxcron::cron
