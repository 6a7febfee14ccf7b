// The replicated cron in the simulator (runs with --jobs N): every node applies the cron
// commands chosen in the log to its own CronStateMachine; the node holding the lease runs the
// CronLeader loop; its launches and lookups travel as requests to the simulated datacenter
// scheduler (dc_scheduler.h), which can lose them, lose replies, answer slowly or be down. The
// scheduler is the oracle: the checkers judge every real start against the lease and the
// replicated history.
#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <set>
#include <string_view>
#include <vector>

#include "common/hash.h"
#include "cron/history.h"
#include "cron/run_name.h"
#include "sim/world.h"

namespace paxcron::sim {
namespace {

constexpr uint64_t kCronCommandBit = uint64_t{1} << 62;  // ids of paxos commands carrying cron
constexpr int64_t kCronTickUs = 50'000;
// A run may start the clock guard's tolerance early (kSimClockToleranceUs, world.h), plus a
// margin for the width of the guard's estimate, before the `early` checker objects.
constexpr int64_t kEarlyBoundUs = kSimClockToleranceUs + 2'000'000;
constexpr int64_t kRpcTimeoutUs = 1'000'000;
constexpr int64_t kWorkloadIntervalUs = 1'000'000;
constexpr int64_t kConcludeWithinUs = 30'000'000;  // a settled cluster concludes launches by then

}  // namespace

int64_t World::CronWall(Node& n) { return NowOf(n).wall_us; }

// How far ahead of true time a majority of the wall clocks are, at least: the quorum-th largest
// clock error (read without jitter). A leader whose clock agrees with a majority's within the
// guard's tolerance is at most that much plus the tolerance ahead.
int64_t World::MajorityClockAheadUs() const {
  std::vector<int64_t> errors;
  for (uint32_t i = 1; i <= options_.nodes; ++i) {
    errors.push_back(nodes_[i].clock.WallError(now_us_));
  }
  std::sort(errors.begin(), errors.end(), std::greater<>());
  const uint32_t quorum = options_.nodes / 2 + 1;
  PAXCRON_ASSERT(quorum >= 1 && quorum <= errors.size());
  return errors[quorum - 1];
}

// The jobs of a cron run: random schedules (every 10 s to hourly, some hashed with '?', some in
// other zones) and every policy, drawn from the seed.
void World::InitCron() {
  static const char* kSchedules[] = {"* * * * * *",    "*/10 * * * * *", "30 * * * * *",
                                     "* * * * *",      "*/2 * * * *",    "? * * * *",
                                     "*/15 * * * * *", "?(0-9) * * * *"};
  static const char* kZones[] = {
      "", "", "", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"};
  for (uint32_t i = 0; i < options_.cron_jobs; ++i) {
    cron::pb::JobSpec spec;
    spec.set_name(fmt::format("job{:03}", i));
    if (!options_.cron_schedule.empty()) {
      spec.set_schedule(options_.cron_schedule);
      spec.set_command(fmt::format("echo {}", spec.name()));
      spec.set_history_max(options_.cron_history_max);
      job_specs_.push_back(std::move(spec));
      continue;
    }
    spec.set_schedule(kSchedules[cron_rng_.Range(0, std::size(kSchedules) - 1)]);
    spec.set_time_zone(kZones[cron_rng_.Range(0, std::size(kZones) - 1)]);
    spec.set_command(fmt::format("echo {}", spec.name()));
    spec.set_missed(static_cast<cron::pb::Missed>(cron_rng_.Range(0, 2)));
    spec.set_max_catchup(static_cast<uint32_t>(cron_rng_.Range(1, 5)));
    spec.set_deadline_s(cron_rng_.Chance(300'000) ? cron_rng_.Range(5, 120) : 0);
    spec.set_overlap(static_cast<cron::pb::Overlap>(cron_rng_.Range(0, 1)));
    spec.set_on_unknown(static_cast<cron::pb::OnUnknown>(cron_rng_.Range(0, 1)));
    // By default the final check reads the whole history; --history-max bounds it (long runs).
    spec.set_history_max(options_.cron_history_max != 0 ? options_.cron_history_max
                                                        : cron::kHistoryMaxLimit);
    if (cron_rng_.Chance(250'000)) {
      // A job that must run (a payroll): every scheduled time runs, late if need be.
      spec.set_missed(cron::pb::MISSED_ALL);
      spec.set_max_catchup(cron::kMaxCatchupLimit);
      spec.set_deadline_s(0);
      spec.set_overlap(cron::pb::OVERLAP_ALLOW);
      spec.set_on_unknown(cron::pb::ON_UNKNOWN_RELAUNCH);
    }
    job_specs_.push_back(std::move(spec));
  }
}

void World::ResetCron(Node& n) {
  cron::LeaderOptions o;
  o.lookup_after_unknown_us = 2 * options_.request_deadline_us + 1'000'000;
  o.bug_launch_before_commit = options_.bugs.launch_before_commit;
  o.bug_retry_without_lookup = options_.bugs.retry_without_lookup;
  o.bug_no_reconcile = options_.bugs.no_reconcile;
  o.bug_missed_all_skips = options_.bugs.missed_all_skips;
  if (options_.bugs.coarse_poll) o.bug_poll_interval_us = 10'000'000;
  // Failovers here take seconds, not minutes: a short grace exercises the missed policies.
  o.missed_grace_us = 5'000'000;
  n.sm = std::make_unique<cron::CronStateMachine>(zones_);
  n.leader = std::make_unique<cron::CronLeader>(*n.sm, o);
  n.cron_tick_at_us = -1;
}

// Hands a cron command to the node's replica, as the data of a paxos command; true if accepted.
bool World::ProposeCron(Node& n, const cron::pb::Command& c) {
  paxos::pb::Command command;
  command.set_id(kCronCommandBit | (uint64_t{n.id} << 40) | ++n.command_seq);
  command.set_data(c.SerializeAsString());
  checkers_.OnProposed(command.id(), HashBytes(command.data()));
  if (c.has_skip_run()) {
    skip_origins_[cron::RunName(c.skip_run().job(), c.skip_run().scheduled_s())] =
        SkipOrigin{now_us_, CronWall(n)};
  }
  return n.replica->Propose(std::move(command), NowOf(n)).ok();
}

// The clock-integrity guard: a leader acts on its wall clock only while a majority's readings
// agree with it within kSimClockToleranceUs (paxos/clock_guard.h). One that a majority certainly
// puts beyond it (it would fire runs minutes early or late) stops its cron loop, says why once,
// and hands over to a member whose clock agrees; one with too few fresh readings (just elected)
// waits for them. True while the guard holds this node back; `handed_over` when it just did.
bool World::ClockGuardHolds(Node& n, bool* handed_over) {
  *handed_over = false;
  if (options_.bugs.no_clock_guard) return false;
  const paxos::Now now = NowOf(n);
  const paxos::ClockJudgement j = n.replica->JudgeOwnClock(now);
  if (j.verdict == paxos::ClockVerdict::kAgrees) {
    n.clock_guard_tripped = false;
    return false;
  }
  if (j.verdict == paxos::ClockVerdict::kOff && n.replica->role() == paxos::Role::kLeader) {
    // Said once per episode; the hand-over is tried again at every step until it happens.
    const paxos::NodeId to = n.replica->ClockAgreeingPeer(now);
    if (!n.clock_guard_tripped) {
      n.clock_guard_tripped = true;
      ++stats_.clock_guard_trips;
      trace_->Emitf(now_us_, n.id, "clock_guard",
                    ",\"offset_lo_us\":{},\"offset_hi_us\":{},\"sources\":{},\"agreeing\":{},"
                    "\"heard\":{},\"to\":{}",
                    j.majority->interval.lo_us, j.majority->interval.hi_us, j.majority->sources,
                    j.agreeing, j.heard, to.value);
    }
    if (to.value != 0 && n.replica->HandOver(to, now).ok()) {
      trace_->Emitf(now_us_, n.id, "handover", ",\"to\":{}", to.value);
      DipHealth(Health::kMajority);
      *handed_over = true;
    }
  }
  return true;
}

// Runs the node's cron leader loop once; true when it proposed something to the replica.
bool World::CronStep(Node& n) {
  if (!n.up || n.leader == nullptr) return false;
  bool handed_over = false;
  const bool guarded = ClockGuardHolds(n, &handed_over);
  const bool holds = n.replica->HoldsLease(n.clock.Mono(now_us_)) && !guarded;
  if (holds && !n.leader->active()) {
    n.leader->Start(n.replica->Lease().epoch.value, CronWall(n));
    trace_->Emitf(now_us_, n.id, "cron_leader", ",\"epoch\":{}", n.replica->Lease().epoch.value);
    leader_disruptions_.push_back(now_us_);
  } else if (!holds && n.leader->active()) {
    // The stale-leader-launch bug never looks at the lease: it stops acting only once it hears
    // of another leader.
    const paxos::NodeId hint = n.replica->leader_hint();
    if (!options_.bugs.stale_leader_launch || (hint.value != 0 && hint != n.config.self)) {
      n.leader->Stop();
    }
  }
  if (n.leader->active() && n.replica->role() == paxos::Role::kLeader) {
    n.leader->NoteProposerBallot(n.replica->ballot().round, CronWall(n));
  }
  if (n.leader->active()) n.leader->Tick(CronWall(n));
  cron::LeaderOutput out = n.leader->TakeOutput();
  bool proposed = false;
  for (const cron::pb::Command& c : out.proposals) proposed |= ProposeCron(n, c);
  for (const cron::LaunchRequest& l : out.launches) {
    // Right before the call, with a fresh clock reading: a node that lost its lease (a pause,
    // a partition) must not act on decisions it took while it held it.
    if (!options_.bugs.stale_leader_launch && !n.replica->HoldsLease(n.clock.Mono(now_us_))) {
      continue;
    }
    SendSchedulerRpc(n, true, l.run_name, l.epoch);
  }
  for (const cron::LookupRequest& l : out.lookups) SendSchedulerRpc(n, false, l.run_name, 0);
  proposed |= handed_over;  // the hand-over's messages wait in the replica's output
  if (n.leader->active() && n.cron_tick_at_us < 0) {
    n.cron_tick_at_us = now_us_ + kCronTickUs;
    Schedule(n.cron_tick_at_us, Event::Kind::kCronTick, n.id,
             static_cast<uint64_t>(n.cron_tick_at_us));
  }
  return proposed;
}

void World::ApplyCronCommands(Node& n, const paxos::pb::Entry& entry, bool traced) {
  for (const paxos::pb::Command& command : entry.commands()) {
    if ((command.id() & kCronCommandBit) == 0 || (command.id() >> 63) != 0) continue;
    cron::pb::Command c;
    if (!c.ParseFromString(command.data())) continue;  // cannot happen: we wrote it
    // The state machine's only time is the entry's stamp; the local-clock-apply bug reads the
    // node's own wall clock instead (PITFALLS, "Leases": followers never read a clock to apply).
    const int64_t stamp_us =
        options_.bugs.local_clock_apply ? CronWall(n) : static_cast<int64_t>(entry.stamp_us());
    const bool ok = n.sm->Apply(c, stamp_us).ok();
    if (n.leader->active()) n.leader->OnApplied(c, ok, CronWall(n));
    // Trace each accepted cron event once, when the first node applies it.
    if (!traced || !ok || n.applied <= cron_traced_slot_) continue;
    if (c.has_launch_begin()) {
      const auto& b = c.launch_begin();
      if (const cron::pb::JobState* job = n.sm->FindJob(b.job());
          job != nullptr && job->open_runs_size() > 0 && job->open_runs().rbegin()->backfill()) {
        backfill_runs_.insert(job->open_runs().rbegin()->run_name());
      }
      trace_->Emitf(now_us_, n.id, "launch_begin", ",\"run\":{},\"epoch\":{}",
                    JsonString(b.manual() ? cron::ManualRunName(b.job(), b.scheduled_s())
                                          : cron::RunName(b.job(), b.scheduled_s())),
                    b.epoch());
    } else if (c.has_take_over_run()) {
      trace_->Emitf(now_us_, n.id, "take_over", ",\"run\":{},\"epoch\":{}",
                    JsonString(c.take_over_run().run_name()), c.take_over_run().epoch());
    } else if (c.has_launch_end()) {
      trace_->Emitf(now_us_, n.id, "launch_end", ",\"run\":{},\"outcome\":\"{}\",\"reason\":{}",
                    JsonString(c.launch_end().run_name()),
                    cron::RunStateName(c.launch_end().outcome()),
                    JsonString(c.launch_end().reason()));
    } else if (c.has_skip_run()) {
      ++stats_.runs_skipped;
      JudgeSkip(n, c.skip_run());
      trace_->Emitf(now_us_, n.id, "skipped", ",\"run\":{},\"reason\":{}",
                    JsonString(cron::RunName(c.skip_run().job(), c.skip_run().scheduled_s())),
                    JsonString(c.skip_run().reason()));
    }
  }
  if (traced) cron_traced_slot_ = std::max(cron_traced_slot_, n.applied);
}

void World::SendSchedulerRpc(Node& n, bool launch, const std::string& run_name, uint64_t epoch) {
  const uint64_t id = ++rpc_id_;
  Rpc r;
  r.node = n.id;
  r.incarnation = n.incarnation;
  r.launch = launch;
  r.run_name = run_name;
  r.scheduler_name = run_name;
  if (options_.bugs.name_without_time) {
    r.scheduler_name = run_name.substr(0, run_name.find('@'));  // the bug: the job alone
  }
  r.epoch = epoch;
  r.sent_us = now_us_;
  r.sender_wall_us = CronWall(n);
  if (Result<cron::ParsedRunName> parsed = cron::ParseRunName(run_name); parsed.ok()) {
    r.due_at_poll_us = n.clock.PollThatJumpedOver(now_us_, parsed.value().scheduled_s * 1'000'000);
  }
  // Judged on true time, like the lease checker: did this node hold the lease as it sent this?
  r.sender_held_lease = n.lease_held && n.lease_true_expiry_us > now_us_;
  if (launch) ++stats_.launch_rpcs;
  trace_->Emitf(now_us_, n.id, "launch_rpc", ",\"rpc\":{},\"op\":\"{}\",\"run\":{},\"epoch\":{}",
                id, launch ? "launch" : "lookup", JsonString(run_name), epoch);
  rpcs_.emplace(id, std::move(r));
  const LinkConditions& net = network_.conditions();
  if (net.loss_per_million == 0 || !net_rng_.Chance(net.loss_per_million)) {
    int64_t at = now_us_ + net_rng_.RangeSigned(500, 5'000);
    if (net.reorder_per_million > 0 && net_rng_.Chance(net.reorder_per_million)) {
      at += net_rng_.RangeSigned(0, 3'000'000);  // a slow request: it may outlive the timeout
    }
    Schedule(at, Event::Kind::kSchedulerArrive, 0, id);
  }
  Schedule(now_us_ + kRpcTimeoutUs, Event::Kind::kRpcTimeout, n.id, id);
}

void World::OnSchedulerArrive(uint64_t id) {
  auto it = rpcs_.find(id);
  PAXCRON_ASSERT(it != rpcs_.end());
  Rpc& r = it->second;
  if (now_us_ < scheduler_down_until_us_) return;  // down: the request is lost, no reply
  if (r.launch) {
    r.launch_status = scheduler_.Launch(r.scheduler_name, r.node, r.epoch, r.sent_us, now_us_);
    if (r.launch_status == cron::LaunchStatus::kStarted) {
      ++stats_.runs_started;
      const auto minute = static_cast<size_t>(now_us_ / 60'000'000);
      if (stats_.starts_by_minute.size() <= minute) stats_.starts_by_minute.resize(minute + 1);
      ++stats_.starts_by_minute[minute];
      // Lateness on the clock of the node that sent the request: for scheduled (not manual, not
      // backfilled) runs, first starts only.
      Result<cron::ParsedRunName> parsed = cron::ParseRunName(r.run_name);
      const bool judged = parsed.ok() && !parsed.value().manual &&
                          backfill_runs_.erase(r.run_name) == 0 &&
                          scheduler_.StartsOf(r.scheduler_name) == 1;
      int64_t late_us = judged ? (r.sender_wall_us - parsed.value().scheduled_s * 1'000'000) +
                                     (now_us_ - r.sent_us)
                               : 0;
      // A clock corrected forward over the scheduled time read it at the correction.
      if (judged && r.due_at_poll_us >= 0) late_us = std::min(late_us, now_us_ - r.due_at_poll_us);
      trace_->Emitf(now_us_, 0, "started", ",\"run\":{},\"by\":{},\"epoch\":{}{}",
                    JsonString(r.scheduler_name), r.node, r.epoch,
                    judged ? fmt::format(",\"late_us\":{}", late_us) : std::string());
      checkers_.OnCronStart(now_us_, r.scheduler_name, scheduler_.StartsOf(r.scheduler_name),
                            r.node, r.epoch, r.sent_us, r.sender_held_lease);
      if (judged) CheckLateness(r.run_name, now_us_ - late_us, late_us, true);
      if (judged) {
        // Early, in true time. The guard promises agreement with a majority's clocks, not with
        // true time: judged against the time a majority's clocks have reached when those are
        // ahead themselves (skew steps and a jump's slow slew can leave two of five 2.7 s ahead:
        // clock-jump sweep, seed 47, a leader 7.45 s ahead agreeing with them within its 5 s).
        const int64_t early_us =
            parsed.value().scheduled_s * 1'000'000 - (kSimWallEpochUs + now_us_);
        stats_.early_max_us = std::max(stats_.early_max_us, early_us);
        checkers_.OnCronEarly(now_us_, r.run_name, r.node, early_us,
                              std::max<int64_t>(0, MajorityClockAheadUs()), kEarlyBoundUs);
      }
    }
  } else {
    r.lookup_status = scheduler_.Lookup(r.scheduler_name);
  }
  const LinkConditions& net = network_.conditions();
  if (net.loss_per_million > 0 && net_rng_.Chance(net.loss_per_million)) return;  // reply lost
  Schedule(now_us_ + net_rng_.RangeSigned(500, 5'000), Event::Kind::kSchedulerReply, r.node, id);
}

// A reply, or the request's timeout, whichever comes first; the other is ignored.
void World::OnSchedulerReply(uint64_t id, bool timed_out) {
  auto it = rpcs_.find(id);
  if (it == rpcs_.end() || it->second.resolved) return;
  Rpc& r = it->second;
  r.resolved = true;
  Node& n = nodes_[r.node];
  if (!n.up || n.incarnation != r.incarnation || n.leader == nullptr) return;
  if (r.launch) {
    n.leader->OnLaunchResult(r.run_name, timed_out ? cron::LaunchStatus::kUnknown : r.launch_status,
                             CronWall(n));
  } else {
    n.leader->OnLookupResult(r.run_name, timed_out ? cron::LookupStatus::kUnknown : r.lookup_status,
                             CronWall(n));
  }
  Pump(n);
}

// The operators: make sure every job exists (re-proposing until it is chosen), and now and then
// ask for a manual run.
void World::CronWorkload() {
  uint32_t best = 0;
  for (uint32_t i = 1; i <= options_.nodes; ++i) {
    if (nodes_[i].up && (best == 0 || nodes_[i].applied > nodes_[best].applied)) best = i;
  }
  if (best != 0) {
    Node& n = nodes_[1 + cron_rng_.Range(0, options_.nodes - 1)];
    if (n.up) {
      // Whatever is lost (no leader, a crash) is proposed again a second later.
      auto propose = [&](const cron::pb::Command& c) { (void)ProposeCron(n, c); };
      for (const cron::pb::JobSpec& spec : job_specs_) {
        if (nodes_[best].sm->FindJob(spec.name()) != nullptr) continue;
        cron::pb::Command put;
        *put.mutable_put_job()->mutable_spec() = spec;
        propose(put);
      }
      // Now and then an operator asks for a manual run, or a backfill of the last minutes.
      if (!job_specs_.empty() && cron_rng_.Chance(50'000)) {
        cron::pb::Command now;
        now.mutable_run_now()->set_job(
            job_specs_[cron_rng_.Range(0, job_specs_.size() - 1)].name());
        propose(now);
      }
      if (!job_specs_.empty() && cron_rng_.Chance(30'000)) {
        cron::pb::Command backfill;
        const int64_t wall_s = CronWall(n) / 1'000'000;
        backfill.mutable_backfill()->set_job(
            job_specs_[cron_rng_.Range(0, job_specs_.size() - 1)].name());
        backfill.mutable_backfill()->set_from_s(wall_s - 300);
        backfill.mutable_backfill()->set_to_s(wall_s);
        propose(backfill);
      }
      Pump(n);
    }
  }
  Schedule(now_us_ + kWorkloadIntervalUs, Event::Kind::kCronWorkload, 0, 0);
}

namespace {

// A run so old that its record may have been trimmed from a bounded history (scale runs).
bool LeftTheHistory(const cron::CronStateMachine& sm, const std::string& run) {
  Result<cron::ParsedRunName> parsed = cron::ParseRunName(run);
  if (!parsed.ok()) return false;
  const cron::pb::JobState* job = sm.FindJob(parsed.value().job);
  return job != nullptr && parsed.value().scheduled_s <= job->history_floor_s();
}

}  // namespace

std::string World::HistoryOf(const std::string& job) {
  uint32_t best = 0;
  for (uint32_t i = 1; i <= options_.nodes; ++i) {
    if (nodes_[i].up && nodes_[i].sm && (best == 0 || nodes_[i].applied > nodes_[best].applied)) {
      best = i;
    }
  }
  if (best == 0) return "no node is up\n";
  const cron::pb::JobState* state = nodes_[best].sm->FindJob(job);
  if (state == nullptr) return fmt::format("no job named '{}'\n", job);
  return fmt::format("node {} (applied slot {}): ", best, nodes_[best].applied) +
         cron::FormatJobHistory(*state);
}

// After healing and settling: the replicated history must agree with the oracle (MISSION.md:
// every launch and every skip visible, nothing recorded that did not happen), and every launch
// begun long enough ago must have been concluded.
void World::FinalCronChecks() {
  if (stats_.liveness_us < 0) return;  // the liveness checker has spoken already
  uint32_t best = 0;  // the up node that applied the most (a broken one is down for good)
  for (uint32_t i = 1; i <= options_.nodes; ++i) {
    if (nodes_[i].up && (best == 0 || nodes_[i].applied > nodes_[best].applied)) best = i;
  }
  PAXCRON_ASSERT(best != 0);  // liveness was met: every node that can run is up
  Node& n = nodes_[best];
  const int64_t wall = CronWall(n);
  const cron::CronStateMachine& sm = *n.sm;
  std::string problem;
  sm.ForEachJob([&](const cron::pb::JobState& job) {
    std::vector<const cron::pb::RunRecord*> records;
    for (const cron::pb::RunRecord& r : job.history()) records.push_back(&r);
    for (const cron::pb::RunRecord& r : job.open_runs()) records.push_back(&r);
    for (const cron::pb::RunRecord* record : records) {
      const cron::pb::RunRecord& r = *record;
      if (!problem.empty()) return;
      const size_t starts = scheduler_.StartsOf(r.run_name());
      switch (r.state()) {
        case cron::pb::RUN_BEGUN:
          if (r.begun_us() < wall - kConcludeWithinUs) {
            problem = fmt::format(
                "run {} began at cluster time {}us and was never concluded, "
                "though the cluster has healed and settled",
                r.run_name(), r.begun_us());
          }
          break;
        case cron::pb::RUN_STARTED:
        case cron::pb::RUN_ALREADY_EXISTED:
          if (starts == 0) {
            problem = fmt::format("run {} is recorded as {} but the scheduler never started it",
                                  r.run_name(), cron::RunStateName(r.state()));
          }
          break;
        default:
          if (starts != 0) {
            problem = fmt::format("run {} is recorded as {} ({}) but the scheduler started it",
                                  r.run_name(), cron::RunStateName(r.state()), r.reason());
          }
          break;
      }
    }
  });
  std::set<std::string_view> recorded;
  sm.ForEachJob([&](const cron::pb::JobState& job) {
    for (const cron::pb::RunRecord& r : job.history()) recorded.insert(r.run_name());
    for (const cron::pb::RunRecord& r : job.open_runs()) recorded.insert(r.run_name());
  });
  for (const Start& s : scheduler_.starts()) {
    if (!problem.empty()) break;
    if (!recorded.contains(s.run_name) && !LeftTheHistory(sm, s.run_name)) {
      problem = fmt::format(
          "the scheduler started {} at t={}us (request of node {}, epoch {}) "
          "but the replicated history has no such run",
          s.run_name, s.t_us, s.node, s.epoch);
    }
  }
  if (!problem.empty()) {
    checkers_.Report("history", now_us_, problem);
    return;
  }
  // Exactly once, for jobs that must run: every scheduled time from the job's creation to the
  // healing (less a margin for clock offsets) started exactly once.
  sm.ForEachJob([&](const cron::pb::JobState& job) {
    const cron::pb::JobSpec& spec = job.spec();
    if (!problem.empty() || spec.missed() != cron::pb::MISSED_ALL ||
        spec.on_unknown() != cron::pb::ON_UNKNOWN_RELAUNCH || spec.deadline_s() != 0 ||
        spec.overlap() != cron::pb::OVERLAP_ALLOW || spec.max_catchup() < cron::kMaxCatchupLimit) {
      return;
    }
    for (Result<int64_t> t = sm.NextFireAfter(spec.name(), job.created_s());
         t.ok() && t.value() <= cron_check_until_s_; t = sm.NextFireAfter(spec.name(), t.value())) {
      const std::string run = cron::RunName(spec.name(), t.value());
      const size_t starts = scheduler_.StartsOf(run);
      if (starts != 1) {
        problem = fmt::format(
            "run {} of a job that must run (missed=all, on_unknown=relaunch) "
            "started {} times",
            run, starts);
        return;
      }
    }
  });
  if (!problem.empty()) checkers_.Report("exactly-once", now_us_, problem);
}

}  // namespace paxcron::sim
