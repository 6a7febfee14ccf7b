#include "cron/leader.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "cron/civil_time.h"
#include "cron/run_name.h"

namespace paxcron::cron {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

pb::Command BeginCommand(const std::string& job, int64_t t, bool manual, uint64_t epoch) {
  pb::Command c;
  pb::LaunchBegin* b = c.mutable_launch_begin();
  b->set_job(job);
  b->set_scheduled_s(t);
  b->set_manual(manual);
  b->set_epoch(epoch);
  return c;
}

pb::Command SkipCommand(const std::string& job, int64_t t, std::string reason) {
  pb::Command c;
  c.mutable_skip_run()->set_job(job);
  c.mutable_skip_run()->set_scheduled_s(t);
  c.mutable_skip_run()->set_reason(std::move(reason));
  return c;
}

}  // namespace

const char* LaunchStatusName(LaunchStatus s) {
  switch (s) {
    case LaunchStatus::kStarted:
      return "started";
    case LaunchStatus::kAlreadyExists:
      return "already_exists";
    case LaunchStatus::kRejected:
      return "rejected";
    case LaunchStatus::kUnknown:
      return "unknown";
  }
  return "?";
}

const char* LookupStatusName(LookupStatus s) {
  switch (s) {
    case LookupStatus::kFound:
      return "found";
    case LookupStatus::kAbsent:
      return "absent";
    case LookupStatus::kUnknown:
      return "unknown";
  }
  return "?";
}

void CronLeader::Start(uint64_t epoch, int64_t now_us) {
  Stop();
  active_ = true;
  epoch_ = epoch;
  // Every launch that has begun and not ended must be concluded first (MISSION.md, "Followers").
  for (const pb::RunRecord& r :
       options_.bug_no_reconcile ? std::vector<pb::RunRecord>() : sm_->Unfinished()) {
    Result<ParsedRunName> name = ParseRunName(r.run_name());
    PAXCRON_ASSERT(name.ok());  // the state machine only records canonical names
    AdoptRun(r, name.value().job, true, now_us);
  }
  sm_->ForEachJob([&](const pb::JobState& job) {
    PushDue(job.spec().name());
    ProposeNextBackfillOrManual(job, now_us);
  });
}

void CronLeader::Stop() {
  active_ = false;
  proposer_ballot_ = 0;
  tasks_.clear();
  proposals_.clear();
  due_ = {};
  reconciling_ = 0;
  out_ = LeaderOutput{};
}

// A run begun before this leader started has been concluded. When the last one is, the runs
// held back meanwhile may go: one pass over the jobs, once per leadership.
void CronLeader::ReconciledOne(int64_t now_us) {
  PAXCRON_ASSERT(reconciling_ > 0);
  if (--reconciling_ > 0) return;
  sm_->ForEachJob([&](const pb::JobState& job) { ProposeNextBackfillOrManual(job, now_us); });
}

void CronLeader::PushDue(const std::string& job) {
  const pb::JobState* state = sm_->FindJob(job);
  if (state == nullptr || state->paused() || state->next_fire_s() == kNever) return;
  due_.emplace(state->next_fire_s(), job);
}

// Starts tracking a run that has begun: ours (launch it now) or an earlier leader's (look it up
// first, after the request deadline: it may be in flight still).
void CronLeader::AdoptRun(const pb::RunRecord& record, const std::string& job, bool reconciling,
                          int64_t now_us) {
  Task task;
  task.job = job;
  task.scheduled_s = record.scheduled_s();
  task.manual = record.manual();
  task.reconciling = reconciling;
  task.record_epoch = record.epoch();
  if (reconciling) {
    task.phase = Phase::kWaitBeforeLookup;
    task.wake_us = now_us + options_.lookup_after_unknown_us;
    task.unknown_since_us = now_us;
  }
  auto [it, inserted] = tasks_.emplace(record.run_name(), std::move(task));
  if (!inserted) return;  // tracked already
  if (reconciling) {
    ++reconciling_;
  } else {
    Launch(it->first, it->second, now_us);
  }
}

// The epoch the record of `run` names while the run is open; nullopt once it ended (or before
// it began).
std::optional<uint64_t> CronLeader::OpenRunEpoch(const pb::JobState& job, const std::string& run) {
  for (const pb::RunRecord& r : job.open_runs()) {
    if (r.run_name() == run) return r.epoch();
  }
  return std::nullopt;
}

