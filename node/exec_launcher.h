// The `exec` launcher, the embedded default (issue "A real cluster", section 3): the leader runs
// a job's command with /bin/sh -c on its own machine, with PAXCRON_JOB, PAXCRON_RUN (the run name)
// and PAXCRON_SCHEDULED_TIME (RFC 3339, UTC) in its environment.
//
// At most once, even across kill -9: the run name is written durably to the node's launch ledger
// before the process is spawned (launch_ledger.h), so this node can always answer "did you start
// it?"; a new leader asks before deciding per the job's policy. Each process runs in a session of
// its own (so a timeout kills the whole tree, and a node's death does not kill its runs); its exit
// status, duration and the last bytes of its stdout and stderr are reported when it ends. A run
// still going after the job's timeout_s is killed (SIGKILL to its process group). Single-threaded:
// the node's libuv loop.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "cron/launcher.h"
#include "node/launch_ledger.h"

namespace paxcron::node {

struct ExecResult {
  std::string run_name;
  cron::pb::RunExit exit;  // exit_code or signal, timed_out, duration_ms, output_tail
};

class ExecLauncher {
 public:
  using OnExit = std::function<void(ExecResult)>;
  ExecLauncher(uv_loop_t* loop, LaunchLedger* ledger, uint32_t output_tail_bytes, OnExit on_exit,
               std::function<void(std::string_view)> log);
  ~ExecLauncher();
  ExecLauncher(const ExecLauncher&) = delete;
  ExecLauncher& operator=(const ExecLauncher&) = delete;

  // kStarted once the ledger holds the run and the process was spawned (or failed to spawn: the
  // exit is then reported at once, exit code 127). kRejected when the ledger write failed, or
  // this node answered a lookup of the run by a leader of the request's epoch or a later one
  // with "absent": nothing was started. kAlreadyExists when the ledger already holds the run:
  // never twice.
  cron::LaunchStatus Launch(const cron::LaunchRequest& request, int64_t wall_us);
  // kFound if this node's ledger holds the run as launched; else kAbsent, after recording a
  // refusal so that it stays absent for the asker (launch_ledger.h); kUnknown if that write
  // failed. The refusal covers this node's launches under epochs up to `asker_epoch`, the
  // asking leader's (0, not known: every epoch): this node may still launch the run as a later
  // leader, once the run's record names it. Without `refuse` (the asker is this node's own cron
  // leader, which will launch the run again itself under its current epoch) no refusal is
  // written: this node's launches of older epochs are refused by the node's lease check.
  cron::LookupStatus Lookup(const std::string& run_name, int64_t scheduled_s, int64_t wall_us,
                            bool refuse = true, uint64_t asker_epoch = 0);

  size_t running() const { return running_.size(); }

 private:
  struct Run;
  static void OnProcessExit(uv_process_t* process, int64_t exit_status, int term_signal);
  static void OnTimeout(uv_timer_t* timer);
  static void OnAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  void MaybeFinish(Run* run, bool force = false);
  void CloseRun(Run* run);

  uv_loop_t* loop_;
  LaunchLedger* ledger_;
  uint32_t output_tail_bytes_;
  OnExit on_exit_;
  std::function<void(std::string_view)> log_;
  std::map<Run*, std::unique_ptr<Run>> running_;
};

}  // namespace paxcron::node
