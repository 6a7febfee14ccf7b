#include "node/node.h"

#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "common/assert.h"
#include "cron/civil_time.h"
#include "cron/run_name.h"

namespace paxcron::node {
namespace {

constexpr uint64_t kCronCommandBit = uint64_t{1} << 62;  // paxos command ids carrying cron
constexpr uint64_t kCronTickMs = 50;
constexpr int64_t kWriteTimeoutUs = 10'000'000;  // a client write not applied by then: an error
constexpr uint32_t kRunsLimitDefault = 20;
constexpr uint32_t kRunsLimitMax = 10'000;
// After a hand-over the old leader stays a follower a little longer: it answers the new leader's
// lookups of runs it began but never launched (else the new leader would hold those runs until
// this node is back), at least kHandOverLingerMinUs (the hand-over must leave: the transport's
// queues are dropped on close), at most kHandOverLingerMaxUs.
constexpr int64_t kHandOverLingerMinUs = 150'000;
constexpr int64_t kHandOverLingerMaxUs = 2'000'000;
constexpr uint64_t kHttpRefreshMs = 500;
constexpr uint32_t kStatusPageRuns = 30;
constexpr size_t kStatusPageJobs = 200;

// The exec launcher's launch is a local call that returns at once, and a lookup is final the
// moment it is answered (the answering node refuses the run for good, launch_ledger.h): there is
// no request in flight to wait out before looking a run up.
cron::LeaderOptions LeaderOptionsForExec() {
  cron::LeaderOptions o;
  o.lookup_after_unknown_us = 0;
  // A lookup that got no answer (the node that began the run is down or unreachable) is one
  // LedgerQuery frame: ask again soon, so that a restarted node is asked within a fraction of a
  // second (the failover bound of the cluster tests is 3 s, the lease alone 1 s).
  o.retry_backoff_us = 200'000;
  return o;
}

uint32_t NodeOfEpoch(uint64_t epoch) {
  return static_cast<uint32_t>(epoch % (paxos::kNodesMax + 1));
}

// The node whose client (or cron leader) sent a command: ProposeCron puts it in bits 40-47.
uint32_t NodeOfCommand(uint64_t command_id) {
  return static_cast<uint32_t>((command_id >> 40) & 0xff);
}

}  // namespace

Node::Node(uv_loop_t* loop, NodeSettings settings, Logger log)
    : loop_(loop), settings_(std::move(settings)), log_(std::move(log)) {
  uv_timer_init(loop_, &wakeup_timer_);
  uv_timer_init(loop_, &cron_timer_);
  uv_timer_init(loop_, &http_timer_);
  uv_check_init(loop_, &check_);
  wakeup_timer_.data = cron_timer_.data = http_timer_.data = check_.data = this;
}

Node::~Node() = default;

paxos::Now Node::Now() const {
  return paxos::Now{static_cast<int64_t>(uv_hrtime() / 1000), WallUs()};
}

int64_t Node::WallUs() const {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000 + ts.tv_nsec / 1000 +
         settings_.config.fault_wall_offset_ms() * 1000;
}

void Node::Log(std::string_view event, std::string_view fields) {
  if (!log_) return;
  const int64_t wall = WallUs();
  log_(fmt::format("ts={}.{:03}Z node={} event={}{}{}",
                   cron::FormatRfc3339(wall / 1'000'000, 0, true).substr(0, 19),
                   (wall / 1000) % 1000, settings_.config.id(), event, fields.empty() ? "" : " ",
                   fields));
}

Status Node::Start() {
  const pb::NodeConfig& c = settings_.config;
  for (const std::string& dir : {c.data_dir(), c.backup_dir()}) {
    std::error_code ec;
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    if (ec) return Status::Error(fmt::format("{}: cannot be created: {}", dir, ec.message()));
  }
  storage::NodeStoreOptions store_options;
  store_options.log.segment_bytes = c.segment_bytes();
  store_options.backup_dir = c.backup_dir();
  storage::RecoveredState recovered;
  Result<std::unique_ptr<storage::NodeStore>> store =
      storage::NodeStore::Open(fs_, c.data_dir(), store_options, &recovered);
  if (!store.ok()) return store.status();
  store_ = std::move(store.value());
  for (const std::string& w : recovered.warnings)
    Log("storage_warning", fmt::format("warning=\"{}\"", w));
  std::vector<std::string> ledger_warnings;
  Result<std::unique_ptr<LaunchLedger>> ledger =
      LaunchLedger::Open(fs_, c.data_dir() + "/ledger", &ledger_warnings);
  if (!ledger.ok()) return ledger.status();
  ledger_ = std::move(ledger.value());
  for (const std::string& w : ledger_warnings)
    Log("ledger_warning", fmt::format("warning=\"{}\"", w));

  sm_ = std::make_unique<cron::CronStateMachine>(zones_);
  if (recovered.snapshot) {
    cron::pb::Snapshot snap;
    if (!snap.ParseFromString(recovered.snapshot->data)) {
      return Status::Error(fmt::format("{}: the snapshot of slot {} is not a cron snapshot",
                                       c.data_dir(), recovered.snapshot->slot));
    }
    if (Status s = sm_->LoadSnapshot(std::move(snap)); !s.ok()) {
      return Status::Error(fmt::format("{}: snapshot of slot {}: {}", c.data_dir(),
                                       recovered.snapshot->slot, s.message()));
    }
    applied_ = recovered.snapshot->slot;
    applied_stamp_us_ = recovered.snapshot->stamp_us;
  }
  leader_ = std::make_unique<cron::CronLeader>(*sm_, LeaderOptionsForExec());
  exec_ = std::make_unique<ExecLauncher>(
      loop_, ledger_.get(), c.output_tail_bytes(),
      [this](ExecResult r) { OnExecExit(std::move(r)); },
      [this](std::string_view line) { Log("exec", line); });
  SlurmOptions slurm_options;
  slurm_options.timeout_ms = c.slurm_timeout_ms();
  slurm_options.jobcomp_file = c.slurm_jobcomp_file();
  slurm_ = std::make_unique<SlurmLauncher>(loop_, slurm_options,
                                           [this](std::string_view line) { Log("slurm", line); });
  std::random_device random;
  const uint64_t seed = (uint64_t{random()} << 32) ^ random();
  command_seq_ = (static_cast<uint64_t>(WallUs()) / 1000) & ((uint64_t{1} << 39) - 1);
  replica_ = std::make_unique<paxos::Replica>(settings_.paxos, seed, recovered.durable, Now());
  Log("start", fmt::format("data_dir={} snapshot_slot={} log_slots={} ledger_runs={} mode={}",
                           c.data_dir(), store_->snapshot_slot(),
                           recovered.durable.slots.Last().value, ledger_->size(), c.mode()));

  transport::TransportOptions t;
  t.self_id = c.id();
  t.secret = settings_.secret;
  transport_ = std::make_unique<transport::Transport>(
      loop_, t, this, [this](std::string_view line) { Log("net", line); });
  if (Status s = transport_->Listen(settings_.listen); !s.ok()) return s;
  for (const auto& [id, address] : settings_.members) {
    if (id == c.id()) continue;
    if (Status s = transport_->AddPeer(id, address); !s.ok()) return s;
  }
  if (!c.http_listen().empty()) {
    Result<HostPort> hp = ParseHostPort(c.http_listen(), /*allow_zero=*/true);
    if (!hp.ok()) return hp.status();
    http_ = std::make_unique<HttpStatusServer>();
    if (Status s = http_->Start(hp.value().host, hp.value().port); !s.ok()) return s;
    Log("http", fmt::format("address={}:{}", hp.value().host, http_->port()));
  }
  started_ = true;
  Pump();  // re-applies what the log holds after the snapshot
  uv_timer_start(&cron_timer_, &Node::OnCronTick, kCronTickMs, kCronTickMs);
  uv_check_start(&check_, &Node::OnCheck);
  if (http_) {
    PublishHttp();
    uv_timer_start(&http_timer_, &Node::OnHttpTick, kHttpRefreshMs, kHttpRefreshMs);
  }
  return Status::Ok();
}

void Node::Shutdown() {
  if (stopping_ || handing_over_) return;
  bool handed_over = false;
  if (started_ && IsLeader()) {
    // Hand over to a connected peer first, so that the cluster need not wait out the lease.
    for (const auto& [id, address] : settings_.members) {
      if (id == settings_.config.id() || !transport_->PeerConnected(id)) continue;
      if (replica_->HandOver(paxos::NodeId(id), Now()).ok()) {
        Log("handover", fmt::format("to={}", id));
        handed_over = true;
      }
      break;
    }
  }
  if (!handed_over) {
    FinishShutdown();
    return;
  }
  // Linger as a follower (OnCronTick ends it): no launch can happen here any more, since the
  // lease is gone and the cron leader stopped, but peers' messages and lookups are answered.
  handing_over_ = true;
  handover_started_us_ = Now().mono_us;
  handover_ballot_ = replica_->promised();
  leader_->Stop();
  uv_timer_stop(&http_timer_);
  Pump();
}

// The hand-over is complete when a newer leader has committed past every slot this node
// accepted (so every launch this node began is known to the state machine here) and has
// concluded each of them (none is open any more), or when the linger's bound is reached.
bool Node::HandOverComplete() const {
  const int64_t waited = Now().mono_us - handover_started_us_;
  if (waited < kHandOverLingerMinUs) return false;
  if (waited >= kHandOverLingerMaxUs) return true;
  bool any_peer = false;  // with every peer gone (a whole cluster stopping) nobody will ask
  for (const auto& [id, address] : settings_.members) {
    if (id != settings_.config.id() && transport_->PeerConnected(id)) any_peer = true;
  }
  if (!any_peer) return true;
  if (!(handover_ballot_ < replica_->promised()) || IsLeader()) return false;
  if (applied_ < max_accepted_slot_ || applied_ < replica_->commit_index().value) return false;
  bool open_of_ours = false;
  sm_->ForEachJob([&](const cron::pb::JobState& job) {
    for (const cron::pb::RunRecord& r : job.open_runs()) {
      if (NodeOfEpoch(r.epoch()) == settings_.config.id()) open_of_ours = true;
    }
  });
  return !open_of_ours;
}

void Node::FinishShutdown() {
  stopping_ = true;
  uv_timer_stop(&cron_timer_);
  uv_timer_stop(&http_timer_);
  SyncLazyWrites();
  Log("stop");
  uv_timer_stop(&wakeup_timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&wakeup_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&cron_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&http_timer_), nullptr);
  uv_check_stop(&check_);
  uv_close(reinterpret_cast<uv_handle_t*>(&check_), nullptr);
  if (http_) http_->Stop();
  if (transport_) transport_->Shutdown();
  exec_.reset();   // closes its handles; the processes go on
  slurm_.reset();  // kills its sbatch/squeue children (each had its deadline anyway)
}

