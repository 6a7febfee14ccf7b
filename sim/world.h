// The deterministic world: a discrete-event simulation of a cluster of paxos::Replica nodes on
// virtual time, with a network, disks, clocks, crashes and a client workload, all drawn from one
// seed. Same seed, same build: the same events in the same order, and a byte-identical trace.
//
// A run has a safety phase (faults on, for options.duration_us) and then a liveness phase
// (partitions healed, loss off, every node restarted) in which a new proposal must be applied by
// every node within options.liveness_bound_us. Checkers (checkers.h) watch throughout.
// Not thread-safe; run one World per thread.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/prng.h"
#include "cron/leader.h"
#include "cron/state_machine.h"
#include "paxos/replica.h"
#include "sim/checkers.h"
#include "sim/clock.h"
#include "sim/fault_plan.h"
#include "sim/health.h"
#include "sim/network.h"
#include "sim/options.h"
#include "sim/sim.pb.h"
#include "sim/trace.h"
#include "storage/mem_file_system.h"
#include "storage/node_store.h"
#include "tz/zone_cache.h"

namespace paxcron::sim {

// The clock guard's tolerance in the simulator: `skew` alone keeps wall clocks within a few
// seconds of each other (sim/clock.h); `clock-jump` moves one by minutes.
constexpr int64_t kSimClockToleranceUs = 5'000'000;

struct RunStats {
  uint64_t slots_chosen = 0;  // highest slot applied anywhere
  uint64_t commands_proposed = 0;
  uint64_t messages_sent = 0;  // between nodes (loopback not counted)
  uint64_t messages_dropped = 0;
  uint64_t crashes = 0;
  uint64_t partitions = 0;
  uint64_t elections_won = 0;
  uint64_t leases_started = 0;
  uint64_t events = 0;
  int64_t simulated_us = 0;
  int64_t liveness_us = -1;  // time from healing to the first probe applied everywhere
  // Cron runs (--jobs).
  uint64_t runs_started = 0;  // starts seen by the scheduler (the oracle)
  uint64_t runs_skipped = 0;  // skips recorded in the replicated history
  uint64_t launch_rpcs = 0;
  uint64_t clock_guard_trips = 0;  // a leader found its wall clock off and stood aside
  int64_t early_max_us = 0;        // the earliest start before its scheduled time, in true time
  // Snapshots.
  uint64_t snapshots_taken = 0;
  uint64_t snapshots_installed = 0;  // fetched from a peer
  // Fast Paxos (--mode fast), counted at the leaders.
  uint64_t fast_windows = 0;     // "any" windows opened or moved
  uint64_t fast_collisions = 0;  // fast slots where no value could reach a fast quorum
  uint64_t fast_recoveries = 0;  // coordinated recoveries (collisions and timed-out slots)
  uint64_t fast_fallbacks = 0;   // switches to classic rounds under sustained collisions
  // Storage (every node writes through the storage engine onto its simulated disk).
  uint64_t peak_log_bytes = 0;       // the largest write-ahead log on any node
  uint64_t peak_log_slots = 0;       // ... in slots above its compaction point
  uint64_t peak_snapshot_bytes = 0;  // the largest snapshot file
  uint64_t peak_disk_bytes = 0;      // the fullest simulated disk (log, snapshots, metadata)
  uint64_t torn_tails = 0;           // torn last records truncated at restarts
  uint64_t disk_flips = 0;           // bits flipped on durable data (--faults disk)
  uint64_t disk_damage_found = 0;    // restarts refused for damage (each breaks a node)
  // Lateness of scheduled (not manual) starts, on the launching leader's clock (lateness.cc).
  uint64_t late_checked_full = 0;      // starts judged against the steady bound
  uint64_t late_checked_majority = 0;  // starts judged against the failover bound
  int64_t late_max_full_us = 0;
  int64_t late_max_majority_us = 0;
  std::vector<int64_t> lateness_full_us;   // every start judged against the steady bound
  std::vector<uint64_t> starts_by_minute;  // runs started in each minute of true time
};

struct RunResult {
  uint64_t seed = 0;
  bool ok = true;
  std::string history;  // options.history_job's history at the end, as text (cron runs)
  Violation violation;
  RunStats stats;
};

class World {
 public:
  // The plan is usually GenerateFaultPlan(options, ...); property tests pass their own.
  World(const SimOptions& options, FaultPlan plan, Trace* trace);
  ~World();
  RunResult Run();

