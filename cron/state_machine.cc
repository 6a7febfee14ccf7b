#include "cron/state_machine.h"

#include <fmt/format.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
#include <limits>

#include "common/hash.h"
#include "cron/civil_time.h"
#include "cron/history.h"
#include "cron/run_name.h"

namespace paxcron::cron {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

int64_t FloorSeconds(int64_t us) { return FloorDiv(us, 1'000'000); }

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
    case pb::Command::kRunFinished:
      result = ApplyRunFinished(command.run_finished());
      break;
    case pb::Command::kTakeOverRun:
      result = ApplyTakeOver(command.take_over_run());
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
  Job fresh{pb::JobState(), compiled.value().schedule, compiled.value().zone, {}};
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
  fresh.state.set_created_s(now_s());
  fresh.state.set_next_fire_s(first.value());
  fresh.state.set_history_floor_s(std::numeric_limits<int64_t>::min());
  jobs_.emplace(spec.name(), std::move(fresh));
  return Status::Ok();
}

Result<bool> CronStateMachine::ConsumeScheduledTime(Job& job, int64_t t) {
  pb::JobState& s = job.state;
  if (t == s.next_fire_s()) {
    Result<int64_t> next = NextFireAfter(job, t);
    s.set_next_fire_s(next.ok() ? next.value() : kNever);
    return false;
  }
  auto& queue = *s.mutable_backfill_s();
  auto it = std::find(queue.begin(), queue.end(), t);
  if (it != queue.end()) {
    queue.erase(it);
    return true;
  }
  return Status::Error(fmt::format(
      "job {}: {} is neither its next scheduled time ({}) nor a "
      "queued backfill time",
      s.spec().name(), FormatRfc3339(t, 0, true),
      s.next_fire_s() == kNever ? std::string("never") : FormatRfc3339(s.next_fire_s(), 0, true)));
}

void CronStateMachine::IndexRecord(Job& job, const pb::RunRecord& record, int delta) {
  auto [it, inserted] = job.names.try_emplace(RunKey{record.scheduled_s(), record.manual()});
  it->second.records += delta;
  if (record.begun_us() != 0) it->second.begun += delta;
  PAXCRON_ASSERT(it->second.records < (1u << 31) && it->second.begun <= it->second.records);
  if (it->second.records == 0) job.names.erase(it);
}

void CronStateMachine::RemoveFinished(Job& job, std::string_view name) {
  auto* history = job.state.mutable_history();
  for (auto it = history->begin(); it != history->end(); ++it) {
    if (it->run_name() != name) continue;
    IndexRecord(job, *it, -1);
    history->erase(it);
    return;
  }
}