bool Node::IsLeader() const {
  return replica_ != nullptr && replica_->role() == paxos::Role::kLeader;
}

// ---- The driver loop -------------------------------------------------------------------------

void Node::Pump() {
  if (!started_ || pumping_) return;
  pumping_ = true;
  pump_pending_ = false;
  for (int round = 0; round < 64; ++round) {
    while (!to_self_.empty()) {
      auto m = std::move(to_self_.front());
      to_self_.pop_front();
      replica_->Step(*m, Now());
    }
    paxos::Ready ready = replica_->TakeReady();
    ProcessReady(ready);
    const bool more = HandleSnapshotIo(ready);
    TrackRole();
    if (!more && to_self_.empty()) break;
  }
  pumping_ = false;
}

void Node::PumpSoon() { pump_pending_ = true; }

void Node::OnCheck(uv_check_t* check) {
  Node* n = static_cast<Node*>(check->data);
  if (!n->pump_pending_ || n->stopping_) return;
  n->pump_pending_ = false;
  n->Pump();
}

void Node::ProcessReady(paxos::Ready& ready) {
  for (const paxos::PersistOp& op : ready.persist) {
    if (op.kind == paxos::PersistOp::Kind::kAccept) {
      max_accepted_slot_ = std::max(max_accepted_slot_, op.slot.value);
    }
  }
  // The leader's requests go out first, so that the followers' fsyncs overlap ours.
  std::vector<bool> sent_early(ready.messages.size(), false);
  for (size_t i = 0; i < ready.messages.size(); ++i) {
    const paxos::Outgoing& out = ready.messages[i];
    if (out.to.value == settings_.config.id() || !paxos::MayLeaveBeforePersist(*out.envelope)) {
      continue;
    }
    SendPaxos(out);
    sent_early[i] = true;
  }
  const bool only_chosen_marks =
      !ready.persist.empty() &&
      std::all_of(ready.persist.begin(), ready.persist.end(), [](const paxos::PersistOp& op) {
        return op.kind == paxos::PersistOp::Kind::kChosen;
      });
  if (only_chosen_marks) {
    // A chosen mark claims nothing a peer relies on: the value is durable in a quorum's accept
    // records, and a node that loses the mark in a crash learns it again (catch-up). So it
    // rides with the next fsync (or the next tick's, OnCronTick) instead of costing one of its
    // own on every write's path, as etcd persists its commit index lazily.
    DieUnlessOk(store_->Stage(ready.persist));
    ++metrics_.chosen_writes_lazy;
    unsynced_ = true;
  } else if (!ready.persist.empty()) {
    // Durable before any reply leaves (the driver contract): one fdatasync for the batch.
    unsynced_ = false;
    const uint64_t t0 = uv_hrtime();
    DieUnlessOk(store_->Write(ready.persist));
    const int64_t us = static_cast<int64_t>((uv_hrtime() - t0) / 1000);
    ++metrics_.fsyncs;
    metrics_.fsync_us_total += static_cast<uint64_t>(us);
    size_t bucket = 0;
    while (bucket < kFsyncBuckets && us > kFsyncBucketsUs[bucket]) ++bucket;
    ++metrics_.fsync_buckets[bucket];
  }
  for (size_t i = 0; i < ready.messages.size(); ++i) {
    const paxos::Outgoing& out = ready.messages[i];
    if (out.to.value == settings_.config.id()) {
      to_self_.push_back(out.envelope);
    } else if (!sent_early[i]) {
      SendPaxos(out);
    }
  }
  for (const paxos::Committed& c : ready.committed) ApplyCommitted(c);
  SendWriteNotices();
  CountFastEvents(ready);
  if (ready.next_wakeup_us > 0) ArmWakeup(ready.next_wakeup_us);
}

