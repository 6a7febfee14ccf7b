// The replicated cron state machine: the job table, which launches have begun and how each
// ended, the run history, and the per-job cursor of scheduled times. Every replica applies the
// same commands in the same order and so holds the same state: followers can take over at once
// (MISSION.md, "Followers").
//
// Deterministic: time comes only from the log (each entry's cluster-time stamp, clamped so it
// never goes back), never from a clock. Invariants it keeps, whatever the commands:
//   - a scheduled time of a job is begun at most once: launch-begin is accepted only for the
//     job's cursor (its next scheduled time), a queued backfill time or a pending run-now
//     request, each of which is consumed by it;
//   - a run's outcome is recorded at most once, and only for a run that has begun;
//   - history is bounded per job (the last history_max finished runs, and at most a sixteenth
//     more before a trim), but a run that has begun and not ended is never dropped.
// Every operation is O(log n) in the job's history: runs are found through a name index.
// A command that would break a rule is rejected: the state is unchanged, the error says why,
// and every replica rejects it alike. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "cron/cron.pb.h"
#include "cron/job_spec.h"

namespace paxcron::cron {

constexpr size_t kManualRequestsMax = 16;     // pending run-now requests per job
constexpr size_t kBackfillMax = 1000;         // scheduled times one backfill may queue
constexpr size_t kOutputTailMax = 16 * 1024;  // bytes of a run's output kept in its record

class CronStateMachine {
 public:
  // `zones` must outlive the state machine.
  explicit CronStateMachine(const ZoneSource& zones) : zones_(&zones) {}

  // Applies one command chosen in the log, stamped with the entry's cluster time.
  Status Apply(const pb::Command& command, int64_t stamp_us);

  pb::Snapshot TakeSnapshot() const;
  // Replaces the whole state. Bad snapshots (unknown zones, invalid specs) are rejected whole.
  Status LoadSnapshot(const pb::Snapshot& snapshot);
  // The same, taking the snapshot's job states over instead of copying them (a million jobs
  // load in a fraction of the time).
  Status LoadSnapshot(pb::Snapshot&& snapshot);

  const pb::JobState* FindJob(std::string_view name) const;
  // The job's first scheduled time strictly after `after_s`. Errors: no such job, or none.
  Result<int64_t> NextFireAfter(std::string_view job, int64_t after_s) const;
  // Calls f(state) for every job, in name order.
  template <typename F>
  void ForEachJob(F&& f) const {
    for (const auto& [name, job] : jobs_) f(job.state);
  }
  // Every run that has begun and not ended, in (job, scheduled time) order: what a new leader
  // must conclude before anything else (MISSION.md, "Followers").
  std::vector<pb::RunRecord> Unfinished() const;
  int64_t cluster_time_us() const { return cluster_time_us_; }
  size_t job_count() const { return jobs_.size(); }
  uint64_t commands_rejected() const { return commands_rejected_; }
  // A stable hash of the whole state (its deterministic snapshot encoding).
  uint64_t Checksum() const;

 private:
  struct NameInfo {
    uint32_t records = 0;  // records of this run name, finished or open
    uint32_t begun = 0;    // of which began (a skipped time that never began may run later)
  };
  // A run of one job, as its run name encodes it: keys the index by two words rather than a
  // copy of the name (the index is most of a run record's memory at scale).
  struct RunKey {
    int64_t scheduled_s = 0;
    bool manual = false;
    auto operator<=>(const RunKey&) const = default;
  };
  struct Job {
    pb::JobState state;
    Schedule schedule;
    const ZoneRules* zone;
    std::map<RunKey, NameInfo> names;  // derived from state: not serialized
  };

  Status ApplyPut(const pb::PutJob& m);
  Status ApplyLaunchBegin(const pb::LaunchBegin& m);
  Status ApplyLaunchEnd(const pb::LaunchEnd& m);
  Status ApplySkip(const pb::SkipRun& m);
  Status ApplyRunNow(const pb::RunNow& m);
  Status ApplyBackfill(const pb::Backfill& m);
  Status ApplyRunFinished(const pb::RunFinished& m);
  Status ApplyTakeOver(const pb::TakeOverRun& m);

  Result<Job*> MutableJob(std::string_view name);
  // Consumes scheduled time `t` of `job`: the cursor (advanced to the next time) or a queued
  // backfill time. Error if `t` is neither.
  // True when `t` came from the backfill queue rather than the schedule's cursor.
  Result<bool> ConsumeScheduledTime(Job& job, int64_t t);
  Result<int64_t> NextFireAfter(const Job& job, int64_t after_s) const;
  void TrimHistory(Job& job);
  static void IndexRecord(Job& job, const pb::RunRecord& record, int delta);
  // Removes the finished record named `name` (a skip that a backfill is replacing).
  static void RemoveFinished(Job& job, std::string_view name);
  int64_t now_s() const;

  const ZoneSource* zones_;
  std::map<std::string, Job, std::less<>> jobs_;  // ordered: snapshots and checksums are stable
  int64_t cluster_time_us_ = 0;
  uint64_t commands_applied_ = 0;
  uint64_t commands_rejected_ = 0;
};

}  // namespace paxcron::cron