Status CronStateMachine::ApplyLaunchBegin(const pb::LaunchBegin& m) {
  Result<Job*> found = MutableJob(m.job());
  if (!found.ok()) return found.status();
  Job& job = *found.value();
  pb::JobState& s = job.state;
  if (Status c = CheckInstant(m.scheduled_s(), "launch-begin"); !c.ok()) return c;
  const std::string name =
      m.manual() ? ManualRunName(m.job(), m.scheduled_s()) : RunName(m.job(), m.scheduled_s());
  auto known = job.names.find(RunKey{m.scheduled_s(), m.manual()});
  if (known != job.names.end() && known->second.begun > 0) {
    return Status::Error(fmt::format("run {}: already begun", name));
  }
  if (s.spec().overlap() == pb::OVERLAP_FORBID && s.open_runs_size() > 0) {
    return Status::Error(
        fmt::format("run {}: overlap forbidden while {} runs", name, s.open_runs(0).run_name()));
  }
  bool backfill = false;
  if (m.manual()) {
    auto& requests = *s.mutable_manual_requests_s();
    auto it = std::find(requests.begin(), requests.end(), m.scheduled_s());
    if (it == requests.end()) return Status::Error(fmt::format("run {}: no such request", name));
    requests.erase(it);
  } else {
    if (s.paused()) return Status::Error(fmt::format("run {}: job is paused", name));
    Result<bool> consumed = ConsumeScheduledTime(job, m.scheduled_s());
    if (!consumed.ok()) return consumed.status();
    backfill = consumed.value();
  }
  // A backfilled time that was skipped before: its skip record gives way to the run, so that
  // one run name has one record.
  if (known != job.names.end()) RemoveFinished(job, name);
  pb::RunRecord* r = s.add_open_runs();
  r->set_run_name(name);
  r->set_scheduled_s(m.scheduled_s());
  r->set_manual(m.manual());
  r->set_backfill(backfill);
  r->set_state(pb::RUN_BEGUN);
  r->set_epoch(m.epoch());
  r->set_begun_us(cluster_time_us_);
  IndexRecord(job, *r, +1);
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
  Job& job = *found.value();
  pb::JobState& s = job.state;
  auto* open = s.mutable_open_runs();
  auto it = std::find_if(open->begin(), open->end(),
                         [&](const pb::RunRecord& r) { return r.run_name() == m.run_name(); });
  if (it == open->end()) {
    return Status::Error(
        fmt::format("run {}: {}", m.run_name(),
                    job.names.contains(RunKey{parsed.value().scheduled_s, parsed.value().manual})
                        ? "already ended"
                        : "never begun"));
  }
  pb::RunRecord* r = s.add_history();
  *r = std::move(*it);
  open->erase(it);
  r->set_state(m.outcome());
  r->set_reason(m.reason());
  r->set_ended_us(cluster_time_us_);
  if (m.outcome() == pb::RUN_STARTED || m.outcome() == pb::RUN_ALREADY_EXISTED) {
    s.set_last_success_s(std::max(s.last_success_s(), r->scheduled_s()));
    s.set_runs_started(s.runs_started() + 1);
  } else {
    if (m.outcome() == pb::RUN_FAILED) {
      s.set_last_failure_s(std::max(s.last_failure_s(), r->scheduled_s()));
    }
    if (!r->manual()) s.set_expected_missing(s.expected_missing() + 1);
  }
  TrimHistory(job);
  return Status::Ok();
}

Status CronStateMachine::ApplyTakeOver(const pb::TakeOverRun& m) {
  Result<ParsedRunName> parsed = ParseRunName(m.run_name());
  if (!parsed.ok()) return parsed.status();
  Result<Job*> found = MutableJob(parsed.value().job);
  if (!found.ok()) return found.status();
  auto* open = found.value()->state.mutable_open_runs();
  auto it = std::find_if(open->begin(), open->end(),
                         [&](const pb::RunRecord& r) { return r.run_name() == m.run_name(); });
  if (it == open->end()) return Status::Error(fmt::format("run {}: not open", m.run_name()));
  if (m.epoch() <= it->epoch()) {
    return Status::Error(fmt::format("run {}: take-over by epoch {}, not after the record's {}",
                                     m.run_name(), m.epoch(), it->epoch()));
  }
  it->set_epoch(m.epoch());
  return Status::Ok();
}

Status CronStateMachine::ApplyRunFinished(const pb::RunFinished& m) {
  Result<ParsedRunName> parsed = ParseRunName(m.run_name());
  if (!parsed.ok()) return parsed.status();
  Result<Job*> found = MutableJob(parsed.value().job);
  if (!found.ok()) return found.status();
  pb::JobState& s = found.value()->state;
  if (m.exit().output_tail().size() > kOutputTailMax) {
    return Status::Error(fmt::format("run {}: output tail of {} bytes, over {}", m.run_name(),
                                     m.exit().output_tail().size(), kOutputTailMax));
  }
  // Usually a recent run: search from the newest. The launch's end may be applied before or
  // after the process's; a run that was never started has no process to report on.
  auto find = [&](auto* runs) -> pb::RunRecord* {
    for (int i = runs->size() - 1; i >= 0; --i) {
      if (runs->Get(i).run_name() == m.run_name()) return runs->Mutable(i);
    }
    return nullptr;
  };
  pb::RunRecord* r = find(s.mutable_open_runs());
  if (r == nullptr) r = find(s.mutable_history());
  if (r == nullptr) {
    return Status::Error(fmt::format("run {}: not in the history", m.run_name()));
  }
  if (r->state() != pb::RUN_BEGUN && r->state() != pb::RUN_STARTED) {
    return Status::Error(
        fmt::format("run {}: {}, no process to report on", m.run_name(), RunStateName(r->state())));
  }
  if (r->exit().reported()) {
    return Status::Error(fmt::format("run {}: its exit is already recorded", m.run_name()));
  }
  *r->mutable_exit() = m.exit();
  r->mutable_exit()->set_reported(true);
  r->mutable_exit()->set_finished_us(cluster_time_us_);
  return Status::Ok();
}