void Node::CountFastEvents(const paxos::Ready& ready) {
  if (!Fast()) return;
  if (IsLeader()) {
    for (const paxos::PersistOp& op : ready.persist) {
      if (op.kind == paxos::PersistOp::Kind::kChosen && op.ballot.sub == paxos::kSubFast) {
        ++metrics_.fast_rounds;
      }
    }
  }
  for (const paxos::FastEvent& e : ready.fast_events) {
    switch (e.kind) {
      case paxos::FastEvent::Kind::kOpen:
        break;
      case paxos::FastEvent::Kind::kCollision:
        ++metrics_.fast_collisions;
        break;
      case paxos::FastEvent::Kind::kRecovery:
        ++metrics_.fast_recoveries;
        break;
      case paxos::FastEvent::Kind::kFallback:
        ++metrics_.fast_fallbacks;
        Log("fast_fallback", fmt::format("slot={}", e.from.value));
        break;
    }
  }
}

void Node::NoteWriteApplied(uint64_t command_id, const Status& result) {
  const uint32_t origin = NodeOfCommand(command_id);
  if (!Fast() || !IsLeader() || origin == settings_.config.id() ||
      settings_.members.count(origin) == 0) {
    return;
  }
  pb::WriteApplied::Result* r = write_notices_[origin].add_results();
  r->set_command_id(command_id);
  r->set_ok(result.ok());
  if (!result.ok()) r->set_error(result.message());
}

void Node::SendWriteNotices() {
  for (auto& [node, notice] : write_notices_) {
    pb::PeerMessage m;
    *m.mutable_write_applied() = std::move(notice);
    transport_->SendToPeer(node, m.SerializeAsString());  // lost: the node learns the slot later
  }
  write_notices_.clear();
}

// A node that cannot persist must not answer: stop rather than lie.
void Node::DieUnlessOk(const Status& written) {
  if (written.ok()) return;
  Log("fatal", fmt::format("error=\"{}\"", written.message()));
  std::abort();
}

void Node::SyncLazyWrites() {
  if (!unsynced_) return;
  unsynced_ = false;
  DieUnlessOk(store_->Sync());
  ++metrics_.fsyncs;
}

void Node::SendPaxos(const paxos::Outgoing& out) {
  pb::PeerMessage m;
  *m.mutable_paxos() = *out.envelope;
  transport_->SendToPeer(out.to.value, m.SerializeAsString());
  const auto* field = out.envelope->GetDescriptor()->FindFieldByNumber(out.envelope->body_case());
  ++metrics_.messages_sent_by_type[field != nullptr ? field->name() : "empty"];
}