void CronLeader::Launch(const std::string& run, Task& task, int64_t now_us) {
  const pb::JobState* job = sm_->FindJob(task.job);
  if (job == nullptr) return;  // deleted meanwhile: nothing to launch
  // The record's epoch as it is now (a take-over of ours may have been chosen since the task was
  // adopted, by an earlier start of this leader under the same epoch); the task's own for a run
  // not open (yet: the launch-before-commit bug).
  task.record_epoch = OpenRunEpoch(*job, run).value_or(task.record_epoch);
  if (task.record_epoch != epoch_) {
    // An earlier leader began it (and lookup found it absent there, or its owner chose to
    // relaunch): first make its record name us, so that the next lookup asks our launcher, the
    // one that may start it now (cron.proto, TakeOverRun). Launched once that is chosen.
    task.phase = Phase::kTakeOverProposed;
    task.wake_us = now_us + options_.proposal_timeout_us;
    task.end.Clear();
    task.end.mutable_take_over_run()->set_run_name(run);
    task.end.mutable_take_over_run()->set_epoch(epoch_);
    out_.proposals.push_back(task.end);
    return;
  }
  task.phase = Phase::kLaunching;
  ++task.launches;
  out_.launches.push_back(LaunchRequest{run, job->spec(), task.scheduled_s, epoch_});
}

// A launch decided again: after one that certainly did not start, or after a lookup found an
// earlier launch absent. The job's deadline and missed
// policy are judged now, as for a due run, so that a scheduler down for minutes does not start a
// backlog of stale runs when it comes back (issue 8: runs due during a controller outage follow
// their missed policy). Skipping is always safe here: the run certainly did not start, or its
// fate is unknown and a skip adds no launch. Manual and backfill runs are late on purpose.
void CronLeader::Relaunch(const std::string& run, Task& task, int64_t now_us) {
  const pb::JobState* job = sm_->FindJob(task.job);
  if (job == nullptr) return;  // deleted meanwhile: nothing to launch
  bool backfill = false;
  for (const pb::RunRecord& r : job->open_runs()) backfill |= r.run_name() == run && r.backfill();
  if (!task.manual && !backfill) {
    if (std::optional<std::string> why = TooLate(*job, task.scheduled_s, now_us)) {
      ProposeEnd(run, task, pb::RUN_SKIPPED,
                 *why + fmt::format("; not started after {} launches", task.launches), now_us);
      return;
    }
  }
  Launch(run, task, now_us);
}

void CronLeader::ProposeBeginOrSkip(const std::string& job, pb::Command command, int64_t now_us) {
  proposals_[job] = now_us;
  if (options_.bug_launch_before_commit && command.has_launch_begin()) {
    // The bug: act on the announcement before a quorum has accepted it.
    const pb::LaunchBegin& b = command.launch_begin();
    pb::RunRecord record;
    record.set_run_name(b.manual() ? ManualRunName(job, b.scheduled_s())
                                   : RunName(job, b.scheduled_s()));
    record.set_scheduled_s(b.scheduled_s());
    record.set_manual(b.manual());
    record.set_epoch(b.epoch());
    tasks_.erase(record.run_name());
    AdoptRun(record, job, false, now_us);
  }
  out_.proposals.push_back(std::move(command));
}

void CronLeader::ProposeEnd(const std::string& run, Task& task, pb::RunState outcome,
                            std::string reason, int64_t now_us) {
  task.phase = Phase::kEndProposed;
  task.wake_us = now_us + options_.proposal_timeout_us;
  task.end.Clear();
  task.end.mutable_launch_end()->set_run_name(run);
  task.end.mutable_launch_end()->set_outcome(outcome);
  task.end.mutable_launch_end()->set_reason(std::move(reason));
  out_.proposals.push_back(task.end);
}

// Backfilled times and run-now requests are launched one at a time per job, like due runs. A
// scheduled time that is due goes first: each backfilled launch, once applied, would otherwise
// propose the next at once, and a backfill of minutes of an every-second job kept the job's one
// proposal slot busy until the due run was over a second late (fast-mode sweep, seed 2).
void CronLeader::ProposeNextBackfillOrManual(const pb::JobState& job, int64_t now_us) {
  const std::string& name = job.spec().name();
  if (Reconciling() || proposals_.contains(name)) return;
  if (!job.paused() && job.next_fire_s() != kNever && job.next_fire_s() * 1'000'000 <= now_us) {
    return;  // Tick decides the due time first; its outcome, once applied, calls us again
  }
  if (job.manual_requests_s_size() > 0) {
    ProposeBeginOrSkip(name, BeginCommand(name, job.manual_requests_s(0), true, epoch_), now_us);
  } else if (job.backfill_s_size() > 0 && !job.paused()) {
    ProposeBeginOrSkip(name, BeginCommand(name, job.backfill_s(0), false, epoch_), now_us);
  }
}

