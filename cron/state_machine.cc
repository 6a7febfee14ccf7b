#include "cron/state_machine.h"

#include <fmt/format.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
#include <limits>

#include "common/hash.h"
#include "cron/civil_time.h"
#include "cron/run_name.h"

namespace paxcron::cron {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

int64_t FloorSeconds(int64_t us) { return FloorDiv(us, 1'000'000); }

bool Finished(const pb::RunRecord& r) { return r.state() != pb::RUN_BEGUN; }

Status CheckInstant(int64_t t, std::string_view what) {
  if (t < kMinSupportedSeconds || t > kMaxSupportedSeconds) {
    return Status::Error(fmt::format("{}: {} is outside years 0-9999", what, t));
  }
  return Status::Ok();
}

}  // namespace

Status CronStateMachine::Apply(const pb::Command& command, int64_t stamp_us) {
  // Cluster time never goes back, even if a stamp does (a re-proposed old value).
  cluster_time_us_ = std::max(cluster_time_us_, stamp_us);
  Status result = Status::Ok();
  switch (command.op_case()) {
    case pb::Command::kPutJob:
      result = ApplyPut(command.put_job());
      break;
    case pb::Command::kDeleteJob: {
      auto it = jobs_.find(command.delete_job().name());
      if (it == jobs_.end()) {
        result = Status::Error(fmt::format("job {}: no such job", command.delete_job().name()));
      } else {
        jobs_.erase(it);
      }
      break;
    }
    case pb::Command::kPauseJob:
    case pb::Command::kResumeJob: {
      const bool pause = command.op_case() == pb::Command::kPauseJob;
      Result<Job*> job =
          MutableJob(pause ? command.pause_job().name() : command.resume_job().name());
      if (!job.ok()) {
        result = job.status();
      } else if (!pause && job.value()->state.paused()) {
        // Times that passed while paused are not missed runs: resume from the next one.
        Result<int64_t> next = NextFireAfter(*job.value(), now_s());
        job.value()->state.set_next_fire_s(next.ok() ? next.value() : kNever);
        job.value()->state.set_paused(false);
      } else {
        job.value()->state.set_paused(pause);
      }
      break;
    }
    case pb::Command::kLaunchBegin:
      result = ApplyLaunchBegin(command.launch_begin());
      break;
    case pb::Command::kLaunchEnd:
      result = ApplyLaunchEnd(command.launch_end());
      break;
    case pb::Command::kSkipRun:
      result = ApplySkip(command.skip_run());
      break;
    case pb::Command::kRunNow:
      result = ApplyRunNow(command.run_now());
      break;
    case pb::Command::kBackfill:
      result = ApplyBackfill(command.backfill());
      break;
    case pb::Command::OP_NOT_SET:
      result = Status::Error("empty command");
      break;
  }
  ++(result.ok() ? commands_applied_ : commands_rejected_);
  return result;
}

int64_t CronStateMachine::now_s() const { return FloorSeconds(cluster_time_us_); }

Result<CronStateMachine::Job*> CronStateMachine::MutableJob(std::string_view name) {
  auto it = jobs_.find(name);
  if (it == jobs_.end()) return Status::Error(fmt::format("job {}: no such job", name));
  return &it->second;
}

const pb::JobState* CronStateMachine::FindJob(std::string_view name) const {
  auto it = jobs_.find(name);
  return it == jobs_.end() ? nullptr : &it->second.state;
}

Result<int64_t> CronStateMachine::NextFireAfter(const Job& job, int64_t after_s) const {
  return NextFireTime(job.schedule, after_s, *job.zone);
}

Result<int64_t> CronStateMachine::NextFireAfter(std::string_view name, int64_t after_s) const {
  auto it = jobs_.find(name);
  if (it == jobs_.end()) return Status::Error(fmt::format("job {}: no such job", name));
  return NextFireAfter(it->second, after_s);
}