 private:
  struct Event {
    enum class Kind : uint8_t {
      kDeliver,
      kWakeup,
      kDiskDone,
      kLeaseCheck,
      kFault,
      kRestart,
      kClient,
      kLiveness,
      kProbe,
      kLivenessDeadline,
      // Cron runs.
      kCronTick,
      kCronWorkload,
      kSchedulerArrive,
      kSchedulerReply,
      kRpcTimeout,
      kSchedulerUp,
      kSettled,
      kHealth,    // a pause ends: the world's health may change
      kWriteback  // skip-fsync: the kernel flushes every node's dirty pages
    };
    int64_t t_us;
    uint64_t seq;
    Kind kind;
    uint32_t node;
    uint64_t arg;  // wakeup/lease-check time, fault index, incarnation, message id
    uint64_t incarnation;
    std::shared_ptr<const paxos::pb::Envelope> message;
    bool operator>(const Event& o) const { return t_us != o.t_us ? t_us > o.t_us : seq > o.seq; }
  };
  // Output waiting for the fsync of a batch of writes already staged in the node's store.
  struct DiskBatch {
    int64_t done_us;
    std::vector<paxos::Outgoing> messages;
    std::vector<paxos::Committed> committed;
  };
  struct Node {
    uint32_t id = 0;
    bool up = true;
    uint64_t incarnation = 0;
    NodeClock clock;
    paxos::Config config;
    std::unique_ptr<paxos::Replica> replica;
    // The node's simulated disk (it outlives crashes) and the storage engine on it (rebuilt from
    // the disk at each restart). A node whose disk turns out damaged stays down: `broken`.
    std::unique_ptr<storage::MemFileSystem> fs;
    std::unique_ptr<storage::NodeStore> store;
    bool broken = false;
    std::deque<DiskBatch> disk;                                  // FIFO, in-order completion
    std::deque<std::pair<int64_t, paxos::PersistOp>> writeback;  // ack-before-persist only
    int64_t wakeup_at_us = -1;
    paxos::Role role = paxos::Role::kFollower;
    uint64_t applied = 0;
    uint64_t checksum = 0;
    bool lease_held = false;
    uint64_t lease_epoch = 0;
    int64_t lease_true_expiry_us = 0;
    uint64_t command_seq = 0;
    // Cron runs: the node's replica of the cron state machine and its leader loop.
    std::unique_ptr<cron::CronStateMachine> sm;
    std::unique_ptr<cron::CronLeader> leader;
    int64_t cron_tick_at_us = -1;
    int64_t paused_until_us = -1;      // a paused node handles nothing before then
    bool clock_guard_tripped = false;  // since the guard last found this leader's clock off
    uint64_t applied_stamp_us = 0;     // of the last applied entry, for snapshots
  };
  // A request to the datacenter scheduler, in flight.
  struct Rpc {
    uint32_t node = 0;
    uint64_t incarnation = 0;
    bool launch = true;          // else a lookup
    std::string run_name;        // as the leader knows it
    std::string scheduler_name;  // as the scheduler sees it (differs under name-without-time)
    uint64_t epoch = 0;
    int64_t sent_us = 0;
    int64_t sender_wall_us = 0;  // the sender's wall clock as it sent the request
    // The true time of the NTP poll whose correction carried the sender's wall clock over the
    // run's scheduled time, or -1: lateness counts from there, not from the time skipped over.
    int64_t due_at_poll_us = -1;
    bool sender_held_lease = false;
    bool resolved = false;
    cron::LaunchStatus launch_status = cron::LaunchStatus::kUnknown;
    cron::LookupStatus lookup_status = cron::LookupStatus::kUnknown;
  };

  void Schedule(int64_t t_us, Event::Kind kind, uint32_t node, uint64_t arg,
                std::shared_ptr<const paxos::pb::Envelope> message = nullptr);
  void Dispatch(const Event& e);
  void ApplyFault(const FaultEvent& f);
  void ApplyPartition(const FaultEvent& f);
  uint32_t CurrentLeader() const;
  void StartLiveness();
  void SubmitCommand(Node& n, bool probe);

  // sim_node.cc: driving one node.
  paxos::Now NowOf(Node& n);
  void Pump(Node& n);
  void SendMessage(const paxos::Outgoing& out);
  void TraceFastEvents(Node& n, const paxos::Ready& ready);
  void ApplyCommitted(Node& n, const paxos::Committed& c, bool traced);
  // Liveness: one more node applied (or installed a snapshot holding) probe `probe_id`.
  void CountProbeApplied(uint64_t probe_id);
  void FlushWriteback(Node& n);
  void TrackRoleAndLease(Node& n);
  void EndTrackedLease(Node& n, const char* reason);
  void Crash(Node& n);
  void Restart(Node& n);
  std::unique_ptr<paxos::Replica> NewReplica(Node& n, const paxos::DurableState& durable);
  void HandleReady(Node& n);
  void ProcessReady(Node& n, paxos::Ready& ready);