// Whether the run of `job` due at `t` is too late to launch at `now_us`: past its deadline, or
// missed (later than the grace) and the job's missed policy skips it. The reason, or nullopt.
std::optional<std::string> CronLeader::TooLate(const pb::JobState& job, int64_t t,
                                               int64_t now_us) const {
  const std::string& name = job.spec().name();
  const pb::JobSpec& spec = job.spec();
  const int64_t late_us = now_us - t * 1'000'000;
  if (spec.deadline_s() > 0 && late_us > static_cast<int64_t>(spec.deadline_s()) * 1'000'000) {
    return fmt::format("deadline: {}s late, deadline {}s", late_us / 1'000'000, spec.deadline_s());
  }
  if (late_us <= options_.missed_grace_us) return std::nullopt;
  // Missed while no leader could launch it: the job's policy decides (MISSION.md).
  const pb::Missed missed = options_.bug_missed_all_skips && spec.missed() == pb::MISSED_ALL
                                ? pb::MISSED_SKIP
                                : spec.missed();
  const Result<int64_t> next = sm_->NextFireAfter(name, t);
  const bool later_due = next.ok() && next.value() * 1'000'000 <= now_us;
  bool skip = missed == pb::MISSED_SKIP || (missed == pb::MISSED_LATEST && later_due);
  if (missed == pb::MISSED_ALL) {
    // Run at most max_catchup of the missed times, the newest ones: skip this one if that
    // many later times were missed too.
    const int64_t missed_before_us = now_us - options_.missed_grace_us;
    uint32_t missed_after = 0;
    for (Result<int64_t> n = next;
         n.ok() && n.value() * 1'000'000 < missed_before_us && missed_after < spec.max_catchup();
         n = sm_->NextFireAfter(name, n.value())) {
      ++missed_after;
    }
    skip = missed_after >= spec.max_catchup();
  }
  if (!skip) return std::nullopt;
  return fmt::format("missed: {}s late when a leader could first launch it (missed={})",
                     late_us / 1'000'000, pb::Missed_Name(missed));
}

void CronLeader::DecideDue(const pb::JobState& job, int64_t t, int64_t now_us) {
  const std::string& name = job.spec().name();
  if (job.spec().overlap() == pb::OVERLAP_FORBID && job.open_runs_size() > 0) {
    ProposeBeginOrSkip(
        name, SkipCommand(name, t, "overlap: " + job.open_runs(0).run_name() + " still runs"),
        now_us);
    return;
  }
  if (std::optional<std::string> why = TooLate(job, t, now_us)) {
    ProposeBeginOrSkip(name, SkipCommand(name, t, *why), now_us);
    return;
  }
  ProposeBeginOrSkip(name, BeginCommand(name, t, false, epoch_), now_us);
}