Status CronStateMachine::ApplyPut(const pb::PutJob& m) {
  pb::JobSpec spec = m.spec();
  Result<CompiledJob> compiled = CompileJobSpec(spec, *zones_);
  if (!compiled.ok()) return compiled.status();
  Job fresh{pb::JobState(), compiled.value().schedule, compiled.value().zone};
  Result<int64_t> first = NextFireAfter(fresh, now_s());
  if (!first.ok())
    return Status::Error(fmt::format("job {}: {}", spec.name(), first.status().message()));
  auto it = jobs_.find(spec.name());
  if (it != jobs_.end()) {
    // A changed job keeps its history and unfinished runs; its schedule starts afresh from now.
    it->second.schedule = fresh.schedule;
    it->second.zone = fresh.zone;
    *it->second.state.mutable_spec() = spec;
    it->second.state.set_next_fire_s(first.value());
    it->second.state.clear_backfill_s();
    TrimHistory(it->second);
    return Status::Ok();
  }
  *fresh.state.mutable_spec() = spec;
  fresh.state.set_next_fire_s(first.value());
  fresh.state.set_history_floor_s(std::numeric_limits<int64_t>::min());
  jobs_.emplace(spec.name(), std::move(fresh));
  return Status::Ok();
}

Status CronStateMachine::ConsumeScheduledTime(Job& job, int64_t t) {
  pb::JobState& s = job.state;
  if (t == s.next_fire_s()) {
    Result<int64_t> next = NextFireAfter(job, t);
    s.set_next_fire_s(next.ok() ? next.value() : kNever);
    return Status::Ok();
  }
  auto& queue = *s.mutable_backfill_s();
  auto it = std::find(queue.begin(), queue.end(), t);
  if (it != queue.end()) {
    queue.erase(it);
    return Status::Ok();
  }
  return Status::Error(fmt::format(
      "job {}: {} is neither its next scheduled time ({}) nor a "
      "queued backfill time",
      s.spec().name(), FormatRfc3339(t, 0, true),
      s.next_fire_s() == kNever ? std::string("never") : FormatRfc3339(s.next_fire_s(), 0, true)));
}

Status CronStateMachine::ApplyLaunchBegin(const pb::LaunchBegin& m) {
  Result<Job*> found = MutableJob(m.job());
  if (!found.ok()) return found.status();
  Job& job = *found.value();
  pb::JobState& s = job.state;
  if (Status c = CheckInstant(m.scheduled_s(), "launch-begin"); !c.ok()) return c;
  const std::string name =
      m.manual() ? ManualRunName(m.job(), m.scheduled_s()) : RunName(m.job(), m.scheduled_s());
  int skipped_record = -1;  // a backfilled time that was skipped before keeps its one record
  for (int i = 0; i < s.history_size(); ++i) {
    const pb::RunRecord& r = s.history(i);
    if (r.run_name() == name) {
      if (r.begun_us() != 0) return Status::Error(fmt::format("run {}: already begun", name));
      skipped_record = i;
    }
    if (s.spec().overlap() == pb::OVERLAP_FORBID && !Finished(r)) {
      return Status::Error(
          fmt::format("run {}: overlap forbidden while {} runs", name, r.run_name()));
    }
  }
  if (m.manual()) {
    auto& requests = *s.mutable_manual_requests_s();
    auto it = std::find(requests.begin(), requests.end(), m.scheduled_s());
    if (it == requests.end()) return Status::Error(fmt::format("run {}: no such request", name));
    requests.erase(it);
  } else {
    if (s.paused()) return Status::Error(fmt::format("run {}: job is paused", name));
    if (Status c = ConsumeScheduledTime(job, m.scheduled_s()); !c.ok()) return c;
  }
  if (skipped_record >= 0)
    s.mutable_history()->erase(s.mutable_history()->begin() + skipped_record);
  pb::RunRecord* r = s.add_history();
  r->set_run_name(name);
  r->set_scheduled_s(m.scheduled_s());
  r->set_manual(m.manual());
  r->set_state(pb::RUN_BEGUN);
  r->set_epoch(m.epoch());
  r->set_begun_us(cluster_time_us_);
  return Status::Ok();
}