Status CronStateMachine::ApplySkip(const pb::SkipRun& m) {
  Result<Job*> found = MutableJob(m.job());
  if (!found.ok()) return found.status();
  Job& job = *found.value();
  if (Status c = CheckInstant(m.scheduled_s(), "skip"); !c.ok()) return c;
  const std::string name = RunName(m.job(), m.scheduled_s());
  auto known = job.names.find(RunKey{m.scheduled_s(), false});
  if (known != job.names.end() && known->second.begun > 0) {
    return Status::Error(fmt::format("run {}: already begun; end it with launch-end", name));
  }
  Result<bool> consumed = ConsumeScheduledTime(job, m.scheduled_s());
  if (!consumed.ok()) return consumed.status();
  if (known != job.names.end()) RemoveFinished(job, name);  // skipped again (a backfill)
  pb::JobState& s = job.state;
  pb::RunRecord* r = s.add_history();
  r->set_run_name(name);
  r->set_scheduled_s(m.scheduled_s());
  r->set_backfill(consumed.value());
  r->set_state(pb::RUN_SKIPPED);
  r->set_reason(m.reason());
  r->set_ended_us(cluster_time_us_);
  IndexRecord(job, *r, +1);
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
  if (pending || found.value()->names.contains(RunKey{t, true})) {
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
    // A time recorded as begun (whatever its outcome) never runs again; a skipped one may.
    auto known = job.names.find(RunKey{t, false});
    const bool begun = known != job.names.end() && known->second.begun > 0;
    const bool queued =
        std::find(s.backfill_s().begin(), s.backfill_s().end(), t) != s.backfill_s().end();
    if (!begun && !queued) s.add_backfill_s(t);
  }
  std::sort(s.mutable_backfill_s()->begin(), s.mutable_backfill_s()->end());
  return Status::Ok();
}

// Drops the oldest finished records beyond history_max, a sixteenth at a time so that a trim is
// rare (open runs are kept elsewhere and never dropped).
void CronStateMachine::TrimHistory(Job& job) {
  pb::JobState& s = job.state;
  const int max = static_cast<int>(s.spec().history_max());
  if (s.history_size() <= max + max / 16) return;
  const int excess = s.history_size() - max;
  for (int i = 0; i < excess; ++i) {
    const pb::RunRecord& r = s.history(i);
    s.set_history_floor_s(std::max(s.history_floor_s(), r.scheduled_s()));
    IndexRecord(job, r, -1);
  }
  s.mutable_history()->DeleteSubrange(0, excess);
}

std::vector<pb::RunRecord> CronStateMachine::Unfinished() const {
  std::vector<pb::RunRecord> out;
  for (const auto& [name, job] : jobs_) {
    out.insert(out.end(), job.state.open_runs().begin(), job.state.open_runs().end());
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
  pb::Snapshot copy = snapshot;
  return LoadSnapshot(std::move(copy));
}

Status CronStateMachine::LoadSnapshot(pb::Snapshot&& snapshot) {
  std::map<std::string, Job, std::less<>> jobs;
  ScheduleCache schedules;
  for (pb::JobState& state : *snapshot.mutable_jobs()) {
    Result<CompiledJob> compiled = CompileJobSpec(*state.mutable_spec(), *zones_, &schedules);
    if (!compiled.ok()) return Status::Error("snapshot: " + compiled.status().message());
    std::string name = state.spec().name();
    auto [it, inserted] =
        jobs.emplace(std::move(name),
                     Job{std::move(state), compiled.value().schedule, compiled.value().zone, {}});
    if (!inserted) {
      return Status::Error(fmt::format("snapshot: job {} appears twice", it->first));
    }
    Job& job = it->second;
    for (const pb::RunRecord& r : job.state.history()) IndexRecord(job, r, +1);
    for (const pb::RunRecord& r : job.state.open_runs()) IndexRecord(job, r, +1);
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
