// The event loop, the fault schedule, the client workload and the liveness phase.
#include "sim/world.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>

#include "common/hash.h"

namespace paxcron::sim {
namespace {

constexpr uint64_t kProbeBit = 1ull << 63;  // command ids of liveness probes
constexpr int64_t kProbeIntervalUs = 200'000;
// skip-fsync: how often the kernel writes dirty pages back (Linux: dirty_writeback_centisecs).
constexpr int64_t kWritebackIntervalUs = 5'000'000;

}  // namespace

World::World(const SimOptions& options, FaultPlan plan, Trace* trace)
    : options_(options),
      plan_(std::move(plan)),
      trace_(trace != nullptr ? trace : &null_trace_),
      checkers_(options.nodes),
      network_(options.nodes),
      nodes_(options.nodes + 1),
      net_rng_(HashU64(options.seed, 1)),
      disk_rng_(HashU64(options.seed, 2)),
      client_rng_(HashU64(options.seed, 3)),
      clock_rng_(HashU64(options.seed, 4)),
      node_rng_(HashU64(options.seed, 5)),
      scheduler_(options.scheduler, options.request_deadline_us),
      cron_rng_(HashU64(options.seed, 6)) {
  PAXCRON_ASSERT(options.nodes >= 1 && options.nodes <= 15);
  PAXCRON_ASSERT(plan_.clocks.size() == options.nodes);
  std::vector<paxos::NodeId> members;
  for (uint32_t i = 1; i <= options.nodes; ++i) members.push_back(paxos::NodeId(i));
  for (uint32_t i = 1; i <= options.nodes; ++i) {
    Node& n = nodes_[i];
    n.id = i;
    const ClockSpec& c = plan_.clocks[i - 1];
    n.clock = NodeClock(c.mono_base_us, c.drift_ppm, c.wall_offset_us, c.jitter_us);
    n.config.self = paxos::NodeId(i);
    n.config.members = members;
    n.config.drift_bound_ppm = options.drift_bound_ppm;
    n.config.clock_tolerance_us = kSimClockToleranceUs;
    n.config.bugs = options.bugs.core;
    n.config.mode = options.mode;
    n.checksum = kFnvOffset;
    n.fs = std::make_unique<storage::MemFileSystem>();
    n.fs->set_ignore_syncs(options.bugs.skip_fsync);
  }
}

World::~World() = default;

void World::Schedule(int64_t t_us, Event::Kind kind, uint32_t node, uint64_t arg,
                     std::shared_ptr<const paxos::pb::Envelope> message) {
  PAXCRON_ASSERT(t_us >= now_us_);
  const uint64_t incarnation = node != 0 ? nodes_[node].incarnation : 0;
  queue_.push_back(Event{t_us, next_seq_++, kind, node, arg, incarnation, std::move(message)});
  std::push_heap(queue_.begin(), queue_.end(), std::greater<>());
}

RunResult World::Run() {
  if (cron()) InitCron();
  for (uint32_t i = 1; i <= options_.nodes; ++i) {
    Node& n = nodes_[i];
    if (cron()) ResetCron(n);
    const bool started = StartFromDisk(n);  // an empty disk
    PAXCRON_ASSERT(started);
    Pump(n);
  }
  NoteHealth();
  if (options_.bugs.skip_fsync) Schedule(kWritebackIntervalUs, Event::Kind::kWriteback, 0, 0);
  for (size_t i = 0; i < plan_.events.size(); ++i) {
    Schedule(plan_.events[i].at_us, Event::Kind::kFault, 0, i);
  }
  // A cron run's commands are the cron's own (jobs, launches); other runs get random commands.
  if (cron()) {
    Schedule(100'000, Event::Kind::kCronWorkload, 0, 0);
  } else if (options_.proposals_per_sec > 0) {
    Schedule(0, Event::Kind::kClient, 0, 0);
  }
  Schedule(options_.duration_us, Event::Kind::kLiveness, 0, 0);
  // The hard stop: nothing runs past the liveness deadline (or a cron run's settling), whatever
  // happens.
  const int64_t end_us =
      options_.duration_us +
      std::max(options_.liveness_bound_us, cron() ? options_.cron_settle_us : int64_t{0});
  while (!done_ && !queue_.empty() && !checkers_.failed()) {
    std::pop_heap(queue_.begin(), queue_.end(), std::greater<>());
    Event e = std::move(queue_.back());
    queue_.pop_back();
    if (e.t_us > end_us) break;
    now_us_ = e.t_us;
    ++stats_.events;
    Dispatch(e);
  }
  stats_.simulated_us = now_us_;
  RunResult result;
  result.seed = options_.seed;
  result.stats = stats_;
  if (cron() && !options_.history_job.empty()) result.history = HistoryOf(options_.history_job);
  if (checkers_.failed()) {
    result.ok = false;
    result.violation = checkers_.violation();
    trace_->Emitf(result.violation.t_us, 0, "violation", ",\"checker\":\"{}\",\"detail\":\"{}\"",
                  result.violation.checker, result.violation.detail);
  }
  return result;
}

void World::Dispatch(const Event& e) {
  Node* n = e.node != 0 ? &nodes_[e.node] : nullptr;
  // A paused node handles nothing until it wakes: its events wait, in order. (Lease checks are
  // the checker's bookkeeping of true time, which a pause does not stop.)
  if (n != nullptr && now_us_ < n->paused_until_us && e.kind != Event::Kind::kLeaseCheck &&
      e.kind != Event::Kind::kRestart) {
    Event later = e;
    later.t_us = n->paused_until_us;
    later.seq = next_seq_++;
    queue_.push_back(std::move(later));
    std::push_heap(queue_.begin(), queue_.end(), std::greater<>());
    return;
  }
  const bool stale = n != nullptr && (!n->up || e.incarnation != n->incarnation);
  switch (e.kind) {
    case Event::Kind::kDeliver: {
      const auto& m = *e.message;
      Node& dest = nodes_[e.node];
      if (!dest.up) {
        trace_->Emitf(now_us_, e.node, "drop", ",\"id\":{},\"reason\":\"down\"", e.arg);
        return;
      }
      if (m.from() != e.node) {
        trace_->Emitf(now_us_, e.node, "deliver", ",\"id\":{},\"from\":{}", e.arg, m.from());
      }
      FlushWriteback(dest);
      dest.replica->Step(m, NowOf(dest));
      Pump(dest);
      return;
    }
    case Event::Kind::kWakeup:
      if (stale || static_cast<int64_t>(e.arg) != n->wakeup_at_us) return;
      n->wakeup_at_us = -1;
      FlushWriteback(*n);
      n->replica->Tick(NowOf(*n));
      Pump(*n);
      return;
    case Event::Kind::kDiskDone: {
      if (stale) return;
      PAXCRON_ASSERT(!n->disk.empty() && n->disk.front().done_us <= now_us_);
      DiskBatch batch = std::move(n->disk.front());
      n->disk.pop_front();
      const Status synced = n->store->Sync();
      PAXCRON_ASSERT(synced.ok());
      for (const auto& m : batch.messages) SendMessage(m);
      for (const auto& c : batch.committed) ApplyCommitted(*n, c, true);
      // The replica may have new output (a compaction after a snapshot), and the cron leader
      // something to do with what was applied.
      Pump(*n);
      return;
    }
    case Event::Kind::kLeaseCheck:
      if (stale || !n->lease_held || static_cast<int64_t>(e.arg) != n->lease_true_expiry_us) return;
      EndTrackedLease(*n, "expired");
      return;
    case Event::Kind::kFault:
      if (!liveness_phase_) {
        ApplyFault(plan_.events[e.arg]);
        NoteHealth();
      }
      return;
    case Event::Kind::kRestart:
      if (n->up || n->broken || e.arg != n->incarnation || liveness_phase_) return;
      Restart(*n);
      return;
    case Event::Kind::kClient: {
      if (liveness_phase_) return;
      Node& target = nodes_[client_rng_.Range(1, options_.nodes)];
      if (target.up) SubmitCommand(target, false);
      Schedule(now_us_ + 1'000'000 / options_.proposals_per_sec, Event::Kind::kClient, 0, 0);
      return;
    }
    case Event::Kind::kLiveness:
      StartLiveness();
      return;
    case Event::Kind::kProbe: {
      // Round robin over the nodes that are up (a node broken by disk damage never is).
      for (uint32_t i = 0; i < options_.nodes; ++i) {
        Node& target = nodes_[1 + ((probe_seq_ + i) % options_.nodes)];
        if (!target.up) continue;
        SubmitCommand(target, true);
        break;
      }
      Schedule(now_us_ + kProbeIntervalUs, Event::Kind::kProbe, 0, 0);
      return;
    }
    case Event::Kind::kCronTick:
      if (stale || static_cast<int64_t>(e.arg) != n->cron_tick_at_us) return;
      n->cron_tick_at_us = -1;
      Pump(*n);  // ticks the leader loop (CronStep)
      return;
    case Event::Kind::kCronWorkload:
      CronWorkload();
      return;
    case Event::Kind::kSchedulerArrive:
      OnSchedulerArrive(e.arg);
      return;
    case Event::Kind::kSchedulerReply:
    case Event::Kind::kRpcTimeout:
      OnSchedulerReply(e.arg, e.kind == Event::Kind::kRpcTimeout);
      return;
    case Event::Kind::kSchedulerUp:
      if (now_us_ >= scheduler_down_until_us_) trace_->Emit(now_us_, 0, "scheduler_up");
      NoteHealth();
      return;
    case Event::Kind::kHealth:
      NoteHealth();
      return;
    case Event::Kind::kWriteback:
      // skip-fsync: nothing is durable until the kernel writes dirty pages back on its own.
      for (uint32_t i = 1; i <= options_.nodes; ++i) nodes_[i].fs->Writeback();
      Schedule(now_us_ + kWritebackIntervalUs, Event::Kind::kWriteback, 0, 0);
      return;
    case Event::Kind::kSettled:
      FinalCronChecks();
      done_ = true;
      return;
    case Event::Kind::kLivenessDeadline:
      if (stats_.liveness_us >= 0) return;  // met already (a cron run keeps going to settle)
      checkers_.OnLiveness(
          now_us_, false,
          fmt::format("after healing at t={}us with every node up and connected, "
                      "no new proposal was applied by all {} nodes within {}us",
                      liveness_start_us_, LiveNodes(), options_.liveness_bound_us));
      return;
  }
}

void World::SubmitCommand(Node& n, bool probe) {
  paxos::pb::Command c;
  const uint64_t seq = probe ? ++probe_seq_ : ++n.command_seq;
  c.set_id((probe ? kProbeBit : 0) | (static_cast<uint64_t>(n.id) << 40) | seq);
  c.set_data(fmt::format("{}{}", probe ? "probe" : "cmd", seq));
  checkers_.OnProposed(c.id(), HashBytes(c.data()));
  ++stats_.commands_proposed;
  const Status s = n.replica->Propose(c, NowOf(n));
  trace_->Emitf(now_us_, n.id, "propose", ",\"cmd\":{},\"accepted\":{}", c.id(),
                s.ok() ? "true" : "false");
  Pump(n);
}

void World::StartLiveness() {
  liveness_phase_ = true;
  liveness_start_us_ = now_us_;
  trace_->Emit(now_us_, 0, "heal", ",\"phase\":\"liveness\"");
  network_.HealAll();
  network_.conditions() = LinkConditions{};
  for (uint32_t i = 1; i <= options_.nodes; ++i) {
    if (!nodes_[i].up && !nodes_[i].broken) Restart(nodes_[i]);
  }
  if (options_.faults.clock_jump) {
    // Healing ends the clock jumps too: a clock still minutes off is stepped back (as ntpd does
    // once an offset over its step threshold outlasts its stepout interval). Without this, NTP's
    // slow slew can leave three of five clocks apart for minutes after the heal, and the guard
    // then rightly lets nobody launch: a stall the liveness checkers would blame on the cron.
    for (uint32_t i = 1; i <= options_.nodes; ++i) {
      const int64_t error_us = nodes_[i].clock.WallError(now_us_);
      if (error_us > kClockStepThresholdUs || error_us < -kClockStepThresholdUs) {
        nodes_[i].clock.StepWall(now_us_, -error_us);
        trace_->Emitf(now_us_, i, "clock_step", ",\"delta_us\":{},\"heal\":true", -error_us);
      }
    }
  }
  NoteHealth();
  Schedule(now_us_, Event::Kind::kProbe, 0, 0);
  Schedule(now_us_ + options_.liveness_bound_us, Event::Kind::kLivenessDeadline, 0, 0);
  if (cron()) {
    // The scheduler comes back too; the cluster then gets time to conclude every launch.
    scheduler_down_until_us_ = -1;
    Schedule(now_us_ + options_.cron_settle_us, Event::Kind::kSettled, 0, 0);
    // Wall clocks are off by up to a second or two (offsets, steps): keep a margin.
    cron_check_until_s_ = (kSimWallEpochUs + now_us_) / 1'000'000 - 10;
  }
}

uint32_t World::CurrentLeader() const {
  for (uint32_t i = 1; i <= options_.nodes; ++i) {
    if (nodes_[i].up && nodes_[i].lease_held) return i;
  }
  for (uint32_t i = 1; i <= options_.nodes; ++i) {
    if (nodes_[i].up && nodes_[i].role == paxos::Role::kLeader) return i;
  }
  return 0;
}

void World::ApplyFault(const FaultEvent& f) {
  switch (f.kind) {
    case FaultEvent::Kind::kPartition:
      ApplyPartition(f);
      return;
    case FaultEvent::Kind::kHeal:
      if (network_.AnyBlocked()) trace_->Emit(now_us_, 0, "heal");
      network_.HealAll();
      return;
    case FaultEvent::Kind::kCrash: {
      PAXCRON_ASSERT(f.node <= options_.nodes);
      const uint32_t target = f.node != 0 ? f.node : CurrentLeader();
      if (target == 0 || !nodes_[target].up) return;
      Crash(nodes_[target]);
      Schedule(now_us_ + f.duration_us, Event::Kind::kRestart, target, nodes_[target].incarnation);
      return;
    }
    case FaultEvent::Kind::kHandOver: {
      const uint32_t leader = CurrentLeader();
      if (leader == 0) return;
      uint32_t successor = 1 + static_cast<uint32_t>(f.mask % options_.nodes);
      if (successor == leader) successor = 1 + (successor % options_.nodes);
      if (successor == leader) return;  // a one-node cluster has no one to hand over to
      Node& n = nodes_[leader];
      if (n.replica->HandOver(paxos::NodeId(successor), NowOf(n)).ok()) {
        trace_->Emitf(now_us_, leader, "handover", ",\"to\":{}", successor);
        DipHealth(Health::kMajority);  // a leader change: the failover case
      }
      Pump(n);
      return;
    }
    case FaultEvent::Kind::kLoss:
      network_.conditions().loss_per_million = f.param;
      trace_->Emitf(now_us_, 0, "net", ",\"loss_ppm\":{}", f.param);
      return;
    case FaultEvent::Kind::kDup:
      network_.conditions().dup_per_million = f.param;
      trace_->Emitf(now_us_, 0, "net", ",\"dup_ppm\":{}", f.param);
      return;
    case FaultEvent::Kind::kReorder:
      network_.conditions().reorder_per_million = f.param;
      trace_->Emitf(now_us_, 0, "net", ",\"reorder_ppm\":{}", f.param);
      return;
    case FaultEvent::Kind::kSchedulerDown:
      scheduler_down_until_us_ = std::max(scheduler_down_until_us_, now_us_ + f.duration_us);
      trace_->Emitf(now_us_, 0, "scheduler_down", ",\"until\":{}", scheduler_down_until_us_);
      Schedule(scheduler_down_until_us_, Event::Kind::kSchedulerUp, 0, 0);
      return;
    case FaultEvent::Kind::kPause: {
      const uint32_t target = f.node != 0 ? f.node : CurrentLeader();
      if (target == 0 || !nodes_[target].up) return;
      nodes_[target].paused_until_us = now_us_ + f.duration_us;
      trace_->Emitf(now_us_, target, "pause", ",\"until\":{}", nodes_[target].paused_until_us);
      if (cron() && nodes_[target].leader && nodes_[target].leader->active()) {
        leader_disruptions_.push_back(now_us_);
      }
      Schedule(nodes_[target].paused_until_us, Event::Kind::kHealth, 0, 0);
      return;
    }
    case FaultEvent::Kind::kDiskFlip:
      DamageDisk(f);
      return;
    case FaultEvent::Kind::kClockStep: {
      PAXCRON_ASSERT(f.node <= options_.nodes);
      const uint32_t target = f.node != 0 ? f.node : CurrentLeader();
      if (target == 0) return;
      if (f.node == 0 && !JumpLeavesAMajorityOfClocksRight(target)) return;
      nodes_[target].clock.StepWall(now_us_, f.delta_us);
      trace_->Emitf(now_us_, target, "clock_step", ",\"delta_us\":{}", f.delta_us);
      DipHealth(Health::kMajority);  // a leader whose clock steps sees runs jump
      return;
    }
  }
}

// The clock guard, like every clock-agreement scheme (Marzullo's, TigerBeetle's cluster time),
// assumes that a majority's clocks are right: three of five clocks jumped to about the same wrong
// time ARE the majority's time, and no algorithm can tell. So a clock-jump of the leader is
// withheld (silently: the plan is the same, the world declines it) when it would leave a
// majority of the nodes with clocks off by more than half the tolerance.
bool World::JumpLeavesAMajorityOfClocksRight(uint32_t target) const {
  uint32_t off = 1;  // the target's, after the jump
  for (uint32_t i = 1; i <= options_.nodes; ++i) {
    const int64_t e = nodes_[i].clock.WallError(now_us_);
    if (i != target && (e > kSimClockToleranceUs / 2 || e < -kSimClockToleranceUs / 2)) ++off;
  }
  return off <= options_.nodes - (options_.nodes / 2 + 1);
}

void World::ApplyPartition(const FaultEvent& f) {
  const uint32_t n = options_.nodes;
  network_.HealAll();
  std::string kind;
  // The node a partition turns around: the one the plan names, else one drawn from the mask.
  uint32_t pivot = f.node >= 1 && f.node <= n ? f.node : 1 + static_cast<uint32_t>(f.mask % n);
  auto isolate = [&](uint32_t x, bool in, bool out) {
    for (uint32_t o = 1; o <= n; ++o) {
      if (out) network_.SetBlocked(x, o, true);
      if (in) network_.SetBlocked(o, x, true);
    }
  };
  switch (f.partition) {
    case PartitionKind::kSplitHalves: {
      kind = "halves";
      // Walk a seeded permutation: the first floor(n/2) nodes form the minority side.
      std::vector<uint32_t> order;
      for (uint32_t i = 1; i <= n; ++i) order.push_back(i);
      uint64_t bits = f.mask;
      for (uint32_t i = n; i > 1; --i, bits /= i) std::swap(order[i - 1], order[bits % i]);
      for (uint32_t a = 0; a < n / 2; ++a) {
        for (uint32_t b = n / 2; b < n; ++b) {
          network_.SetBlocked(order[a], order[b], true);
          network_.SetBlocked(order[b], order[a], true);
        }
      }
      break;
    }
    case PartitionKind::kIsolateLeader:
      kind = "isolate-leader";
      if (CurrentLeader() != 0) pivot = CurrentLeader();
      isolate(pivot, true, true);
      break;
    case PartitionKind::kIsolateNode:
      kind = "isolate-node";
      isolate(pivot, true, true);
      break;
    case PartitionKind::kOneWay:
      // The pivot hears everyone but nobody hears it (or the reverse): an asymmetric failure.
      kind = (f.mask & 1) ? "one-way-out" : "one-way-in";
      if (CurrentLeader() != 0 && (f.mask & 2)) pivot = CurrentLeader();  // often the leader
      isolate(pivot, (f.mask & 1) == 0, (f.mask & 1) != 0);
      break;
    case PartitionKind::kRandomLinks: {
      kind = "random-links";
      uint64_t bits = f.mask;
      for (uint32_t a = 1; a <= n; ++a) {
        for (uint32_t b = 1; b <= n; ++b) {
          if (a != b && (bits & 3) == 0) network_.SetBlocked(a, b, true);
          bits = (bits >> 2) | (bits << 62);
        }
      }
      break;
    }
  }
  ++stats_.partitions;
  if (trace_->enabled()) {
    std::string cut;
    for (uint32_t a = 1; a <= n; ++a) {
      for (uint32_t b = 1; b <= n; ++b) {
        if (network_.Blocked(a, b)) cut += fmt::format("{}[{},{}]", cut.empty() ? "" : ",", a, b);
      }
    }
    trace_->Emitf(now_us_, 0, "partition", ",\"kind\":\"{}\",\"pivot\":{},\"blocked\":[{}]", kind,
                  pivot, cut);
  }
}

}  // namespace paxcron::sim
