#include "node/child_process.h"

#include <fmt/format.h>
#include <signal.h>

#include <string_view>

#include "common/assert.h"

extern char** environ;

namespace paxcron::node {
namespace {

// The loop's own kill comes this long after `timeout`'s, which should have fired first.
constexpr uint32_t kBackstopMs = 2000;
// After the exit, how long output may still arrive (a grandchild may hold the pipes open).
constexpr uint64_t kDrainMs = 200;

// `timeout` runs the command in a process group of its own (its pid): kill them both. (Right
// after the spawn the group may not exist yet: the pid alone then.)
void KillChild(int pid) {
  ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
}

}  // namespace

struct ChildRunner::Child {
  ChildRunner* owner = nullptr;  // nullptr once detached by the destructor
  uv_process_t process{};
  uv_pipe_t out{}, err{};
  uv_timer_t timer{};
  int open_pipes = 0;
  int open_handles = 0;
  bool exited = false;
  Done done;
  ChildResult result;
  char buffer[16384];
};

ChildRunner::ChildRunner(uv_loop_t* loop, size_t in_flight_max, size_t queue_max)
    : loop_(loop), in_flight_max_(in_flight_max), queue_max_(queue_max) {
  PAXCRON_ASSERT(in_flight_max_ > 0);
}

ChildRunner::~ChildRunner() {
  queue_.clear();
  for (auto& [ptr, owned] : running_) {
    Child* c = owned.release();
    c->owner = nullptr;
    if (!c->exited) KillChild(c->process.pid);
    Close(c);
  }
  running_.clear();
}

bool ChildRunner::Run(std::vector<std::string> argv, std::vector<std::string> extra_env,
                      uint32_t timeout_ms, Done done) {
  PAXCRON_ASSERT(!argv.empty() && timeout_ms > 0);
  Request r{std::move(argv), std::move(extra_env), timeout_ms, std::move(done)};
  if (running_.size() < in_flight_max_) {
    Spawn(std::move(r));
    return true;
  }
  if (queue_.size() >= queue_max_) return false;
  queue_.push_back(std::move(r));
  return true;
}

void ChildRunner::Spawn(Request request) {
  auto owned = std::make_unique<Child>();
  Child* c = owned.get();
  c->owner = this;
  c->done = std::move(request.done);
  // timeout -s KILL SECONDS argv...: the deadline holds even if this node dies meanwhile.
  std::vector<std::string> args = {"timeout", "-s", "KILL",
                                   fmt::format("{:.3f}", request.timeout_ms / 1000.0)};
  for (std::string& a : request.argv) args.push_back(std::move(a));
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!std::string_view(*e).starts_with("PAXCRON_")) env_strings.emplace_back(*e);
  }
  for (std::string& e : request.env) env_strings.push_back(std::move(e));
  std::vector<char*> env;
  for (std::string& e : env_strings) env.push_back(e.data());
  env.push_back(nullptr);

  uv_pipe_init(loop_, &c->out, 0);
  uv_pipe_init(loop_, &c->err, 0);
  uv_timer_init(loop_, &c->timer);
  c->out.data = c->err.data = c->process.data = c->timer.data = c;
  c->open_handles = 4;
  uv_stdio_container_t stdio[3];
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[1].data.stream = reinterpret_cast<uv_stream_t*>(&c->out);
  stdio[2].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[2].data.stream = reinterpret_cast<uv_stream_t*>(&c->err);
  uv_process_options_t options{};
  options.exit_cb = &ChildRunner::OnExit;
  options.file = argv[0];
  options.args = argv.data();
  options.env = env.data();
  options.stdio_count = 3;
  options.stdio = stdio;
  const int rc = uv_spawn(loop_, &c->process, &options);
  running_[c] = std::move(owned);
  if (rc != 0) {
    c->exited = true;
    c->result.spawn_failed = true;
    c->result.err = fmt::format("cannot run {}: {}", args[4], uv_strerror(rc));
    Finish(c);
    return;
  }
  c->open_pipes = 2;
  for (uv_pipe_t* p : {&c->out, &c->err}) {
    uv_read_start(reinterpret_cast<uv_stream_t*>(p), &ChildRunner::OnAlloc, &ChildRunner::OnRead);
  }
  uv_timer_start(&c->timer, &ChildRunner::OnTimer, request.timeout_ms + kBackstopMs, 0);
}

void ChildRunner::OnAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  Child* c = static_cast<Child*>(handle->data);
  *buf = uv_buf_init(c->buffer, sizeof c->buffer);
}

void ChildRunner::OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  Child* c = static_cast<Child*>(stream->data);
  if (nread > 0) {
    std::string& to =
        stream == reinterpret_cast<uv_stream_t*>(&c->out) ? c->result.out : c->result.err;
    if (to.size() < kChildOutputMax) to.append(buf->base, static_cast<size_t>(nread));
    return;
  }
  if (nread == 0) return;
  uv_read_stop(stream);
  --c->open_pipes;
  if (c->exited && c->open_pipes == 0 && c->owner != nullptr) c->owner->Finish(c);
}

void ChildRunner::OnExit(uv_process_t* process, int64_t exit_status, int term_signal) {
  Child* c = static_cast<Child*>(process->data);
  c->exited = true;
  c->result.exit_status = exit_status;
  c->result.term_signal = term_signal;
  // coreutils timeout: 124 after its signal (TERM), 137 when it sent KILL (128 + 9).
  if (exit_status == 124 || exit_status == 137 || term_signal == SIGKILL)
    c->result.timed_out = true;
  if (c->owner == nullptr) return;
  uv_timer_stop(&c->timer);
  if (c->open_pipes > 0) {
    uv_timer_start(&c->timer, &ChildRunner::OnTimer, kDrainMs, 0);
    return;
  }
  c->owner->Finish(c);
}

void ChildRunner::OnTimer(uv_timer_t* timer) {
  Child* c = static_cast<Child*>(timer->data);
  if (c->owner == nullptr) return;
  if (!c->exited) {  // the backstop: `timeout` did not end it
    c->result.timed_out = true;
    KillChild(c->process.pid);
    return;  // OnExit follows
  }
  c->owner->Finish(c);  // the drain wait is over
}

void ChildRunner::Finish(Child* c) {
  auto it = running_.find(c);
  PAXCRON_ASSERT(it != running_.end());
  std::unique_ptr<Child> owned = std::move(it->second);
  running_.erase(it);
  Done done = std::move(c->done);
  ChildResult result = std::move(c->result);
  c->owner = nullptr;
  owned.release();
  Close(c);
  StartNext();
  done(std::move(result));  // last: it may call Run() again, or destroy nothing of ours
}

// The handles close as the loop runs on; the last one frees the child.
void ChildRunner::Close(Child* c) {
  for (uv_handle_t* h :
       {reinterpret_cast<uv_handle_t*>(&c->out), reinterpret_cast<uv_handle_t*>(&c->err),
        reinterpret_cast<uv_handle_t*>(&c->process), reinterpret_cast<uv_handle_t*>(&c->timer)}) {
    if (!uv_is_closing(h)) {
      uv_close(h, [](uv_handle_t* handle) {
        Child* child = static_cast<Child*>(handle->data);
        if (--child->open_handles == 0) delete child;
      });
    }
  }
}

void ChildRunner::StartNext() {
  while (!queue_.empty() && running_.size() < in_flight_max_) {
    Request r = std::move(queue_.front());
    queue_.pop_front();
    Spawn(std::move(r));
  }
}

}  // namespace paxcron::node
