// Short-lived helper processes (sbatch, squeue, grep) run off the node's event loop: each is
// spawned with libuv, its stdout and stderr read through pipes, and its result handed back on
// the loop when it ends. Every child has a deadline, enforced twice: it runs under coreutils'
// `timeout -s KILL` (so it dies on time even if this node is killed first), and a loop timer
// kills it a little later should that fail. At most `in_flight_max` children run at once; more
// wait in a queue of at most `queue_max`. Single-threaded: the node's libuv loop.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace paxcron::node {

struct ChildResult {
  int64_t exit_status = -1;
  int term_signal = 0;
  bool timed_out = false;     // killed at its deadline
  bool spawn_failed = false;  // never ran (err says why)
  std::string out, err;       // at most kChildOutputMax bytes each
  bool ok() const { return !timed_out && !spawn_failed && exit_status == 0 && term_signal == 0; }
};

inline constexpr size_t kChildOutputMax = 4 << 20;

class ChildRunner {
 public:
  using Done = std::function<void(ChildResult)>;
  ChildRunner(uv_loop_t* loop, size_t in_flight_max, size_t queue_max);
  // Running children are killed; their callbacks are never called.
  ~ChildRunner();
  ChildRunner(const ChildRunner&) = delete;
  ChildRunner& operator=(const ChildRunner&) = delete;

  // Runs argv (found in PATH) with the node's environment plus `extra_env` (KEY=VALUE). False
  // when the queue is full: `done` is then never called.
  bool Run(std::vector<std::string> argv, std::vector<std::string> extra_env, uint32_t timeout_ms,
           Done done);
  size_t in_flight() const { return running_.size(); }
  size_t queued() const { return queue_.size(); }

 private:
  struct Child;
  struct Request {
    std::vector<std::string> argv, env;
    uint32_t timeout_ms;
    Done done;
  };
  void Spawn(Request request);
  void Finish(Child* child);
  void StartNext();
  static void Close(Child* child);
  static void OnExit(uv_process_t* process, int64_t exit_status, int term_signal);
  static void OnTimer(uv_timer_t* timer);
  static void OnAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);

  uv_loop_t* loop_;
  size_t in_flight_max_, queue_max_;
  std::map<Child*, std::unique_ptr<Child>> running_;
  std::deque<Request> queue_;
};

}  // namespace paxcron::node
