#include "node/exec_launcher.h"

#include <fmt/format.h>
#include <signal.h>

#include <vector>

#include "common/assert.h"
#include "cron/civil_time.h"

extern char** environ;

namespace paxcron::node {
namespace {

constexpr uint64_t kDrainMs = 200;  // after the exit, how long output may still arrive

}  // namespace

// One spawned process and the handles that watch it. Freed once every handle is closed.
struct ExecLauncher::Run {
  ExecLauncher* owner = nullptr;
  std::string run_name;
  uv_process_t process{};
  uv_pipe_t out{}, err{};
  uv_timer_t timer{};
  uint64_t started_ns = 0;
  bool exited = false;
  int open_pipes = 0;    // pipes not yet at end of file
  int open_handles = 0;  // handles not yet closed
  std::string tail;
  char buffer[4096];
  cron::pb::RunExit exit;
};

ExecLauncher::ExecLauncher(uv_loop_t* loop, LaunchLedger* ledger, uint32_t output_tail_bytes,
                           OnExit on_exit, std::function<void(std::string_view)> log)
    : loop_(loop),
      ledger_(ledger),
      output_tail_bytes_(output_tail_bytes),
      on_exit_(std::move(on_exit)),
      log_(std::move(log)) {}

ExecLauncher::~ExecLauncher() {
  // The processes go on (they are in sessions of their own); the handles must be closed by
  // running the loop after this (the node does, at shutdown). Detach them from this object.
  for (auto& [ptr, run] : running_) CloseRun(run.release());
  running_.clear();
}

cron::LookupStatus ExecLauncher::Lookup(const std::string& run_name, int64_t scheduled_s,
                                        int64_t wall_us, bool refuse, uint64_t asker_epoch) {
  switch (ledger_->Find(run_name)) {
    case LaunchLedger::Entry::kLaunched:
      return cron::LookupStatus::kFound;
    case LaunchLedger::Entry::kRefused:
    case LaunchLedger::Entry::kNone:
      break;
  }
  if (!refuse) return cron::LookupStatus::kAbsent;
  // "Absent" must stay true for the asker: refuse the run here before saying so (a refusal that
  // covers the asker already is left as it is; a later asker widens it).
  if (Status s = ledger_->Refuse(run_name, scheduled_s, wall_us, asker_epoch); !s.ok()) {
    if (log_) log_(fmt::format("event=refusal_failed run={} error=\"{}\"", run_name, s.message()));
    return cron::LookupStatus::kUnknown;
  }
  return cron::LookupStatus::kAbsent;
}

cron::LaunchStatus ExecLauncher::Launch(const cron::LaunchRequest& request, int64_t wall_us) {
  switch (ledger_->Find(request.run_name)) {
    case LaunchLedger::Entry::kLaunched:
      return cron::LaunchStatus::kAlreadyExists;
    case LaunchLedger::Entry::kRefused:
      // This node told a leader of this epoch or a later one that it never started the run: it
      // never will. A refusal for an earlier leader does not bind this node leading after it
      // (the run's record names this node's epoch by now: TakeOverRun).
      if (ledger_->Refuses(request.run_name, request.epoch)) return cron::LaunchStatus::kRejected;
      break;
    case LaunchLedger::Entry::kNone:
      break;
  }
  if (Status s = ledger_->Record(request.run_name, request.scheduled_s, wall_us); !s.ok()) {
    if (log_)
      log_(fmt::format("event=launch_refused run={} error=\"{}\"", request.run_name, s.message()));
    return cron::LaunchStatus::kRejected;
  }
  auto owned = std::make_unique<Run>();
  Run* run = owned.get();
  run->owner = this;
  run->run_name = request.run_name;
  run->started_ns = uv_hrtime();
  run->exit.set_reported(true);

  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view kv(*e);
    if (kv.starts_with("PAXCRON_")) continue;
    env_strings.emplace_back(kv);
  }
  env_strings.push_back("PAXCRON_JOB=" + request.spec.name());
  env_strings.push_back("PAXCRON_RUN=" + request.run_name);
  env_strings.push_back("PAXCRON_SCHEDULED_TIME=" +
                        cron::FormatRfc3339(request.scheduled_s, 0, /*zulu=*/true));
  std::vector<char*> env;
  for (std::string& s : env_strings) env.push_back(s.data());
  env.push_back(nullptr);
  std::string shell = "/bin/sh", dash_c = "-c", command = request.spec.command();
  char* args[] = {shell.data(), dash_c.data(), command.data(), nullptr};