void Node::ApplyCommitted(const paxos::Committed& c) {
  if (c.slot.value <= applied_) return;  // covered by the snapshot loaded at start
  PAXCRON_ASSERT(c.slot.value == applied_ + 1);
  applied_ = c.slot.value;
  applied_stamp_us_ = c.entry->stamp_us();
  log_bytes_since_snapshot_ += c.entry->ByteSizeLong();
  ++metrics_.commits;
  for (const paxos::pb::Command& command : c.entry->commands()) {
    if ((command.id() & kCronCommandBit) == 0) continue;
    cron::pb::Command cmd;
    if (!cmd.ParseFromString(command.data())) continue;  // not ours: ignored by every replica
    const Status result = sm_->Apply(cmd, static_cast<int64_t>(c.entry->stamp_us()));
    if (leader_->active()) leader_->OnApplied(cmd, result.ok(), WallUs());
    if (cmd.has_run_finished() && result.ok()) ++metrics_.runs_finished;
    if (cmd.has_skip_run() && result.ok()) {
      // The reason's first words name its kind ("missed", "past its deadline: 95s late", ...).
      const std::string& reason = cmd.skip_run().reason();
      ++metrics_.skips_by_reason[reason.substr(0, std::min(reason.find(':'), size_t{40}))];
    }
    // Only client writes wait for an answer: the cron leader's own commands are not replied to.
    if (!cmd.has_launch_begin() && !cmd.has_launch_end() && !cmd.has_skip_run() &&
        !cmd.has_run_finished()) {
      NoteWriteApplied(command.id(), result);
    }
    auto pending = pending_writes_.find(command.id());
    if (pending != pending_writes_.end()) {
      pb::ClientResponse r;
      r.set_ok(result.ok());
      if (!result.ok()) r.set_error(result.message());
      Reply(pending->second.connection, r);
      pending_writes_.erase(pending);
    }
  }
  MaybeSnapshot();
}

void Node::MaybeSnapshot() {
  const pb::NodeConfig& c = settings_.config;
  if (applied_ < store_->snapshot_slot() + c.snapshot_every_slots()) return;
  // And no more often than the log grows by the snapshot's own size (Raft thesis, 5.1): a large
  // table is then rewritten at most once per as many bytes logged, whatever the slot count.
  if (log_bytes_since_snapshot_ * 100 <
      store_->snapshot_file_bytes() * uint64_t{c.snapshot_min_log_percent()}) {
    return;
  }
  storage::Snapshot snap;
  snap.slot = applied_;
  snap.stamp_us = applied_stamp_us_;
  snap.data = sm_->TakeSnapshot().SerializeAsString();
  if (Status s = store_->SaveSnapshot(snap); !s.ok()) {
    Log("snapshot_failed", fmt::format("slot={} error=\"{}\"", applied_, s.message()));
    return;  // the log is not compacted: nothing is lost, it only grows
  }
  ++metrics_.snapshots;
  log_bytes_since_snapshot_ = 0;
  Log("snapshot", fmt::format("slot={} bytes={}", applied_, store_->snapshot_file_bytes()));
  const Status st =
      replica_->Compact(paxos::Slot(applied_), applied_stamp_us_, c.snapshot_keep_slots());
  PAXCRON_ASSERT(st.ok());
}

bool Node::HandleSnapshotIo(paxos::Ready& ready) {
  bool called = false;
  const uint32_t chunk_max = settings_.paxos.snapshot_chunk_bytes;
  for (const paxos::SnapshotRead& read : ready.snapshot_reads) {
    Result<paxos::pb::SnapshotChunk> chunk = store_->ServeSnapshotChunk(read, chunk_max);
    if (!chunk.ok()) {
      Log("snapshot_read_failed", fmt::format("error=\"{}\"", chunk.status().message()));
      chunk = paxos::pb::SnapshotChunk();
      chunk.value().set_last(true);  // none to offer: the peer asks another
    }
    replica_->ServeSnapshotChunk(read.to, std::move(chunk.value()));
    called = true;
  }
  for (const paxos::pb::SnapshotChunk& chunk : ready.snapshot_chunks) {
    called = true;
    if (Status s = store_->ReceiveSnapshotChunk(chunk.offset(), chunk.data()); !s.ok()) {
      Log("snapshot_rejected", fmt::format("slot={} error=\"{}\"", chunk.slot(), s.message()));
      store_->AbortReceivedSnapshot();
      replica_->AbortSnapshotFetch();
      continue;
    }
    if (!chunk.last()) continue;
    Result<storage::Snapshot> file = store_->FinishReceivedSnapshot(chunk.slot());
    cron::pb::Snapshot snap;
    if (!file.ok() || !snap.ParseFromString(file.value().data)) {
      Log("snapshot_rejected",
          fmt::format("slot={} error=\"{}\"", chunk.slot(),
                      file.ok() ? "not a cron snapshot" : file.status().message()));
      store_->AbortReceivedSnapshot();
      replica_->AbortSnapshotFetch();
      continue;
    }
    auto fresh = std::make_unique<cron::CronStateMachine>(zones_);
    if (Status s = fresh->LoadSnapshot(std::move(snap)); !s.ok()) {
      Log("snapshot_rejected", fmt::format("slot={} error=\"{}\"", chunk.slot(), s.message()));
      store_->AbortReceivedSnapshot();
      replica_->AbortSnapshotFetch();
      continue;
    }
    const storage::Snapshot& s = file.value();
    if (!replica_->InstallSnapshot(paxos::Slot(s.slot), s.stamp_us, Now()).ok()) {
      store_->AbortReceivedSnapshot();
      continue;  // no longer needed
    }
    // Durable before the replica's log truncation (its next Ready) reaches the disk.
    if (Status a = store_->AdoptReceivedSnapshot(s); !a.ok()) {
      Log("fatal", fmt::format("error=\"{}\"", a.message()));
      std::abort();
    }
    const uint64_t from = applied_;
    // The leader loop points into the old state machine: rebuild both.
    leader_->Stop();
    sm_ = std::move(fresh);
    leader_ = std::make_unique<cron::CronLeader>(*sm_, LeaderOptionsForExec());
    applied_ = s.slot;
    applied_stamp_us_ = s.stamp_us;
    ++metrics_.snapshot_installs;
    Log("snapshot_install",
        fmt::format("slot={} from_slot={} bytes={}", s.slot, from, s.file_bytes));
  }
  return called;
}

