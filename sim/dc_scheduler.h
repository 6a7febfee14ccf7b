// The simulated datacenter scheduler (Borg, Kubernetes, Slurm...) that the cron leader launches
// jobs on, and the oracle of the cron checkers: it records every real start, with the true time
// and the request that caused it. Three modes, from the strongest guarantee to the weakest:
//   named   create-if-absent by run name (like Kubernetes Job names): a second launch of the
//           same name finds the first and starts nothing;
//   fenced  no deduplication, but every request carries the lease epoch and requests with an
//           epoch below the highest seen are rejected (Chubby's sequencer);
//   plain   no deduplication and no fencing; a request older than `request_deadline_us` when it
//           arrives is refused (a server-side deadline), so that after that deadline a lookup's
//           "absent" is final.
// Lookups by run name work in every mode. Thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "cron/launcher.h"

namespace paxcron::sim {

enum class SchedulerMode { kNamed, kFenced, kPlain };

Result<SchedulerMode> ParseSchedulerMode(std::string_view name);
const char* SchedulerModeName(SchedulerMode mode);

// One real start of a job: what the oracle saw.
struct Start {
  std::string run_name;
  int64_t t_us = 0;     // true time of the start
  uint32_t node = 0;    // the node whose request started it
  uint64_t epoch = 0;   // the epoch the request carried
  int64_t sent_us = 0;  // true time the request was sent
};

class DcScheduler {
 public:
  DcScheduler(SchedulerMode mode, int64_t request_deadline_us)
      : mode_(mode), request_deadline_us_(request_deadline_us) {}

  // A launch request arriving at true time `now_us`, sent at `sent_us`.
  cron::LaunchStatus Launch(const std::string& run_name, uint32_t node, uint64_t epoch,
                            int64_t sent_us, int64_t now_us);
  cron::LookupStatus Lookup(const std::string& run_name) const;

  SchedulerMode mode() const { return mode_; }
  int64_t request_deadline_us() const { return request_deadline_us_; }
  const std::vector<Start>& starts() const { return starts_; }
  // Starts of one run name (more than one is a double launch).
  size_t StartsOf(const std::string& run_name) const;

 private:
  SchedulerMode mode_;
  int64_t request_deadline_us_;
  uint64_t highest_epoch_ = 0;
  std::vector<Start> starts_;
  std::map<std::string, size_t> starts_by_name_;
};

}  // namespace paxcron::sim