  // sim_snapshot.cc: snapshots of a node's state machine, compaction and snapshot transfer.
  void MaybeTakeSnapshot(Node& n);
  // Opens the node's store on its disk, loads its snapshot and starts its replica; false when
  // the disk is damaged (the node is then broken).
  bool StartFromDisk(Node& n);
  void LoadOwnSnapshot(Node& n, const storage::Snapshot& snapshot);
  void NoteStorageSize(Node& n);
  void NoteDiskSize(Node& n);
  void DamageDisk(const FaultEvent& f);
  uint32_t LiveNodes() const;  // nodes not broken
  void LoadNodeSnapshot(Node& n, const pb::NodeSnapshot& snapshot);
  // True when the replica was called (it has new output).
  bool HandleSnapshotIo(Node& n, paxos::Ready& ready);

  // cron_driver.cc: the replicated cron on top (only with options.cron_jobs > 0).
  bool cron() const { return options_.cron_jobs > 0; }
  void InitCron();
  void ResetCron(Node& n);
  bool CronStep(Node& n);
  bool JumpLeavesAMajorityOfClocksRight(uint32_t target) const;
  bool ClockGuardHolds(Node& n, bool* handed_over);
  bool ProposeCron(Node& n, const cron::pb::Command& c);
  void ApplyCronCommands(Node& n, const paxos::pb::Entry& entry, bool traced);
  void SendSchedulerRpc(Node& n, bool launch, const std::string& run_name, uint64_t epoch);
  void OnSchedulerArrive(uint64_t rpc_id);
  void OnSchedulerReply(uint64_t rpc_id, bool timed_out);
  void CronWorkload();
  void FinalCronChecks();
  int64_t CronWall(Node& n);
  int64_t MajorityClockAheadUs() const;
  // The job's history on the up node that applied the most, as text.
  std::string HistoryOf(const std::string& job);

  // lateness.cc: the world's health over time and the bounded-lateness checker.
  Health HealthNow() const;
  void NoteHealth();
  void DipHealth(Health level);
  // A scheduled run started (or was skipped for being late): `fire_true_us` is the true time at
  // which the deciding node's clock read the scheduled time, `late_us` the lateness on that
  // clock.
  void CheckLateness(const std::string& run, int64_t fire_true_us, int64_t late_us, bool started);
  // A skip was applied (first time): one for being late is judged like a late start.
  void JudgeSkip(Node& n, const cron::pb::SkipRun& skip);

  SimOptions options_;
  FaultPlan plan_;
  Trace* trace_;
  Trace null_trace_;
  Checkers checkers_;
  Network network_;
  std::vector<Node> nodes_;   // index 0 unused: node ids are 1-based
  std::vector<Event> queue_;  // a min-heap on (t_us, seq): ties broken by scheduling order
  uint64_t next_seq_ = 0;
  int64_t now_us_ = 0;
  uint64_t message_id_ = 0;
  bool liveness_phase_ = false;
  bool done_ = false;
  int64_t liveness_start_us_ = 0;
  uint64_t probe_seq_ = 0;
  std::map<uint64_t, uint32_t> probe_applied_;  // probe command id -> nodes that applied it
  std::map<uint64_t, uint64_t> probe_slot_;     // probe command id -> its slot
  RunStats stats_;
  Prng net_rng_, disk_rng_, client_rng_, clock_rng_, node_rng_;

  // Cron runs.
  tz::ZoneCache zones_;
  DcScheduler scheduler_;
  std::vector<cron::pb::JobSpec> job_specs_;
  std::map<uint64_t, Rpc> rpcs_;
  uint64_t rpc_id_ = 0;
  int64_t scheduler_down_until_us_ = -1;
  uint64_t cron_traced_slot_ = 0;   // cron events are traced once, at a slot's first apply
  int64_t cron_check_until_s_ = 0;  // exactly-once covers scheduled times up to this
  HealthTimeline health_;
  struct SkipOrigin {
    int64_t true_us;  // when the skip was proposed
    int64_t wall_us;  // the proposer's wall clock then
  };
  std::map<std::string, SkipOrigin> skip_origins_;  // skips proposed, not yet applied
  // True times a cron leader loop began, or the node running one was frozen: each one starts a
  // failover, or may.
  std::vector<int64_t> leader_disruptions_;
  std::set<std::string> backfill_runs_;  // begun for a backfill, not yet started
  Prng cron_rng_;
};

}  // namespace paxcron::sim