void Node::TrackRole() {
  const paxos::Role role = replica_->role();
  if (role != role_) {
    role_ = role;
    if (role == paxos::Role::kLeader) ++metrics_.elections_won;
    Log("role", fmt::format("role={} ballot={}", paxos::RoleName(role),
                            replica_->ballot().ToEpoch().value));
  }
  const bool held = replica_->HoldsLease(Now().mono_us);
  if (held != lease_held_) {
    lease_held_ = held;
    if (held) ++metrics_.lease_starts;
    Log(held ? "lease_start" : "lease_end", fmt::format("epoch={}", replica_->Lease().epoch.value));
  }
}

void Node::ArmWakeup(int64_t mono_us) {
  const int64_t now = Now().mono_us;
  const int64_t delay_ms = std::max<int64_t>(0, (mono_us - now + 999) / 1000);
  if (wakeup_at_us_ >= 0 && wakeup_at_us_ <= mono_us && wakeup_at_us_ > now) return;
  wakeup_at_us_ = mono_us;
  uv_timer_start(&wakeup_timer_, &Node::OnWakeup, static_cast<uint64_t>(delay_ms), 0);
}

void Node::OnWakeup(uv_timer_t* timer) {
  Node* n = static_cast<Node*>(timer->data);
  n->wakeup_at_us_ = -1;
  if (n->stopping_) return;
  n->replica_->Tick(n->Now());
  n->Pump();
}

void Node::OnCronTick(uv_timer_t* timer) {
  Node* n = static_cast<Node*>(timer->data);
  if (n->stopping_) return;
  n->replica_->Tick(n->Now());
  n->Pump();
  n->SyncLazyWrites();
  if (n->handing_over_) {
    if (!n->HandOverComplete()) return;
    n->Log("handover_done",
           fmt::format("after_ms={}", (n->Now().mono_us - n->handover_started_us_) / 1000));
    n->FinishShutdown();
    return;
  }
  n->CronStep();
  n->ExpirePending();
}

// ---- The cron leader -------------------------------------------------------------------------

// The clock-integrity guard (paxos/clock_guard.h): the cron leader acts on its wall clock only
// while a majority's readings (heartbeat replies) agree with it within clock_tolerance_ms. One
// that a majority certainly puts beyond it would fire runs early or late: it stops launching,
// says why once per episode, counts it, and hands over to a member the majority agrees with
// (retried at each tick until it happens). One with too few fresh readings (just elected) waits
// a heartbeat for them. True while the guard holds this node back.
bool Node::ClockGuardHolds() {
  const paxos::Now now = Now();
  const paxos::ClockJudgement j = replica_->JudgeOwnClock(now);
  if (j.verdict == paxos::ClockVerdict::kAgrees) {
    if (clock_guard_tripped_) Log("clock_guard_clear", fmt::format("agreeing={}", j.agreeing));
    clock_guard_tripped_ = false;
    return false;
  }
  if (j.verdict == paxos::ClockVerdict::kOff && replica_->role() == paxos::Role::kLeader) {
    const paxos::NodeId to = replica_->ClockAgreeingPeer(now);
    if (!clock_guard_tripped_) {
      clock_guard_tripped_ = true;
      ++metrics_.clock_guard_trips;
      // The others' offset from our clock, as most of them agree: negative when ours is ahead.
      Log("clock_guard",
          fmt::format("verdict=off offset_ms={}..{} agreeing={} heard={} tolerance_ms={} to={}",
                      j.majority->interval.lo_us / 1000, j.majority->interval.hi_us / 1000,
                      j.agreeing, j.heard, settings_.config.clock_tolerance_ms(), to.value));
    }
    if (to.value != 0 && replica_->HandOver(to, now).ok()) {
      Log("handover", fmt::format("to={} reason=clock", to.value));
      Pump();
    }
  }
  return true;
}

void Node::CronStep() {
  const bool leads = replica_->HoldsLease(Now().mono_us);
  clock_guard_holding_ = leads && ClockGuardHolds();
  // (Read again: a hand-over by the guard has just given the lease up.)
  const bool holds = leads && !clock_guard_holding_ && replica_->HoldsLease(Now().mono_us);
  const bool new_lease =
      holds && leader_->active() && leader_->epoch() != replica_->Lease().epoch.value;
  if (new_lease) leader_->Stop();  // a new lease since the last tick: start over under its epoch
  if (!holds || !leader_->active()) {
    held_lookups_.clear();
    sbatch_ended_mono_us_.clear();
  }
  if (holds && !leader_->active()) {
    leader_since_mono_us_ = Now().mono_us;
    leader_->Start(replica_->Lease().epoch.value, WallUs());
    Log("cron_leader", fmt::format("epoch={}", replica_->Lease().epoch.value));
  } else if (!holds && leader_->active()) {
    leader_->Stop();
    Log("cron_leader_stop");
  }
  if (!holds || new_lease) {
    delayed_launches_.clear();
    delayed_reports_.clear();
  }
  if (leader_->active() && replica_->role() == paxos::Role::kLeader) {
    leader_->NoteProposerBallot(replica_->ballot().round, WallUs());
  }
  if (leader_->active()) leader_->Tick(WallUs());
  cron::LeaderOutput out = leader_->TakeOutput();
  for (const cron::pb::Command& c : out.proposals) ProposeCron(c, 0);
  const int64_t delay_us = int64_t{settings_.config.fault_launch_delay_ms()} * 1000;
  for (cron::LaunchRequest& l : out.launches) {
    if (delay_us == 0) {
      DoLaunch(l);
    } else {
      delayed_launches_.emplace_back(Now().mono_us + delay_us, std::move(l));
    }
  }
  while (!delayed_launches_.empty() && delayed_launches_.front().first <= Now().mono_us) {
    DoLaunch(delayed_launches_.front().second);
    delayed_launches_.pop_front();
  }
  while (!delayed_reports_.empty() && delayed_reports_.front().due_mono_us <= Now().mono_us) {
    const DelayedReport& r = delayed_reports_.front();
    if (leader_->active()) leader_->OnLaunchResult(r.run_name, r.status, WallUs());
    delayed_reports_.pop_front();
  }
  for (const cron::LookupRequest& l : out.lookups) DoLookup(l);
  RunHeldLookups();
  PollSlurm();
  Pump();
}