Status CronStateMachine::ApplyLaunchEnd(const pb::LaunchEnd& m) {
  Result<ParsedRunName> parsed = ParseRunName(m.run_name());
  if (!parsed.ok()) return parsed.status();
  if (m.outcome() == pb::RUN_BEGUN || !pb::RunState_IsValid(m.outcome())) {
    return Status::Error(fmt::format("run {}: launch-end needs a final outcome", m.run_name()));
  }
  Result<Job*> found = MutableJob(parsed.value().job);
  if (!found.ok()) return found.status();
  pb::JobState& s = found.value()->state;
  for (pb::RunRecord& r : *s.mutable_history()) {
    if (r.run_name() != m.run_name()) continue;
    if (Finished(r)) return Status::Error(fmt::format("run {}: already ended", m.run_name()));
    r.set_state(m.outcome());
    r.set_reason(m.reason());
    r.set_ended_us(cluster_time_us_);
    if (m.outcome() == pb::RUN_STARTED || m.outcome() == pb::RUN_ALREADY_EXISTED) {
      s.set_last_success_s(std::max(s.last_success_s(), r.scheduled_s()));
      s.set_runs_started(s.runs_started() + 1);
    } else {
      if (m.outcome() == pb::RUN_FAILED) {
        s.set_last_failure_s(std::max(s.last_failure_s(), r.scheduled_s()));
      }
      if (!r.manual()) s.set_expected_missing(s.expected_missing() + 1);
    }
    TrimHistory(*found.value());
    return Status::Ok();
  }
  return Status::Error(fmt::format("run {}: never begun", m.run_name()));
}

Status CronStateMachine::ApplySkip(const pb::SkipRun& m) {
  Result<Job*> found = MutableJob(m.job());
  if (!found.ok()) return found.status();
  Job& job = *found.value();
  if (Status c = CheckInstant(m.scheduled_s(), "skip"); !c.ok()) return c;
  const std::string name = RunName(m.job(), m.scheduled_s());
  pb::JobState& s = job.state;
  auto* history = s.mutable_history();
  auto existing = std::find_if(history->begin(), history->end(),
                               [&](const pb::RunRecord& r) { return r.run_name() == name; });
  if (existing != history->end() && existing->begun_us() != 0) {
    return Status::Error(fmt::format("run {}: already begun; end it with launch-end", name));
  }
  if (Status c = ConsumeScheduledTime(job, m.scheduled_s()); !c.ok()) return c;
  if (existing != history->end()) history->erase(existing);  // skipped again (a backfill)
  pb::RunRecord* r = s.add_history();
  r->set_run_name(name);
  r->set_scheduled_s(m.scheduled_s());
  r->set_state(pb::RUN_SKIPPED);
  r->set_reason(m.reason());
  r->set_ended_us(cluster_time_us_);
  s.set_expected_missing(s.expected_missing() + 1);
  TrimHistory(job);
  return Status::Ok();
}

Status CronStateMachine::ApplyRunNow(const pb::RunNow& m) {
  Result<Job*> found = MutableJob(m.job());
  if (!found.ok()) return found.status();
  pb::JobState& s = found.value()->state;
  const int64_t t = now_s();
  const std::string name = ManualRunName(m.job(), t);
  if (s.manual_requests_s_size() >= static_cast<int>(kManualRequestsMax)) {
    return Status::Error(fmt::format("job {}: {} run-now requests are already pending", m.job(),
                                     kManualRequestsMax));
  }
  const bool pending = std::find(s.manual_requests_s().begin(), s.manual_requests_s().end(), t) !=
                       s.manual_requests_s().end();
  const bool recorded = std::any_of(s.history().begin(), s.history().end(),
                                    [&](const pb::RunRecord& r) { return r.run_name() == name; });
  if (pending || recorded) {
    return Status::Error(fmt::format("run {}: already requested this second", name));
  }
  s.add_manual_requests_s(t);
  return Status::Ok();
}

