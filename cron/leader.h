// The cron leader's loop: a crond-like scheduler over the replicated job table, run only by the
// node that holds the master lease. Pure and I/O-free, like the consensus core: the driver feeds
// it applied commands, launcher replies and ticks with the current time, and takes back the cron
// commands to propose through Paxos and the launches and lookups to perform.
//
// The rules it follows (MISSION.md, "Leader", "Followers", "Partial failures"):
//   - for each due run it proposes launch-begin, and calls the launcher only once that command is
//     chosen and applied; the launch's end is recorded through Paxos too;
//   - it never retries a launch whose outcome is unknown without looking the run up by name
//     first, and only after the scheduler's request deadline has passed (a request still in
//     flight could otherwise start the job after the lookup said "absent");
//   - a new leader first concludes every launch that has begun and not ended (by lookup), and
//     only then begins new runs;
//   - Stop() drops everything at once: a node that loses the lease emits nothing more.
// The state machine, not this loop, guarantees that a run begins at most once: this loop may
// re-propose freely after a lost proposal, and duplicates are rejected deterministically.
// The driver must check the lease right before each launcher call (replica.h's HoldsLease).
// Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cron/launcher.h"
#include "cron/state_machine.h"

namespace paxcron::cron {

struct LeaderOptions {
  // A scheduled time more than this late when first seen due was missed (no leader could launch
  // it in time): the job's `missed` policy decides what happens to it.
  int64_t missed_grace_us = 60'000'000;
  // After an unknown launch outcome, wait this long before looking the run up: the scheduler's
  // request deadline D (a request older than D is refused, so after D "absent" is final).
  int64_t lookup_after_unknown_us = 5'000'000;
  int64_t retry_backoff_us = 1'000'000;      // between lookups that got no answer
  int64_t unknown_timeout_us = 120'000'000;  // fate unknown this long: apply `on_unknown`
  int64_t proposal_timeout_us = 10'000'000;  // a proposal not applied by then may be resent
  // Launches of one run that certainly did not start (rejected, or absent by lookup) before it
  // is recorded as failed; jobs with on_unknown=relaunch must run and are tried until they start.
  uint32_t launch_attempts_max = 3;

  // Classic mistakes, for the simulator's checkers to catch (tests/sim/cron_bug_test.cc).
  bool bug_launch_before_commit = false;  // launch when proposing launch-begin, not once chosen
  bool bug_retry_without_lookup = false;  // relaunch at once after an unknown outcome
  bool bug_no_reconcile = false;          // a new leader ignores launches begun before it
  bool bug_missed_all_skips = false;      // missed=all is treated as missed=skip
  // > 0: due runs are looked for only this often, like a controller's periodic sync loop
  // (Kubernetes' CronJob controller polled every 10 s): runs start up to that late.
  int64_t bug_poll_interval_us = 0;
};

struct LeaderOutput {
  std::vector<pb::Command> proposals;
  std::vector<LaunchRequest> launches;
  std::vector<LookupRequest> lookups;
  bool Empty() const { return proposals.empty() && launches.empty() && lookups.empty(); }
};

class CronLeader {
 public:
  // `sm` is the node's own replica of the state machine; it must outlive this object.
  CronLeader(const CronStateMachine& sm, LeaderOptions options) : sm_(&sm), options_(options) {}

  // The node holds the lease with this epoch from now on.
  void Start(uint64_t epoch, int64_t now_us);
  // The node lost the lease: forget every pending action at once.
  void Stop();
  bool active() const { return active_; }
  uint64_t epoch() const { return epoch_; }

  // Called after the state machine applied `command` (whoever proposed it).
  void OnApplied(const pb::Command& command, bool accepted, int64_t now_us);
  void OnLaunchResult(const std::string& run_name, LaunchStatus status, int64_t now_us);
  void OnLookupResult(const std::string& run_name, LookupStatus status, int64_t now_us);
  void Tick(int64_t now_us);
  // The consensus core's ballot (opaque here), told while the node leads it. A leader that runs
  // phase 1 again under a higher ballot, keeping its lease (it saw a candidate's ballot), drops
  // the proposals it had in flight and refuses new ones until it leads again: when the ballot
  // changes, every proposal of this loop not yet applied is made again at the next Tick instead
  // of after proposal_timeout_us (docs/nemesis.md: a job stalled 10 s on a healthy cluster).
  // Duplicates are harmless: the state machine rejects them deterministically.
  void NoteProposerBallot(uint64_t ballot, int64_t now_us);

  LeaderOutput TakeOutput();
  // When Tick() next has something to do (the driver may tick earlier). INT64_MAX: nothing.
  int64_t NextWakeupUs() const;
  size_t unconcluded_runs() const { return tasks_.size(); }

 private:
  enum class Phase {
    kLaunching,
    kWaitBeforeLookup,
    kLookingUp,
    kRetryWait,
    kTakeOverProposed,  // an earlier leader's run: our epoch goes into its record before we launch
    kEndProposed
  };
  struct Task {  // one run that has begun and not yet ended
    std::string job;
    int64_t scheduled_s = 0;
    bool manual = false;
    Phase phase = Phase::kLaunching;
    uint32_t launches = 0;
    int64_t wake_us = 0;            // kWaitBeforeLookup, kEndProposed: when to act again
    int64_t unknown_since_us = -1;  // first unknown outcome
    bool reconciling = false;       // begun before this leader started (or by another leader)
    uint64_t record_epoch = 0;      // the epoch its record names (the leader that began it)
    pb::Command end;                // kEndProposed, kTakeOverProposed: the command being proposed
  };
  using Due = std::pair<int64_t, std::string>;  // (scheduled time, job): a min-heap entry

  void PushDue(const std::string& job);
  void DecideDue(const pb::JobState& job, int64_t t, int64_t now_us);
  std::optional<std::string> TooLate(const pb::JobState& job, int64_t t, int64_t now_us) const;
  void Relaunch(const std::string& run, Task& task, int64_t now_us);
  void ProposeBeginOrSkip(const std::string& job, pb::Command command, int64_t now_us);
  void ProposeNextBackfillOrManual(const pb::JobState& job, int64_t now_us);
  void ProposeEnd(const std::string& run, Task& task, pb::RunState outcome, std::string reason,
                  int64_t now_us);
  static std::optional<uint64_t> OpenRunEpoch(const pb::JobState& job, const std::string& run);
  void Launch(const std::string& run, Task& task, int64_t now_us);
  void RetryOrFail(const std::string& run, Task& task, const char* why, int64_t now_us);
  void AdoptRun(const pb::RunRecord& record, const std::string& job, bool reconciling,
                int64_t now_us);
  bool Reconciling() const { return reconciling_ > 0; }
  void ReconciledOne(int64_t now_us);

  const CronStateMachine* sm_;
  LeaderOptions options_;
  bool active_ = false;
  uint64_t epoch_ = 0;
  uint64_t proposer_ballot_ = 0;              // as last told; 0: not yet told since Start
  std::map<std::string, Task> tasks_;         // by run name
  std::map<std::string, int64_t> proposals_;  // job -> when its begin/skip was proposed
  std::priority_queue<Due, std::vector<Due>, std::greater<>> due_;
  size_t reconciling_ = 0;    // tasks with reconciling set
  int64_t next_poll_us_ = 0;  // the coarse-poll bug only
  LeaderOutput out_;
};

}  // namespace paxcron::cron