bool Node::ProposeCron(const cron::pb::Command& c, transport::ConnectionId reply_to) {
  paxos::pb::Command command;
  command.set_id(kCronCommandBit | (uint64_t{settings_.config.id()} << 40) |
                 (++command_seq_ & ((uint64_t{1} << 40) - 1)));
  command.set_data(c.SerializeAsString());
  const uint64_t id = command.id();
  if (!replica_->Propose(std::move(command), Now()).ok()) return false;
  if (reply_to != 0) {
    pending_writes_[id] = PendingWrite{reply_to, Now().mono_us + kWriteTimeoutUs};
  }
  return true;
}

void Node::DoLaunch(const cron::LaunchRequest& request) {
  // Right before acting, with a fresh clock reading: a node that was paused must not act on a
  // decision it took while it held the lease (PITFALLS, "Leases").
  if (!replica_->HoldsLease(Now().mono_us) || replica_->Lease().epoch.value != request.epoch) {
    ++metrics_.launches_refused;
    Log("launch_skipped_no_lease", fmt::format("run={}", request.run_name));
    return;
  }
  if (request.spec.launcher() == "slurm") {
    DoSlurmLaunch(request);
    return;
  }
  const cron::LaunchStatus status = exec_->Launch(request, WallUs());
  ++metrics_.launches;
  Log("launch", fmt::format("run={} epoch={} status={}", request.run_name, request.epoch,
                            cron::LaunchStatusName(status)));
  ReportLaunch(request.run_name, status, request.epoch);
}

// A launch's outcome to the cron leader that asked for it (none if the lease changed since).
void Node::ReportLaunch(const std::string& run_name, cron::LaunchStatus status, uint64_t epoch) {
  if (!leader_->active() || leader_->epoch() != epoch) return;
  if (settings_.config.fault_report_delay_ms() == 0) {
    leader_->OnLaunchResult(run_name, status, WallUs());
  } else {
    delayed_reports_.push_back(
        DelayedReport{Now().mono_us + int64_t{settings_.config.fault_report_delay_ms()} * 1000,
                      run_name, status});
  }
}

void Node::DoLookup(const cron::LookupRequest& request) {
  ++metrics_.lookups;
  // Who began it: the leader whose epoch the record carries; that node's ledger knows.
  Result<cron::ParsedRunName> parsed = cron::ParseRunName(request.run_name);
  uint32_t began_on = 0;
  if (parsed.ok()) {
    if (const cron::pb::JobState* job = sm_->FindJob(parsed.value().job); job != nullptr) {
      for (const cron::pb::RunRecord& r : job->open_runs()) {
        if (r.run_name() == request.run_name) began_on = NodeOfEpoch(r.epoch());
      }
    }
  }
  const int64_t scheduled_s = parsed.ok() ? parsed.value().scheduled_s : 0;
  if (IsSlurmRun(request.run_name)) {
    // Slurm knows, whoever began it; asked once no sbatch of it can be in flight any more.
    held_lookups_.emplace_back(SlurmLookupNotBefore(request.run_name), request);
    RunHeldLookups();
    return;
  }
  if (began_on == 0 || began_on == settings_.config.id()) {
    // Our own cron leader asks: no refusal (ExecLauncher::Lookup). A leader that lost its lease
    // between a run's launch-begin and its launch, and won it back, relaunches the run itself;
    // with a refusal written here that relaunch was rejected every 200 ms, for good (found by
    // the nemesis harness's ring_loss: a must-run time lost).
    const cron::LookupStatus status =
        exec_->Lookup(request.run_name, scheduled_s, WallUs(), /*refuse=*/false);
    Log("lookup", fmt::format("run={} node={} status={}", request.run_name, settings_.config.id(),
                              cron::LookupStatusName(status)));
    leader_->OnLookupResult(request.run_name, status, WallUs());
    return;
  }
  const uint64_t id = ++lookup_seq_;
  pb::PeerMessage m;
  m.mutable_ledger_query()->set_id(id);
  m.mutable_ledger_query()->set_run_name(request.run_name);
  m.mutable_ledger_query()->set_epoch(leader_->epoch());
  if (!transport_->SendToPeer(began_on, m.SerializeAsString())) {
    leader_->OnLookupResult(request.run_name, cron::LookupStatus::kUnknown, WallUs());
    return;
  }
  pending_lookups_[id] = PendingLookup{
      request.run_name, Now().mono_us + int64_t{settings_.config.lookup_timeout_ms()} * 1000};
}

void Node::OnExecExit(ExecResult result) {
  Log("run_exit", fmt::format("run={} exit_code={} signal={} timed_out={} duration_ms={}",
                              result.run_name, result.exit.exit_code(), result.exit.signal(),
                              result.exit.timed_out(), result.exit.duration_ms()));
  if (stopping_) return;
  cron::pb::Command c;
  c.mutable_run_finished()->set_run_name(result.run_name);
  *c.mutable_run_finished()->mutable_exit() = std::move(result.exit);
  c.mutable_run_finished()->mutable_exit()->set_node(settings_.config.id());
  ProposeCron(c, 0);  // best effort: a lost report leaves the run without its exit recorded
  Pump();
}

void Node::ExpirePending() {
  const int64_t now = Now().mono_us;
  for (auto it = pending_writes_.begin(); it != pending_writes_.end();) {
    if (it->second.deadline_mono_us > now) {
      ++it;
      continue;
    }
    pb::ClientResponse r;
    r.set_error("not applied within 10 s (it may still be): check with `jobs ls`");
    Reply(it->second.connection, r);
    it = pending_writes_.erase(it);
  }
  for (auto it = pending_lookups_.begin(); it != pending_lookups_.end();) {
    if (it->second.deadline_mono_us > now) {
      ++it;
      continue;
    }
    if (leader_->active()) {
      leader_->OnLookupResult(it->second.run_name, cron::LookupStatus::kUnknown, WallUs());
    }
    it = pending_lookups_.erase(it);
  }
}

