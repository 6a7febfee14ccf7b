// One real paxcron node (`paxcron node --config FILE`): the same paxos/, cron/ and storage/ code
// the simulator runs, driven by a libuv loop, the monotonic clock for leases and timers, the wall
// clock for schedules, real files (storage::PosixFileSystem), TCP (transport/) and real processes
// (exec_launcher.h). It follows the driver contract of paxos/replica.h: persist (fdatasync), then
// send, then apply; the cron leader loop runs only while the node holds the lease, and the lease
// is checked again, with a fresh clock reading, right before every launch.
//
// Clients (the CLI) talk to any node: a node that does not lead answers with the leader's
// address (ClientResponse.redirect). Writes are proposed through the log and answered once
// applied. In fast mode (config `mode: "fast"`) a follower takes writes itself: its replica sends
// them straight to the acceptors in the leader's fast window (or forwards them to the leader),
// and the leader, which learns the slot first, tells it how each was applied (WriteApplied).
// Each node says its mode first on every connection it dials (NodeHello); a peer in another mode
// is logged (`mode_mismatch`) and its consensus messages are dropped.
// Single-threaded: everything runs on the loop's thread.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "cron/leader.h"
#include "cron/state_machine.h"
#include "node/config.h"
#include "node/exec_launcher.h"
#include "node/http_status.h"
#include "node/launch_ledger.h"
#include "node/node.pb.h"
#include "node/slurm_launcher.h"
#include "node/status_page.h"
#include "paxos/replica.h"
#include "storage/node_store.h"
#include "storage/posix_file_system.h"
#include "transport/transport.h"
#include "tz/zone_cache.h"

namespace paxcron::node {

using NodeMetrics = NodeCounters;

class Node final : public transport::TransportHandler {
 public:
  using Logger = std::function<void(std::string_view line)>;
  Node(uv_loop_t* loop, NodeSettings settings, Logger log);
  ~Node() override;

  // Opens the data directory (recovering it), starts the replica, listens and dials peers.
  // Errors: damage on disk (named with file and offset), a port in use, ...
  Status Start();
  // Graceful stop (SIGTERM): a leader hands over its leadership first; then every handle is
  // closed and the loop ends.
  void Shutdown();

  const NodeMetrics& metrics() const { return metrics_; }

  // transport::TransportHandler
  void OnPeerFrame(uint32_t peer_id, std::string_view payload) override;
  void OnClientFrame(transport::ConnectionId connection, std::string_view payload) override;
  void OnClientClosed(transport::ConnectionId connection) override;
  void OnPeerConnected(uint32_t peer_id) override;

 private:
  struct PendingWrite {
    transport::ConnectionId connection;
    int64_t deadline_mono_us;
  };
  struct PendingLookup {
    std::string run_name;
    int64_t deadline_mono_us;
  };

  void FinishShutdown();
  bool HandOverComplete() const;
  paxos::Now Now() const;
  int64_t WallUs() const;
  void Log(std::string_view event, std::string_view fields = {});

  // The driver loop. PumpSoon() defers the work to the end of this loop iteration (a uv_check
  // handle): every frame read in one iteration is stepped first, then one Ready is taken, so
  // that many requests share one fdatasync (group commit) and one accept round.
  void Pump();
  void PumpSoon();
  static void OnCheck(uv_check_t* check);
  void ProcessReady(paxos::Ready& ready);
  void CountFastEvents(const paxos::Ready& ready);
  bool Fast() const { return settings_.paxos.mode == paxos::Mode::kFast; }
  // Fast mode, leader: the result of a client write that came through another node, for that
  // node (sent at the end of the Ready that applied it).
  void NoteWriteApplied(uint64_t command_id, const Status& result);
  void SendWriteNotices();
  void OnHello(uint32_t peer_id, const pb::NodeHello& hello);
  void OnWriteApplied(const pb::WriteApplied& m);
  void SendPaxos(const paxos::Outgoing& out);
  void SyncLazyWrites();
  void DieUnlessOk(const Status& written);
  void ApplyCommitted(const paxos::Committed& c);
  void MaybeSnapshot();
  bool HandleSnapshotIo(paxos::Ready& ready);
  void CronStep();
  bool ClockGuardHolds();
  void TrackRole();
  void ArmWakeup(int64_t mono_us);
  static void OnWakeup(uv_timer_t* timer);
  static void OnCronTick(uv_timer_t* timer);
  void ExpirePending();