void CronLeader::OnApplied(const pb::Command& command, bool accepted, int64_t now_us) {
  if (!active_) return;
  auto job_of = [&](const std::string& job) {
    proposals_.erase(job);
    PushDue(job);
    if (const pb::JobState* state = sm_->FindJob(job)) ProposeNextBackfillOrManual(*state, now_us);
  };
  switch (command.op_case()) {
    case pb::Command::kLaunchBegin: {
      const pb::LaunchBegin& b = command.launch_begin();
      if (accepted) {
        const std::string run = b.manual() ? ManualRunName(b.job(), b.scheduled_s())
                                           : RunName(b.job(), b.scheduled_s());
        pb::RunRecord record;
        record.set_run_name(run);
        record.set_scheduled_s(b.scheduled_s());
        record.set_manual(b.manual());
        record.set_epoch(b.epoch());
        // Chosen: only now may the launcher be called. A begin from another epoch is an earlier
        // leader's, applied after we started: its fate is unknown, so it is looked up first.
        if (b.epoch() == epoch_ || !options_.bug_no_reconcile) {
          AdoptRun(record, b.job(), b.epoch() != epoch_, now_us);
        }
      }
      job_of(b.job());
      break;
    }
    case pb::Command::kSkipRun:
      job_of(command.skip_run().job());
      break;
    case pb::Command::kLaunchEnd: {
      auto it = tasks_.find(command.launch_end().run_name());
      if (accepted && it != tasks_.end()) {
        if (it->second.reconciling) ReconciledOne(now_us);
        const std::string job = it->second.job;
        tasks_.erase(it);
        if (const pb::JobState* state = sm_->FindJob(job))
          ProposeNextBackfillOrManual(*state, now_us);
      }
      break;
    }
    case pb::Command::kPutJob:
      job_of(command.put_job().spec().name());
      break;
    case pb::Command::kResumeJob:
      job_of(command.resume_job().name());
      break;
    case pb::Command::kRunNow:
      job_of(command.run_now().job());
      break;
    case pb::Command::kBackfill:
      job_of(command.backfill().job());
      break;
    case pb::Command::kTakeOverRun: {
      const pb::TakeOverRun& m = command.take_over_run();
      auto it = tasks_.find(m.run_name());
      if (it == tasks_.end() || it->second.phase != Phase::kTakeOverProposed ||
          m.epoch() != epoch_) {
        break;  // an earlier proposal of ours applied twice, or another leader's
      }
      // Chosen, or refused because an earlier take-over of ours was (resent, or from an earlier
      // start of this leader under the same epoch): either way the open record names us now.
      const pb::JobState* job = sm_->FindJob(it->second.job);
      if (job == nullptr || OpenRunEpoch(*job, m.run_name()) != epoch_) {
        tasks_.erase(it);  // no longer open: concluded, nothing for us to launch
        break;
      }
      Launch(it->first, it->second, now_us);
      break;
    }
    case pb::Command::kDeleteJob:
    case pb::Command::kPauseJob:
    case pb::Command::kRunFinished:  // a process's exit changes nothing the loop decides on
    case pb::Command::OP_NOT_SET:
      break;  // stale heap entries are dropped when they come up
  }
}

void CronLeader::OnLaunchResult(const std::string& run, LaunchStatus status, int64_t now_us) {
  auto it = tasks_.find(run);
  if (!active_ || it == tasks_.end() || it->second.phase != Phase::kLaunching) return;
  Task& task = it->second;
  switch (status) {
    case LaunchStatus::kStarted:
      ProposeEnd(run, task, pb::RUN_STARTED, "", now_us);
      return;
    case LaunchStatus::kAlreadyExists:
      ProposeEnd(run, task, pb::RUN_ALREADY_EXISTED, "the scheduler already had it", now_us);
      return;
    case LaunchStatus::kRejected:
      // Refused for certain (a stale epoch, an expired request): the job did not start.
      RetryOrFail(run, task, "rejected by the scheduler", now_us);
      return;
    case LaunchStatus::kUnknown:
      if (options_.bug_retry_without_lookup) {
        // The bug: a blind retry, while the first request may have worked.
        Launch(run, task, now_us);
        return;
      }
      // Never retry blindly: wait out the request deadline, then look the run up by name.
      task.phase = Phase::kWaitBeforeLookup;
      task.wake_us = now_us + options_.lookup_after_unknown_us;
      if (task.unknown_since_us < 0) task.unknown_since_us = now_us;
      return;
  }
}

// A launch that certainly did not start is tried again after a back-off. A job whose owner chose
// on_unknown=relaunch must run: it is tried until it starts. Others record a failure after
// launch_attempts_max launches.
void CronLeader::RetryOrFail(const std::string& run, Task& task, const char* why, int64_t now_us) {
  const pb::JobState* job = sm_->FindJob(task.job);
  const bool must_run = job != nullptr && job->spec().on_unknown() == pb::ON_UNKNOWN_RELAUNCH;
  if (!must_run && task.launches >= options_.launch_attempts_max) {
    ProposeEnd(run, task, pb::RUN_FAILED,
               fmt::format("{}; not started after {} launches", why, task.launches), now_us);
    return;
  }
  task.phase = Phase::kRetryWait;
  task.wake_us = now_us + options_.retry_backoff_us;
}