// ---- Messages --------------------------------------------------------------------------------

void Node::OnPeerFrame(uint32_t peer_id, std::string_view payload) {
  if (!started_ || stopping_) return;
  pb::PeerMessage m;
  if (!m.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    ++metrics_.bad_peer_frames;
    return;
  }
  switch (m.body_case()) {
    case pb::PeerMessage::kPaxos:
      if (m.paxos().from() != peer_id) {
        ++metrics_.bad_peer_frames;  // a node speaks only for itself
        return;
      }
      if (mode_mismatch_.contains(peer_id)) {
        // Multi-Paxos and Fast Paxos replicas must not vote together: a multi leader's phase 1
        // does not apply the fast value-picking rule to fast votes (papers/fast-paxos.md).
        ++metrics_.mode_mismatch_frames;
        return;
      }
      replica_->Step(m.paxos(), Now());
      PumpSoon();
      return;
    case pb::PeerMessage::kLedgerQuery: {
      const std::string& run = m.ledger_query().run_name();
      Result<cron::ParsedRunName> parsed = cron::ParseRunName(run);
      pb::PeerMessage answer;
      answer.mutable_ledger_answer()->set_id(m.ledger_query().id());
      answer.mutable_ledger_answer()->set_run_name(run);
      const cron::LookupStatus status =
          parsed.ok() ? exec_->Lookup(run, parsed.value().scheduled_s, WallUs(), /*refuse=*/true,
                                      m.ledger_query().epoch())
                      : cron::LookupStatus::kUnknown;
      if (status == cron::LookupStatus::kUnknown) return;  // no answer: the asker times out
      answer.mutable_ledger_answer()->set_found(status == cron::LookupStatus::kFound);
      Log("ledger_query", fmt::format("from={} run={} found={}", peer_id, run,
                                      status == cron::LookupStatus::kFound));
      transport_->SendToPeer(peer_id, answer.SerializeAsString());
      return;
    }
    case pb::PeerMessage::kLedgerAnswer: {
      auto it = pending_lookups_.find(m.ledger_answer().id());
      if (it == pending_lookups_.end() || it->second.run_name != m.ledger_answer().run_name()) {
        return;  // late: the lookup timed out already
      }
      const cron::LookupStatus status =
          m.ledger_answer().found() ? cron::LookupStatus::kFound : cron::LookupStatus::kAbsent;
      Log("lookup", fmt::format("run={} node={} status={}", it->second.run_name, peer_id,
                                cron::LookupStatusName(status)));
      if (leader_->active()) leader_->OnLookupResult(it->second.run_name, status, WallUs());
      pending_lookups_.erase(it);
      CronStep();
      return;
    }
    case pb::PeerMessage::kHello:
      OnHello(peer_id, m.hello());
      return;
    case pb::PeerMessage::kWriteApplied:
      OnWriteApplied(m.write_applied());
      return;
    case pb::PeerMessage::BODY_NOT_SET:
      ++metrics_.bad_peer_frames;
      return;
  }
}

void Node::OnPeerConnected(uint32_t peer_id) {
  if (stopping_) return;
  pb::PeerMessage m;
  m.mutable_hello()->set_mode(settings_.config.mode());
  transport_->SendToPeer(peer_id, m.SerializeAsString());
}

// The peer's first frame on its connection (it may come again after a reconnect or a restart
// with another config): refuse its consensus messages while its mode differs from ours.
void Node::OnHello(uint32_t peer_id, const pb::NodeHello& hello) {
  const bool differs = hello.mode() != settings_.config.mode();
  if (differs && !mode_mismatch_.contains(peer_id)) {
    Log("mode_mismatch",
        fmt::format("peer={} ours={} theirs={} action=refuse_peer (mode must be the same on every "
                    "member)",
                    peer_id, settings_.config.mode(), hello.mode()));
  } else if (!differs && mode_mismatch_.contains(peer_id)) {
    Log("mode_match", fmt::format("peer={} mode={}", peer_id, hello.mode()));
  }
  if (differs) {
    mode_mismatch_.insert(peer_id);
  } else {
    mode_mismatch_.erase(peer_id);
  }
}

// Fast mode: the leader applied writes that this node's clients sent; answer them now (this node
// applies the same slots itself once it learns them, with the same results).
void Node::OnWriteApplied(const pb::WriteApplied& m) {
  for (const pb::WriteApplied::Result& r : m.results()) {
    auto pending = pending_writes_.find(r.command_id());
    if (pending == pending_writes_.end()) continue;  // answered already, or timed out
    pb::ClientResponse response;
    response.set_ok(r.ok());
    if (!r.ok()) response.set_error(r.error());
    Reply(pending->second.connection, response);
    pending_writes_.erase(pending);
  }
}

void Node::Reply(transport::ConnectionId connection, const pb::ClientResponse& response) {
  transport_->SendToClient(connection, response.SerializeAsString());
}

pb::ClusterStatus Node::StatusNow() const {
  pb::ClusterStatus s;
  const paxos::Now now = Now();
  s.set_node(settings_.config.id());
  s.set_role(paxos::RoleName(replica_->role()));
  const uint32_t hint = replica_->leader_hint().value;
  s.set_leader(IsLeader() ? settings_.config.id() : hint);
  s.set_lease_epoch(replica_->Lease().epoch.value);
  if (replica_->HoldsLease(now.mono_us)) {
    s.set_lease_remaining_ms((replica_->Lease().expiry_us - now.mono_us) / 1000);
  }
  s.set_applied_slot(applied_);
  s.set_snapshot_slot(store_->snapshot_slot());
  for (const auto& [id, address] : settings_.members) {
    pb::MemberStatus* m = s.add_members();
    m->set_id(id);
    m->set_address(address);
    m->set_connected(id == settings_.config.id() || transport_->PeerConnected(id));
  }
  s.set_jobs(sm_->job_count());
  s.set_wall_us(now.wall_us);
  s.set_mode(settings_.config.mode());
  return s;
}