  // Launches and lookups.
  void DoLaunch(const cron::LaunchRequest& request);
  void DoLookup(const cron::LookupRequest& request);
  void OnExecExit(ExecResult result);
  void ReportLaunch(const std::string& run_name, cron::LaunchStatus status, uint64_t epoch);
  // The slurm launcher (docs/slurm.md): launches and lookups as child processes, lookups held
  // until no sbatch that could still create the run can be in flight, and the polling of
  // started runs for their end.
  bool IsSlurmRun(const std::string& run_name) const;
  void DoSlurmLaunch(const cron::LaunchRequest& request);
  int64_t SlurmLookupNotBefore(const std::string& run_name) const;
  void DoSlurmLookup(const cron::LookupRequest& request);
  void RunHeldLookups();
  void PollSlurm();
  void OnSlurmPolled(bool ok, const std::vector<SlurmJob>& jobs, uint64_t epoch);
  bool ProposeCron(const cron::pb::Command& command, transport::ConnectionId reply_to);

  // HTTP: /metrics and the status page, rendered here, served by another thread.
  static void OnHttpTick(uv_timer_t* timer);
  void PublishHttp();
  std::vector<pb::RunRow> RecentRuns(const std::string& job, uint32_t limit) const;

  // Clients.
  void Reply(transport::ConnectionId connection, const pb::ClientResponse& response);
  pb::ClusterStatus StatusNow() const;
  bool IsLeader() const;

  uv_loop_t* loop_;
  NodeSettings settings_;
  Logger log_;
  storage::PosixFileSystem fs_;
  std::unique_ptr<storage::NodeStore> store_;
  std::unique_ptr<LaunchLedger> ledger_;
  std::unique_ptr<paxos::Replica> replica_;
  tz::ZoneCache zones_;
  std::unique_ptr<cron::CronStateMachine> sm_;
  std::unique_ptr<cron::CronLeader> leader_;
  std::unique_ptr<ExecLauncher> exec_;
  std::unique_ptr<SlurmLauncher> slurm_;
  int64_t leader_since_mono_us_ = 0;  // when this node's cron leader last started
  // Slurm runs whose last sbatch ended (mono us): a lookup waits the settling time after it.
  // Bounded by the cron leader's tasks; cleared when the leader stops.
  std::map<std::string, int64_t> sbatch_ended_mono_us_;
  std::deque<std::pair<int64_t, cron::LookupRequest>> held_lookups_;  // (not before, lookup)
  bool slurm_poll_in_flight_ = false;
  int64_t next_slurm_poll_mono_us_ = 0;
  std::set<std::string> slurm_finish_proposed_;  // bounded: cleared at each poll
  std::unique_ptr<transport::Transport> transport_;
  uv_timer_t wakeup_timer_{};
  uv_timer_t cron_timer_{};
  uv_timer_t http_timer_{};
  uv_check_t check_{};
  bool pump_pending_ = false;
  std::unique_ptr<HttpStatusServer> http_;
  int64_t wakeup_at_us_ = -1;
  bool started_ = false;
  bool stopping_ = false;
  bool clock_guard_tripped_ = false;  // said once per episode of an off clock
  bool clock_guard_holding_ = false;  // the guard kept the leader back at the last cron step
  bool handing_over_ = false;         // handed over on SIGTERM; lingering as a follower (Shutdown)
  int64_t handover_started_us_ = 0;
  paxos::Ballot handover_ballot_;
  uint64_t max_accepted_slot_ = 0;  // the highest slot this node ever accepted a value for
  bool pumping_ = false;
  bool unsynced_ = false;  // chosen marks staged and not yet fsynced (ProcessReady)
  std::deque<std::shared_ptr<const paxos::pb::Envelope>> to_self_;
  uint64_t applied_ = 0;
  uint64_t applied_stamp_us_ = 0;
  uint64_t log_bytes_since_snapshot_ = 0;  // entries applied since the last snapshot taken here
  uint64_t command_seq_ = 0;
  paxos::Role role_ = paxos::Role::kFollower;
  bool lease_held_ = false;
  std::map<uint64_t, PendingWrite> pending_writes_;     // paxos command id -> client
  std::map<uint64_t, PendingLookup> pending_lookups_;   // ledger query id -> run
  std::map<uint32_t, pb::WriteApplied> write_notices_;  // by node: results to send it
  std::set<uint32_t> mode_mismatch_;                    // peers whose hello named another mode
  uint64_t lookup_seq_ = 0;
  // fault_launch_delay_ms: launches held back until their time (mono us); bounded by the cron
  // leader's tasks, cleared when the lease is lost.
  std::deque<std::pair<int64_t, cron::LaunchRequest>> delayed_launches_;
  struct DelayedReport {  // fault_report_delay_ms: a launch outcome held back
    int64_t due_mono_us;
    std::string run_name;
    cron::LaunchStatus status;
  };
  std::deque<DelayedReport> delayed_reports_;
  NodeMetrics metrics_;
};

}  // namespace paxcron::node