Status CronStateMachine::ApplyBackfill(const pb::Backfill& m) {
  Result<Job*> found = MutableJob(m.job());
  if (!found.ok()) return found.status();
  Job& job = *found.value();
  pb::JobState& s = job.state;
  if (Status c = CheckInstant(m.from_s(), "backfill"); !c.ok()) return c;
  if (Status c = CheckInstant(m.to_s(), "backfill"); !c.ok()) return c;
  if (m.from_s() > m.to_s()) return Status::Error("backfill: the range ends before it begins");
  if (m.from_s() <= s.history_floor_s()) {
    // Runs before the floor may have left the history: re-running them could run one twice.
    return Status::Error(
        fmt::format("job {}: backfill: {} is older than the retained history "
                    "(from {})",
                    m.job(), FormatRfc3339(m.from_s(), 0, true),
                    FormatRfc3339(s.history_floor_s() + 1, 0, true)));
  }
  // Times at or after the cursor will run anyway; only earlier ones can be backfilled.
  const int64_t last = std::min(m.to_s(), s.next_fire_s() - 1);
  std::vector<int64_t> times;
  for (Result<int64_t> t = NextFireAfter(job, m.from_s() - 1); t.ok() && t.value() <= last;
       t = NextFireAfter(job, t.value())) {
    if (times.size() == kBackfillMax) {
      return Status::Error(fmt::format("job {}: backfill: more than {} scheduled times in range",
                                       m.job(), kBackfillMax));
    }
    times.push_back(t.value());
  }
  for (int64_t t : times) {
    const std::string name = RunName(m.job(), t);
    // A time recorded as begun (whatever its outcome) never runs again; a skipped one may.
    const bool begun = std::any_of(s.history().begin(), s.history().end(), [&](const auto& r) {
      return r.run_name() == name && r.begun_us() != 0;
    });
    const bool queued =
        std::find(s.backfill_s().begin(), s.backfill_s().end(), t) != s.backfill_s().end();
    if (!begun && !queued) s.add_backfill_s(t);
  }
  std::sort(s.mutable_backfill_s()->begin(), s.mutable_backfill_s()->end());
  return Status::Ok();
}

// Drops the oldest finished records beyond history_max; unfinished ones always stay.
void CronStateMachine::TrimHistory(Job& job) {
  pb::JobState& s = job.state;
  int finished = 0;
  for (const pb::RunRecord& r : s.history()) finished += Finished(r) ? 1 : 0;
  auto* history = s.mutable_history();
  for (int i = 0; i < history->size() && finished > static_cast<int>(s.spec().history_max());) {
    if (!Finished(history->Get(i))) {
      ++i;
      continue;
    }
    s.set_history_floor_s(std::max(s.history_floor_s(), history->Get(i).scheduled_s()));
    history->erase(history->begin() + i);
    --finished;
  }
}

std::vector<pb::RunRecord> CronStateMachine::Unfinished() const {
  std::vector<pb::RunRecord> out;
  for (const auto& [name, job] : jobs_) {
    for (const pb::RunRecord& r : job.state.history()) {
      if (!Finished(r)) out.push_back(r);
    }
  }
  return out;
}

pb::Snapshot CronStateMachine::TakeSnapshot() const {
  pb::Snapshot snapshot;
  snapshot.set_cluster_time_us(cluster_time_us_);
  snapshot.set_commands_applied(commands_applied_);
  snapshot.set_commands_rejected(commands_rejected_);
  for (const auto& [name, job] : jobs_) *snapshot.add_jobs() = job.state;
  return snapshot;
}

Status CronStateMachine::LoadSnapshot(const pb::Snapshot& snapshot) {
  std::map<std::string, Job, std::less<>> jobs;
  for (const pb::JobState& state : snapshot.jobs()) {
    pb::JobSpec spec = state.spec();
    Result<CompiledJob> compiled = CompileJobSpec(spec, *zones_);
    if (!compiled.ok()) return Status::Error("snapshot: " + compiled.status().message());
    if (!jobs.emplace(spec.name(), Job{state, compiled.value().schedule, compiled.value().zone})
             .second) {
      return Status::Error(fmt::format("snapshot: job {} appears twice", spec.name()));
    }
  }
  jobs_ = std::move(jobs);
  cluster_time_us_ = snapshot.cluster_time_us();
  commands_applied_ = snapshot.commands_applied();
  commands_rejected_ = snapshot.commands_rejected();
  return Status::Ok();
}

uint64_t CronStateMachine::Checksum() const {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream out(&stream);
  out.SetSerializationDeterministic(true);
  TakeSnapshot().SerializeToCodedStream(&out);
  out.Trim();
  return HashBytes(bytes);
}

}  // namespace paxcron::cron