void CronLeader::OnLookupResult(const std::string& run, LookupStatus status, int64_t now_us) {
  auto it = tasks_.find(run);
  if (!active_ || it == tasks_.end() || it->second.phase != Phase::kLookingUp) return;
  Task& task = it->second;
  switch (status) {
    case LookupStatus::kFound:
      ProposeEnd(run, task, pb::RUN_STARTED, "found by lookup", now_us);
      return;
    case LookupStatus::kAbsent:
      // Certainly never started: launch it (again).
      if (task.reconciling) {
        task.reconciling = false;  // its fate is known now: it did not start
        ReconciledOne(now_us);
      }
      task.unknown_since_us = -1;
      if (task.launches == 0) {
        Relaunch(run, task, now_us);  // an earlier leader's run that never reached the scheduler
      } else {
        RetryOrFail(run, task, "absent after a launch", now_us);
      }
      return;
    case LookupStatus::kUnknown: {
      const pb::JobState* job = sm_->FindJob(task.job);
      if (now_us - task.unknown_since_us > options_.unknown_timeout_us && job != nullptr) {
        if (job->spec().on_unknown() == pb::ON_UNKNOWN_SKIP) {
          // Fail closed: where in doubt, skip rather than risk a second launch.
          ProposeEnd(run, task, pb::RUN_SKIPPED, "fate unknown: the scheduler did not answer",
                     now_us);
          return;
        }
        if (task.reconciling) {
          task.reconciling = false;
          ReconciledOne(now_us);
        }
        // on_unknown=relaunch: the job's owner chose this risk, and this launch, whatever the
        // missed policy says of late times.
        Launch(run, task, now_us);
        return;
      }
      task.phase = Phase::kWaitBeforeLookup;
      task.wake_us = now_us + options_.retry_backoff_us;
      return;
    }
  }
}

void CronLeader::Tick(int64_t now_us) {
  if (!active_) return;
  for (auto& [run, task] : tasks_) {
    if (task.wake_us > now_us) continue;
    if (task.phase == Phase::kWaitBeforeLookup) {
      task.phase = Phase::kLookingUp;
      out_.lookups.push_back(LookupRequest{run});
    } else if (task.phase == Phase::kRetryWait) {
      Relaunch(run, task, now_us);
    } else if (task.phase == Phase::kEndProposed || task.phase == Phase::kTakeOverProposed) {
      task.wake_us = now_us + options_.proposal_timeout_us;  // lost (a leader change): resend
      out_.proposals.push_back(task.end);
    }
  }
  // Proposals that were never applied (lost with a leader change) may be made again.
  for (auto it = proposals_.begin(); it != proposals_.end();) {
    if (now_us - it->second < options_.proposal_timeout_us) {
      ++it;
      continue;
    }
    const std::string job = it->first;
    it = proposals_.erase(it);
    PushDue(job);
    if (const pb::JobState* state = sm_->FindJob(job)) ProposeNextBackfillOrManual(*state, now_us);
  }
  if (Reconciling()) return;  // conclude every partial launch before going on
  if (options_.bug_poll_interval_us > 0) {
    if (now_us < next_poll_us_) return;
    next_poll_us_ = now_us + options_.bug_poll_interval_us;
  }
  while (!due_.empty() && due_.top().first * 1'000'000 <= now_us) {
    const auto [t, name] = due_.top();
    due_.pop();
    const pb::JobState* job = sm_->FindJob(name);
    // Stale entries (the cursor moved, the job was paused or deleted) are dropped here.
    if (job == nullptr || job->paused() || job->next_fire_s() != t || proposals_.contains(name)) {
      continue;
    }
    DecideDue(*job, t, now_us);
  }
}

void CronLeader::NoteProposerBallot(uint64_t ballot, int64_t now_us) {
  if (!active_) return;
  const bool changed = proposer_ballot_ != 0 && ballot != proposer_ballot_;
  proposer_ballot_ = ballot;
  if (!changed) return;
  for (auto& [run, task] : tasks_) {
    if (task.phase == Phase::kEndProposed || task.phase == Phase::kTakeOverProposed) {
      task.wake_us = std::min(task.wake_us, now_us);
    }
  }
  for (auto& [job, at] : proposals_) at = std::min(at, now_us - options_.proposal_timeout_us);
}

int64_t CronLeader::NextWakeupUs() const {
  if (!active_) return kNever;
  int64_t wake = kNever;
  if (!due_.empty() && !Reconciling()) wake = std::min(wake, due_.top().first * 1'000'000);
  for (const auto& [run, task] : tasks_) {
    if (task.phase == Phase::kWaitBeforeLookup || task.phase == Phase::kEndProposed ||
        task.phase == Phase::kRetryWait || task.phase == Phase::kTakeOverProposed) {
      wake = std::min(wake, task.wake_us);
    }
  }
  for (const auto& [job, at] : proposals_) {
    wake = std::min(wake, at + options_.proposal_timeout_us);
  }
  return wake;
}

LeaderOutput CronLeader::TakeOutput() {
  LeaderOutput out = std::move(out_);
  out_ = LeaderOutput{};
  return out;
}

}  // namespace paxcron::cron