void Node::OnClientFrame(transport::ConnectionId connection, std::string_view payload) {
  if (!started_ || stopping_) return;
  ++metrics_.client_requests;
  pb::ClientRequest request;
  pb::ClientResponse response;
  if (!request.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    response.set_error("malformed request");
    Reply(connection, response);
    return;
  }
  if (request.has_status()) {
    response.set_ok(true);
    *response.mutable_status() = StatusNow();
    Reply(connection, response);
    return;
  }
  // Fast mode: any node proposes a client's write itself (Fast Paxos: straight to the
  // acceptors), and answers it once the leader says it was applied.
  const bool write_here = IsLeader() || (Fast() && request.has_command());
  if (!write_here) {
    // Reads and writes go to the leader: its state is the freshest.
    const uint32_t hint = replica_->leader_hint().value;
    auto it = settings_.members.find(hint);
    if (hint != 0 && hint != settings_.config.id() && it != settings_.members.end()) {
      response.set_redirect(it->second);
    } else {
      response.set_error("no leader is known yet (an election may be running): try again");
    }
    Reply(connection, response);
    return;
  }
  switch (request.body_case()) {
    case pb::ClientRequest::kCommand: {
      const cron::pb::Command& c = request.command();
      if (c.has_launch_begin() || c.has_launch_end() || c.has_skip_run() || c.has_run_finished() ||
          c.has_take_over_run()) {
        response.set_error("only the cron leader records launches");
        Reply(connection, response);
        return;
      }
      if (!ProposeCron(c, connection)) {
        response.set_error(IsLeader()
                               ? "the leader's queue is full: try again"
                               : "no leader is known yet (an election may be running): try again");
        Reply(connection, response);
      } else if (!IsLeader()) {
        ++metrics_.fast_client_writes;
      }
      PumpSoon();
      return;  // answered once applied
    }
    case pb::ClientRequest::kListJobs:
      sm_->ForEachJob([&](const cron::pb::JobState& job) {
        cron::pb::JobState* out = response.add_jobs();
        *out->mutable_spec() = job.spec();
        out->set_paused(job.paused());
        out->set_next_fire_s(job.next_fire_s());
        out->set_last_success_s(job.last_success_s());
        out->set_last_failure_s(job.last_failure_s());
        out->set_runs_started(job.runs_started());
        out->set_expected_missing(job.expected_missing());
      });
      response.set_ok(true);
      Reply(connection, response);
      return;
    case pb::ClientRequest::kListRuns: {
      const uint32_t limit = std::min(
          request.list_runs().limit() == 0 ? kRunsLimitDefault : request.list_runs().limit(),
          kRunsLimitMax);
      for (pb::RunRow& row : RecentRuns(request.list_runs().job(), limit)) {
        *response.add_runs() = std::move(row);
      }
      response.set_ok(true);
      Reply(connection, response);
      return;
    }
    case pb::ClientRequest::kStatus:
    case pb::ClientRequest::BODY_NOT_SET:
      response.set_error("empty request");
      Reply(connection, response);
      return;
  }
}

std::vector<pb::RunRow> Node::RecentRuns(const std::string& job_filter, uint32_t limit) const {
  std::vector<pb::RunRow> rows;
  sm_->ForEachJob([&](const cron::pb::JobState& job) {
    if (!job_filter.empty() && job.spec().name() != job_filter) return;
    for (const auto* runs : {&job.history(), &job.open_runs()}) {
      for (const cron::pb::RunRecord& r : *runs) {
        pb::RunRow row;
        row.set_job(job.spec().name());
        *row.mutable_record() = r;
        rows.push_back(std::move(row));
      }
    }
  });
  // Newest first by scheduled time, then name: a stable order.
  std::sort(rows.begin(), rows.end(), [](const pb::RunRow& a, const pb::RunRow& b) {
    if (a.record().scheduled_s() != b.record().scheduled_s()) {
      return a.record().scheduled_s() > b.record().scheduled_s();
    }
    return a.record().run_name() < b.record().run_name();
  });
  if (rows.size() > limit) rows.resize(limit);
  return rows;
}

void Node::OnHttpTick(uv_timer_t* timer) { static_cast<Node*>(timer->data)->PublishHttp(); }

void Node::PublishHttp() {
  if (!http_ || !started_) return;
  const pb::ClusterStatus status = StatusNow();
  MetricsInput m;
  m.node = settings_.config.id();
  m.leader = IsLeader();
  m.clock_guard_holding = clock_guard_holding_;
  m.mode = settings_.config.mode();
  m.applied_slot = applied_;
  m.snapshot_slot = store_->snapshot_slot();
  m.jobs = sm_->job_count();
  m.lease_epoch = replica_->Lease().epoch.value;
  m.counters = metrics_;
  m.transport = transport_->stats();
  std::vector<cron::pb::JobState> jobs;
  std::vector<pb::RunRow> runs;
  if (IsLeader()) {  // the freshest state; other nodes point to the leader's page
    // The first kStatusPageJobs jobs only: the page is rebuilt on the loop twice a second, and
    // a table of tens of thousands would cost the leader more than its consensus work.
    sm_->ForEachJob([&](const cron::pb::JobState& j) {
      if (jobs.size() >= kStatusPageJobs) return;
      cron::pb::JobState copy;
      *copy.mutable_spec() = j.spec();
      copy.set_paused(j.paused());
      copy.set_next_fire_s(j.next_fire_s());
      copy.set_last_success_s(j.last_success_s());
      copy.set_runs_started(j.runs_started());
      jobs.push_back(std::move(copy));
    });
    runs = RecentRuns("", kStatusPageRuns);
  }
  http_->Publish(RenderMetrics(m), RenderStatusPage(status, jobs, runs));
}

void Node::OnClientClosed(transport::ConnectionId connection) {
  for (auto it = pending_writes_.begin(); it != pending_writes_.end();) {
    it = it->second.connection == connection ? pending_writes_.erase(it) : std::next(it);
  }
}

}  // namespace paxcron::node