  uv_pipe_init(loop_, &run->out, 0);
  uv_pipe_init(loop_, &run->err, 0);
  run->out.data = run->err.data = run->process.data = run->timer.data = run;
  uv_timer_init(loop_, &run->timer);  // the timeout, or the wait for the last output
  run->open_handles = 4;
  uv_stdio_container_t stdio[3];
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[1].data.stream = reinterpret_cast<uv_stream_t*>(&run->out);
  stdio[2].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[2].data.stream = reinterpret_cast<uv_stream_t*>(&run->err);
  uv_process_options_t options{};
  options.exit_cb = &ExecLauncher::OnProcessExit;
  options.file = shell.c_str();
  options.args = args;
  options.env = env.data();
  options.flags = UV_PROCESS_DETACHED;  // setsid(): its own process group, outlives the node
  options.stdio_count = 3;
  options.stdio = stdio;
  const int rc = uv_spawn(loop_, &run->process, &options);
  running_[run] = std::move(owned);
  if (rc != 0) {
    // Recorded but not started: report a failed run at once (as a shell would, 127). The
    // handles were initialized by uv_spawn all the same and are closed as usual.
    if (log_) {
      log_(fmt::format("event=spawn_failed run={} error=\"{}\"", run->run_name, uv_strerror(rc)));
    }
    run->exit.set_exit_code(127);
    run->exit.set_output_tail(
        fmt::format("paxcron: could not start /bin/sh: {}\n", uv_strerror(rc)));
    ExecResult result{run->run_name, run->exit};
    CloseRun(running_[run].release());
    running_.erase(run);
    on_exit_(std::move(result));
    return cron::LaunchStatus::kStarted;
  }
  run->open_pipes = 2;
  uv_read_start(reinterpret_cast<uv_stream_t*>(&run->out), &ExecLauncher::OnAlloc,
                &ExecLauncher::OnRead);
  uv_read_start(reinterpret_cast<uv_stream_t*>(&run->err), &ExecLauncher::OnAlloc,
                &ExecLauncher::OnRead);
  if (request.spec.timeout_s() > 0) {
    uv_timer_start(&run->timer, &ExecLauncher::OnTimeout, uint64_t{request.spec.timeout_s()} * 1000,
                   0);
  }
  if (log_) log_(fmt::format("event=launched run={} pid={}", run->run_name, run->process.pid));
  return cron::LaunchStatus::kStarted;
}

void ExecLauncher::OnAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  Run* run = static_cast<Run*>(handle->data);
  *buf = uv_buf_init(run->buffer, sizeof run->buffer);
}

void ExecLauncher::OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  Run* run = static_cast<Run*>(stream->data);
  if (nread > 0) {
    run->tail.append(buf->base, static_cast<size_t>(nread));
    const size_t keep = run->owner->output_tail_bytes_;
    if (run->tail.size() > 2 * keep) run->tail.erase(0, run->tail.size() - keep);
    return;
  }
  if (nread == 0) return;  // EAGAIN
  uv_read_stop(stream);
  --run->open_pipes;
  run->owner->MaybeFinish(run);
}

void ExecLauncher::OnProcessExit(uv_process_t* process, int64_t exit_status, int term_signal) {
  Run* run = static_cast<Run*>(process->data);
  run->exited = true;
  run->exit.set_exit_code(static_cast<int32_t>(exit_status));
  run->exit.set_signal(term_signal);
  run->exit.set_duration_ms(static_cast<int64_t>((uv_hrtime() - run->started_ns) / 1'000'000));
  uv_timer_stop(&run->timer);
  if (run->open_pipes > 0) {
    // Output may still be in the pipes: give it a moment, but a grandchild holding them open
    // past its parent's exit does not delay the report for ever.
    uv_timer_start(&run->timer, &ExecLauncher::OnTimeout, kDrainMs, 0);
    return;
  }
  run->owner->MaybeFinish(run);
}

void ExecLauncher::OnTimeout(uv_timer_t* timer) {
  Run* run = static_cast<Run*>(timer->data);
  if (run->exited) {  // the drain wait is over
    run->owner->MaybeFinish(run, /*force=*/true);
    return;
  }
  run->exit.set_timed_out(true);
  // The whole session: sh and whatever it started.
  ::kill(-run->process.pid, SIGKILL);
  if (run->owner->log_) run->owner->log_(fmt::format("event=timeout run={}", run->run_name));
}

void ExecLauncher::MaybeFinish(Run* run, bool force) {
  // Report once the process has exited and its output is read to the end (or the drain wait
  // is over).
  if (!run->exited || (run->open_pipes > 0 && !force)) return;
  for (uv_pipe_t* p : {&run->out, &run->err}) uv_read_stop(reinterpret_cast<uv_stream_t*>(p));
  run->open_pipes = 0;
  const size_t keep = output_tail_bytes_;
  if (run->tail.size() > keep) run->tail.erase(0, run->tail.size() - keep);
  run->exit.set_output_tail(run->tail);
  ExecResult result{run->run_name, run->exit};
  auto it = running_.find(run);
  PAXCRON_ASSERT(it != running_.end());
  CloseRun(it->second.release());
  running_.erase(it);
  on_exit_(std::move(result));
}

void ExecLauncher::CloseRun(Run* run) {
  auto closed = [](uv_handle_t* h) {
    Run* r = static_cast<Run*>(h->data);
    if (--r->open_handles == 0) delete r;
  };
  for (uv_handle_t* h :
       {reinterpret_cast<uv_handle_t*>(&run->out), reinterpret_cast<uv_handle_t*>(&run->err),
        reinterpret_cast<uv_handle_t*>(&run->process),
        reinterpret_cast<uv_handle_t*>(&run->timer)}) {
    if (!uv_is_closing(h)) uv_close(h, closed);
  }
}

}  // namespace paxcron::node
