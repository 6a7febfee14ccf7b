// paxcron against etcd on one machine (issue 5, section 9): a benchmark program, not a test.
// It starts a 3-node paxcron cluster (`paxcron cluster up`) and a 3-member etcd cluster (the
// `etcd` binary, durable fsync as etcd does by default), both on 127.0.0.1 with their data in DIR,
// and measures, side by side in one run:
//   1. closed-loop writes of 256-byte commands with 1, 16 and 64 concurrent clients, each client
//      waiting for its write to be committed before sending the next: commits per second, p50 and
//      p99 latency. paxcron: put_job of a new job (schedule '0 0 1 1 *', so nothing runs) sent to
//      the leader over the client protocol; etcd: put of a new key through its v3 HTTP/JSON
//      gateway, one keep-alive connection per client, to the leader. Per point, where the time
//      went: writes per fsync and the mean fsync on the leader, CPU of the servers, of this
//      program and of the whole machine (others may share it);
//   2. failover: the leader killed with SIGKILL, time until a write is accepted again through any
//      surviving member; the member restarted and waited for until it caught up; N times each.
// Then the goals: paxcron at least 2x etcd's throughput at 64 clients, p99 at 1 client no worse,
// failover no slower. Every phase has a deadline; SIGINT/SIGTERM end the run early and the
// clusters are still stopped. scripts/etcd_bench.sh installs etcd, builds, runs this in a temporary
// directory and cleans up after it on any exit (it finds etcd's members by DIR/etcd/m*.pid).
// `--modes multi,fast` runs one paxcron cluster per consensus mode (`cluster up --mode`), side by
// side in the same run; in fast mode the clients are spread over all three nodes (a follower
// proposes straight to the acceptors: the point of Fast Paxos), in multi mode they write to the
// leader. `--paxcron-only` leaves etcd out (scripts/fast_cluster_bench.sh: fast against multi).
// usage: etcd_compare --paxcron BIN --etcd BIN --dir DIR [--seconds 10] [--warmup 1]
//                     [--clients 1,16,64] [--kills 10] [--deadline 330] [--paxcron-config TEXT]
//                     [--modes multi[,fast]] [--paxcron-only]
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cmd/cluster_client.h"
#include "node/node.pb.h"
#include "transport/client.h"
#include "transport/free_port.h"

namespace {

using namespace paxcron;
using Clock = std::chrono::steady_clock;

constexpr size_t kCommandBytes = 256;
constexpr int kMembers = 3;
constexpr int64_t kCallTimeoutMs = 5000;  // a load write slower than this counts as an error
constexpr int64_t kProbeTimeoutMs = 300;  // failover probes give up on a write this soon...
constexpr int kProbesPerMember = 3;       // ...and several run at once, so one stuck write
                                          // (sent to a dead leader) does not hide recovery
constexpr double kFailoverMaxS = 20;      // a failover not over by then is reported as failed
constexpr double kRejoinMaxS = 30;
constexpr double kSettleS = 1;  // after a rejoin, before the next kill: both systems alike

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}
void SleepS(double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); }

struct Options {
  std::string paxcron_bin, etcd_bin, dir;
  // Extra config lines for every paxcron node (a what-if, such as a shorter lease; default none).
  std::string paxcron_config;
  double seconds = 10, warmup_s = 1, deadline_s = 330;
  std::vector<int> clients = {1, 16, 64};
  std::vector<std::string> modes = {"multi"};  // one paxcron cluster per consensus mode
  bool paxcron_only = false;
  int kills = 10;
  Clock::time_point start = Clock::now();
  bool OutOfTime(double reserve_s) const { return g_stop || Since(start) + reserve_s > deadline_s; }
};

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// ---- Processes -----------------------------------------------------------------------------

// Starts argv with stdout and stderr appended to `log`; in its own session when `detach` (so a
// terminal's ^C reaches only this program, which then stops the clusters itself).
pid_t Spawn(const std::vector<std::string>& argv, const std::string& log, bool detach) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  if (detach) ::setsid();
  const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out >= 0) ::dup2(out, 1), ::dup2(out, 2);
  const int null = ::open("/dev/null", O_RDONLY);
  if (null >= 0) ::dup2(null, 0);
  // No inherited client sockets: an etcd member holding one would keep that connection open
  // after this program closed it.
  ::close_range(3, ~0U, 0);
  ::execv(args[0], args.data());
  _exit(127);
}

// Runs argv to its end within `timeout_s` (then kills it). Errors: it could not start, timed out
// or exited non-zero (the message points at the log).
Status RunProcess(const std::vector<std::string>& argv, const std::string& log, double timeout_s) {
  const pid_t pid = Spawn(argv, log, false);
  if (pid < 0) return Status::Error("fork failed");
  const auto start = Clock::now();
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (Since(start) > timeout_s) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return Status::Error(fmt::format("'{} {}' timed out after {:.0f} s (log: {})", argv[0],
                                       argv[1], timeout_s, log));
    }
    SleepS(0.02);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
  return Status::Error(fmt::format("'{} {}' failed (log: {})", argv[0], argv[1], log));
}

// A port the kernel says is free now, never one handed out before in this run (like `paxcron
// cluster up`: another process may take it before etcd binds it; etcd then fails at start, with
// the reason in its log).
int FreePort() {
  static std::set<int> given;
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int port = transport::FreeLoopbackPort();
    if (port > 0 && given.insert(port).second) return port;
  }
  return -1;
}

// CPU seconds (user + system) a process has used; 0 when it is gone.
double ProcessCpuS(pid_t pid) {
  const std::string stat = ReadText(fmt::format("/proc/{}/stat", pid));
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream in(stat.substr(paren + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime (proc(5))
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// Busy CPU seconds of the whole machine, every process of every user (/proc/stat).
double MachineBusyS() {
  std::istringstream in(ReadText("/proc/stat"));
  std::string cpu;
  in >> cpu;
  double total = 0, idle = 0, v = 0;
  for (int i = 0; i < 8 && in >> v; ++i) {
    total += v;
    if (i == 3 || i == 4) idle += v;  // idle, iowait
  }
  return (total - idle) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::string Shell(const std::string& command) {
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r"); p != nullptr) {
    char buf[512];
    while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
    ::pclose(p);
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// A Prometheus text value: the first sample line of `name` (no labels), or -1.
double Metric(const std::string& page, const std::string& name) {
  size_t at = 0;
  while ((at = page.find(name + " ", at)) != std::string::npos) {
    if (at == 0 || page[at - 1] == '\n') return std::atof(page.c_str() + at + name.size() + 1);
    at += name.size();
  }
  return -1;
}

std::string GetMetrics(const std::string& host_port) {
  httplib::Client http("http://" + host_port);
  http.set_connection_timeout(1);
  http.set_read_timeout(2);
  httplib::Result r = http.Get("/metrics");
  return r && r->status == 200 ? r->body : "";
}

// ---- Writers: one client's connection to a system ----------------------------------------

class Writer {
 public:
  virtual ~Writer() = default;
  // One write, waited for: true when the system answered that it is committed.
  virtual bool Put(const std::string& key) = 0;
  std::string last_error;
};

std::string Command256() {
  std::string c = "true # a 256-byte command that never runs: ";
  c.resize(kCommandBytes, 'x');
  return c;
}

// A paxcron client: put_job over the client protocol, following redirects to the leader. When the
// node it was sent to cannot be reached, it goes back to the first node it was given (a redirect
// may point at a leader that has just died).
class PaxcronWriter final : public Writer {
 public:
  PaxcronWriter(std::string address, std::string secret, int64_t timeout_ms)
      : home_(address), address_(home_), secret_(std::move(secret)), timeout_ms_(timeout_ms) {}
  bool Put(const std::string& key) override {
    node::pb::ClientRequest request;
    cron::pb::JobSpec* spec = request.mutable_command()->mutable_put_job()->mutable_spec();
    spec->set_name(key);
    spec->set_schedule("0 0 1 1 *");
    spec->set_command(Command256());
    if (client_ == nullptr) {
      auto c = transport::Client::Connect(address_, secret_, std::min<int64_t>(timeout_ms_, 2000));
      if (!c.ok()) {
        address_ = home_;
        return Fail(c.status().message());
      }
      client_ = std::move(c.value());
    }
    Result<std::string> reply = client_->Call(request.SerializeAsString(), timeout_ms_);
    if (!reply.ok()) {
      client_.reset();  // the node may be gone, or a late reply would pair with the next call
      address_ = home_;
      return Fail(reply.status().message());
    }
    node::pb::ClientResponse response;
    if (!response.ParseFromString(reply.value())) return Fail("a reply that does not parse");
    if (!response.redirect().empty()) {
      address_ = response.redirect();
      client_.reset();
      return Fail("redirected to " + address_);
    }
    return response.ok() || Fail(response.error());
  }

 private:
  bool Fail(std::string why) {
    last_error = std::move(why);
    return false;
  }
  std::string home_, address_, secret_;
  int64_t timeout_ms_;
  std::unique_ptr<transport::Client> client_;
};

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t n = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<uint8_t>(in[i + 1]) << 8;
    if (i + 2 < in.size()) n |= static_cast<uint8_t>(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

// An etcd client: POST /v3/kv/put on one keep-alive HTTP connection (httplib reconnects).
class EtcdWriter final : public Writer {
 public:
  EtcdWriter(int port, int64_t timeout_ms) : http_("127.0.0.1", port) {
    const auto t = std::chrono::milliseconds(timeout_ms);
    http_.set_keep_alive(true);
    // httplib writes headers and body separately: without TCP_NODELAY, Nagle's algorithm holds
    // the body until the server's delayed ACK (40 ms), which would be measured as etcd's latency.
    http_.set_tcp_nodelay(true);
    http_.set_connection_timeout(std::chrono::duration_cast<std::chrono::seconds>(t).count(),
                                 (timeout_ms % 1000) * 1000);
    http_.set_read_timeout(t);
    http_.set_write_timeout(t);
  }
  bool Put(const std::string& key) override {
    static const std::string value = Base64(Command256());
    httplib::Result r =
        http_.Post("/v3/kv/put", fmt::format(R"({{"key":"{}","value":"{}"}})", Base64(key), value),
                   "application/json");
    if (!r) {
      last_error = "http: " + httplib::to_string(r.error());
      return false;
    }
    if (r->status != 200 || r->body.find("\"error\"") != std::string::npos) {
      last_error = fmt::format("{}: {}", r->status, r->body.substr(0, 200));
      return false;
    }
    return true;
  }

 private:
  httplib::Client http_;
};

// ---- The two clusters ----------------------------------------------------------------------

struct Member {
  uint32_t id = 0;
  std::string address;  // paxcron: host:port of the client protocol; etcd: the client URL's
  int port = 0;         // etcd: the client port
  std::string metrics;  // host:port serving /metrics
};

// What a system must offer the load and the failover loops.
class System {
 public:
  virtual ~System() = default;
  virtual std::string name() const = 0;
  virtual Status Start() = 0;
  virtual void Stop() = 0;
  virtual Result<Member> Leader() = 0;
  virtual pid_t Pid(uint32_t id) = 0;
  virtual Status Restart(uint32_t id) = 0;
  // The member is up, follows a leader and has applied at least `index` (Index()'s value).
  virtual bool CaughtUp(uint32_t id, uint64_t index) = 0;
  virtual uint64_t Index(const Member& leader) = 0;
  virtual std::unique_ptr<Writer> NewWriter(const Member& to, int64_t timeout_ms) = 0;
  // Where load client number `client` writes: the leader, unless the system says otherwise.
  virtual Member WriterTarget(int /*client*/, const Member& leader) { return leader; }
  virtual void Reap(pid_t) {}
  std::vector<Member> members;
  // The leader's counters from its /metrics: fsyncs, seconds in fsync, log entries (paxcron:
  // slots, each may carry several commands) committed. -1 where the page did not answer.
  struct Disk {
    double fsyncs = -1, fsync_s = -1, entries = -1;
    // paxcron in fast mode: slots chosen in fast rounds, collisions, recoveries, fallbacks.
    double fast_rounds = -1, collisions = -1, recoveries = -1, fallbacks = -1;
  };
  virtual Disk LeaderDisk(const Member& leader) = 0;
  double CpuS() {
    double s = 0;
    for (const Member& m : members) s += ProcessCpuS(Pid(m.id));
    return s;
  }
};

class PaxcronSystem final : public System {
 public:
  // `name`: "paxcron", or "paxcron-MODE" when several modes run side by side.
  PaxcronSystem(std::string bin, std::string dir, std::string extra_config, std::string mode,
                std::string name)
      : bin_(std::move(bin)),
        dir_(std::move(dir)),
        extra_config_(std::move(extra_config)),
        mode_(std::move(mode)),
        name_(std::move(name)) {}
  std::string name() const override { return name_; }

  // `cluster up` writes the configs (each node with an http_listen for /metrics, listed in
  // DIR/http as "nodeK http://host:port/") and starts the nodes. With extra config lines (what
  // if the lease were shorter?) the nodes are stopped once, given the lines and started again.
  Status Start() override {
    const std::string log = dir_ + "-cli.log";
    Status s = RunProcess({bin_, "cluster", "up", "--nodes", "3", "--mode", mode_, "--dir", dir_},
                          log, 40);
    if (s.ok() && !extra_config_.empty()) {
      s = RunProcess({bin_, "cluster", "down", "--dir", dir_}, log, 20);
      for (int k = 1; s.ok() && k <= kMembers; ++k) {
        std::ofstream(fmt::format("{}/node{}.conf", dir_, k), std::ios::app)
            << extra_config_ << "\n";
      }
      if (s.ok()) s = RunProcess({bin_, "cluster", "up", "--dir", dir_}, log, 40);
    }
    if (!s.ok()) return s;
    cmd::ClusterFlags flags;
    flags.dir = dir_;
    Result<cmd::ClusterTarget> target = cmd::ResolveCluster(flags);
    if (!target.ok()) return target.status();
    target_ = target.value();
    std::istringstream http(ReadText(dir_ + "/http"));
    std::map<std::string, std::string> metrics;
    for (std::string node, url; http >> node >> url;) {
      metrics[node] = url.substr(url.find("//") + 2, url.rfind('/') - url.find("//") - 2);
    }
    for (size_t i = 0; i < target_.endpoints.size(); ++i) {
      const auto id = static_cast<uint32_t>(i + 1);  // `cluster up` lists node 1 first
      members.push_back({id, target_.endpoints[i], 0, metrics[fmt::format("node{}", id)]});
    }
    return Status::Ok();
  }
  void Stop() override {
    (void)RunProcess({bin_, "cluster", "down", "--dir", dir_}, dir_ + "-cli.log", 20);
  }
  Result<Member> Leader() override {
    node::pb::ClientRequest request;
    request.mutable_status();
    const auto start = Clock::now();
    while (Since(start) < 10 && !g_stop) {
      Result<node::pb::ClientResponse> r = cmd::CallCluster(target_, request, 2);
      if (r.ok() && r.value().status().leader() != 0) {
        for (const Member& m : members) {
          if (m.id == r.value().status().leader()) return m;
        }
      }
      SleepS(0.05);
    }
    return Status::Error("paxcron: no leader within 10 s");
  }
  pid_t Pid(uint32_t id) override {
    return std::atoi(ReadText(fmt::format("{}/node{}.pid", dir_, id)).c_str());
  }
  Status Restart(uint32_t) override {
    return RunProcess({bin_, "cluster", "up", "--dir", dir_}, dir_ + "-cli.log", 30);
  }
  uint64_t Index(const Member& leader) override {
    Result<node::pb::ClusterStatus> s = StatusOf(leader);
    return s.ok() ? s.value().applied_slot() : 0;
  }
  bool CaughtUp(uint32_t id, uint64_t index) override {
    Result<node::pb::ClusterStatus> s = StatusOf(members[id - 1]);
    return s.ok() && s.value().leader() != 0 && s.value().applied_slot() >= index;
  }
  std::unique_ptr<Writer> NewWriter(const Member& to, int64_t timeout_ms) override {
    return std::make_unique<PaxcronWriter>(to.address, target_.secret, timeout_ms);
  }
  // Fast mode: every node proposes its clients' writes itself, so the clients are spread over
  // all of them (client 0 at the leader, then round the members).
  Member WriterTarget(int client, const Member& leader) override {
    if (mode_ != "fast" || client == 0) return leader;
    return members[static_cast<size_t>(client) % members.size()];
  }
  Disk LeaderDisk(const Member& leader) override {
    const std::string page = GetMetrics(leader.metrics);
    Disk d{Metric(page, "paxcron_fsync_seconds_count"), Metric(page, "paxcron_fsync_seconds_sum"),
           Metric(page, "paxcron_commits_total")};
    if (mode_ == "fast") {
      d.fast_rounds = Metric(page, "paxcron_fast_rounds_total");
      d.collisions = Metric(page, "paxcron_fast_collisions_total");
      d.recoveries = Metric(page, "paxcron_fast_recoveries_total");
      d.fallbacks = Metric(page, "paxcron_fast_fallbacks_total");
    }
    return d;
  }

 private:
  Result<node::pb::ClusterStatus> StatusOf(const Member& m) {
    auto client = transport::Client::Connect(m.address, target_.secret, 1000);
    if (!client.ok()) return client.status();
    node::pb::ClientRequest request;
    request.mutable_status();
    Result<std::string> reply = client.value()->Call(request.SerializeAsString(), 2000);
    node::pb::ClientResponse response;
    if (!reply.ok()) return reply.status();
    if (!response.ParseFromString(reply.value())) return Status::Error("bad status reply");
    return response.status();
  }
  std::string bin_, dir_, extra_config_, mode_, name_;
  cmd::ClusterTarget target_;
};

class EtcdSystem final : public System {
 public:
  EtcdSystem(std::string bin, std::string dir) : bin_(std::move(bin)), dir_(std::move(dir)) {}
  std::string name() const override { return "etcd"; }

  Status Start() override {
    ::mkdir(dir_.c_str(), 0755);
    std::string cluster;
    for (uint32_t id = 1; id <= kMembers; ++id) {
      const int client = FreePort(), peer = FreePort();
      members.push_back(
          {id, fmt::format("127.0.0.1:{}", client), client, fmt::format("127.0.0.1:{}", client)});
      peer_ports_[id] = peer;
      cluster += fmt::format("{}m{}=http://127.0.0.1:{}", id == 1 ? "" : ",", id, peer);
    }
    initial_cluster_ = cluster;
    for (const Member& m : members) {
      if (Status s = Restart(m.id); !s.ok()) return s;
    }
    const auto start = Clock::now();
    while (Since(start) < 30 && !g_stop) {
      if (Leader().ok()) return Status::Ok();
      SleepS(0.1);
    }
    return Status::Error(fmt::format("etcd: no leader within 30 s (logs in {})", dir_));
  }
  void Stop() override {
    for (auto& [id, pid] : pids_) ::kill(pid, SIGTERM);
    const auto start = Clock::now();
    for (auto& [id, pid] : pids_) {
      int status = 0;
      while (::waitpid(pid, &status, WNOHANG) == 0 && Since(start) < 5) SleepS(0.05);
      if (::kill(pid, 0) == 0) ::kill(pid, SIGKILL), ::waitpid(pid, &status, 0);
      ::unlink(fmt::format("{}/m{}.pid", dir_, id).c_str());
    }
    pids_.clear();
  }
  // Starts member `id` (again): the same flags each time; with its data directory present etcd
  // ignores the --initial-* flags and rejoins with what it has.
  Status Restart(uint32_t id) override {
    const Member& m = members[id - 1];
    const std::string peer = fmt::format("http://127.0.0.1:{}", peer_ports_[id]);
    const std::string client = fmt::format("http://{}", m.address);
    const pid_t pid = Spawn(
        {bin_, "--name", fmt::format("m{}", id), "--data-dir", fmt::format("{}/m{}", dir_, id),
         "--listen-client-urls", client, "--advertise-client-urls", client, "--listen-peer-urls",
         peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", initial_cluster_,
         "--initial-cluster-state", "new", "--initial-cluster-token", "paxcron-bench"},
        fmt::format("{}/m{}.log", dir_, id), true);
    if (pid < 0) return Status::Error("fork failed");
    pids_[id] = pid;
    std::ofstream(fmt::format("{}/m{}.pid", dir_, id)) << pid << "\n";
    return Status::Ok();
  }
  Result<Member> Leader() override {
    for (const Member& m : members) {
      Result<Status_> s = StatusOf(m);
      if (s.ok() && s.value().leader != 0 && s.value().leader == s.value().member_id) return m;
    }
    return Status::Error("etcd: no member is the leader");
  }
  pid_t Pid(uint32_t id) override { return pids_.count(id) ? pids_[id] : 0; }
  void Reap(pid_t pid) override {
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
  uint64_t Index(const Member& leader) override {
    Result<Status_> s = StatusOf(leader);
    return s.ok() ? s.value().raft_index : 0;
  }
  bool CaughtUp(uint32_t id, uint64_t index) override {
    Result<Status_> s = StatusOf(members[id - 1]);
    return s.ok() && s.value().leader != 0 && s.value().raft_index >= index;
  }
  std::unique_ptr<Writer> NewWriter(const Member& to, int64_t timeout_ms) override {
    return std::make_unique<EtcdWriter>(to.port, timeout_ms);
  }
  Disk LeaderDisk(const Member& leader) override {
    const std::string page = GetMetrics(leader.metrics);
    return {Metric(page, "etcd_disk_wal_fsync_duration_seconds_count"),
            Metric(page, "etcd_disk_wal_fsync_duration_seconds_sum"),
            Metric(page, "etcd_server_proposals_committed_total")};
  }

 private:
  struct Status_ {
    uint64_t member_id = 0, leader = 0, raft_index = 0;
  };
  // POST /v3/maintenance/status: the gateway writes uint64 fields as JSON strings.
  static Result<Status_> StatusOf(const Member& m) {
    httplib::Client http("127.0.0.1", m.port);
    http.set_connection_timeout(0, 500'000);
    http.set_read_timeout(1);
    httplib::Result r = http.Post("/v3/maintenance/status", "{}", "application/json");
    if (!r || r->status != 200) return Status::Error("etcd status: no answer");
    auto field = [&](const std::string& name) -> uint64_t {
      const size_t at = r->body.find("\"" + name + "\":\"");
      return at == std::string::npos
                 ? 0
                 : std::strtoull(r->body.c_str() + at + name.size() + 4, nullptr, 10);
    };
    return Status_{field("member_id"), field("leader"), field("raftIndex")};
  }
  std::string bin_, dir_, initial_cluster_;
  std::map<uint32_t, int> peer_ports_;
  std::map<uint32_t, pid_t> pids_;
};

// ---- 1. Closed-loop load ---------------------------------------------------------------------

struct LoadResult {
  uint64_t ok = 0, errors = 0;
  double seconds = 0;
  std::vector<int64_t> latencies_us;  // sorted: the ok writes that ended in the measured window
  std::string first_error;
  // Over the measured window: the leader's fsyncs and committed log entries, CPU seconds.
  System::Disk disk;
  double server_cpu_s = 0, bench_cpu_s = 0, machine_cpu_s = 0;
  double rate() const { return static_cast<double>(ok) / seconds; }
  double ms(double p) const {
    if (latencies_us.empty()) return 0;
    const double rank = std::ceil(p * static_cast<double>(latencies_us.size()));
    return static_cast<double>(latencies_us[static_cast<size_t>(std::max(rank, 1.0)) - 1]) / 1e3;
  }
};

// `clients` threads, each with its own connection to the leader, write one key after another
// for warm-up + measured seconds; only what ends inside the measured window counts.
Result<LoadResult> RunLoad(System& sys, int clients, const Options& o) {
  Result<Member> leader = sys.Leader();
  if (!leader.ok()) return leader.status();
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  Clock::time_point measure_from, measure_to;
  std::vector<LoadResult> per(static_cast<size_t>(clients));
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      std::unique_ptr<Writer> w =
          sys.NewWriter(sys.WriterTarget(c, leader.value()), kCallTimeoutMs);
      LoadResult& mine = per[static_cast<size_t>(c)];
      ++ready;
      while (!go) std::this_thread::yield();
      for (uint64_t n = 0; Clock::now() < measure_to && !g_stop; ++n) {
        const auto t0 = Clock::now();
        const bool ok = w->Put(fmt::format("c{}-{}-{}", clients, c, n));
        const auto t1 = Clock::now();
        if (t1 < measure_from || t1 >= measure_to) continue;
        if (ok) {
          ++mine.ok;
          mine.latencies_us.push_back(
              std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count());
        } else {
          if (mine.errors++ == 0) mine.first_error = w->last_error;
          SleepS(0.01);  // an error is usually an election: do not spin
        }
      }
    });
  }
  while (ready < clients) std::this_thread::yield();
  measure_from = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(o.warmup_s));
  measure_to = measure_from + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(o.seconds));
  go = true;
  std::this_thread::sleep_until(measure_from);
  const System::Disk d0 = sys.LeaderDisk(leader.value());
  const double s0 = sys.CpuS(), b0 = ProcessCpuS(::getpid()), m0 = MachineBusyS();
  std::this_thread::sleep_until(measure_to);
  const System::Disk d1 = sys.LeaderDisk(leader.value());
  const double s1 = sys.CpuS(), b1 = ProcessCpuS(::getpid()), m1 = MachineBusyS();
  for (std::thread& t : threads) t.join();  // each ends within kCallTimeoutMs
  LoadResult all;
  all.seconds = o.seconds;
  for (LoadResult& r : per) {
    all.ok += r.ok;
    all.errors += r.errors;
    if (all.first_error.empty()) all.first_error = r.first_error;
    all.latencies_us.insert(all.latencies_us.end(), r.latencies_us.begin(), r.latencies_us.end());
  }
  std::sort(all.latencies_us.begin(), all.latencies_us.end());
  if (d0.fsyncs >= 0 && d1.fsyncs >= 0) {
    all.disk = {d1.fsyncs - d0.fsyncs, d1.fsync_s - d0.fsync_s, d1.entries - d0.entries};
    if (d0.fast_rounds >= 0 && d1.fast_rounds >= 0) {
      all.disk.fast_rounds = d1.fast_rounds - d0.fast_rounds;
      all.disk.collisions = d1.collisions - d0.collisions;
      all.disk.recoveries = d1.recoveries - d0.recoveries;
      all.disk.fallbacks = d1.fallbacks - d0.fallbacks;
    }
  }
  all.server_cpu_s = s1 - s0;
  all.bench_cpu_s = b1 - b0;
  all.machine_cpu_s = m1 - m0;
  return all;
}

// ---- 2. Failover -----------------------------------------------------------------------------

struct Failover {
  double write_s = -1;      // kill to the first accepted write; -1: none within kFailoverMaxS
  double rejoin_s = -1;     // restart to caught up
  std::string probe_error;  // when no write was accepted: what a probe heard last
};

// Kills the leader, then probes every surviving member with short writes from several threads
// until one is accepted; restarts the killed member and waits until it has caught up.
Result<Failover> KillLeaderOnce(System& sys, int round) {
  Result<Member> leader = sys.Leader();
  if (!leader.ok()) return leader.status();
  const uint32_t victim = leader.value().id;
  const pid_t pid = sys.Pid(victim);
  if (pid <= 0) return Status::Error(fmt::format("{}: no pid for member {}", sys.name(), victim));
  std::vector<std::unique_ptr<Writer>> writers;
  for (const Member& m : sys.members) {
    for (int i = 0; m.id != victim && i < kProbesPerMember; ++i) {
      writers.push_back(sys.NewWriter(m, kProbeTimeoutMs));
    }
  }
  Failover f;
  std::atomic<bool> done{false};
  std::atomic<int64_t> first_ok_us{-1};
  if (::kill(pid, SIGKILL) != 0) return Status::Error(fmt::format("kill {} failed", pid));
  const auto killed = Clock::now();
  std::vector<std::thread> probes;
  for (size_t i = 0; i < writers.size(); ++i) {
    probes.emplace_back([&, i] {
      // Staggered, so that some probe sends a fresh write every kProbeTimeoutMs / kProbesPerMember.
      SleepS(static_cast<double>(i % kProbesPerMember) * kProbeTimeoutMs / kProbesPerMember / 1e3);
      for (int n = 0; !done && !g_stop && Since(killed) < kFailoverMaxS; ++n) {
        if (writers[i]->Put(fmt::format("failover-{}-{}-{}", round, i, n))) {
          int64_t none = -1;
          const auto us =
              std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - killed).count();
          first_ok_us.compare_exchange_strong(none, us);
          done = true;
        } else {
          SleepS(0.01);
        }
      }
    });
  }
  for (std::thread& t : probes) t.join();
  sys.Reap(pid);
  if (first_ok_us >= 0) {
    f.write_s = static_cast<double>(first_ok_us) / 1e6;
  } else if (!writers.empty()) {
    f.probe_error = writers.front()->last_error;
  }
  const auto restarted = Clock::now();
  if (Status s = sys.Restart(victim); !s.ok()) return s;
  while (Since(restarted) < kRejoinMaxS && !g_stop) {
    Result<Member> now_leader = sys.Leader();
    if (now_leader.ok() && sys.CaughtUp(victim, sys.Index(now_leader.value()))) {
      f.rejoin_s = Since(restarted);
      break;
    }
    SleepS(0.05);
  }
  if (f.rejoin_s < 0) {
    return Status::Error(fmt::format("{}: member {} did not catch up within {:.0f} s", sys.name(),
                                     victim, kRejoinMaxS));
  }
  SleepS(kSettleS);
  return f;
}

// ---- Report ----------------------------------------------------------------------------------

std::string SystemsLine(const std::vector<std::string>& names) {
  std::string line;
  for (const std::string& n : names) line += (line.empty() ? "" : ", ") + n;
  if (std::find(names.begin(), names.end(), "paxcron-fast") != names.end()) {
    line += " (paxcron-fast: clients spread over the 3 nodes; the others: at the leader)";
  }
  return line;
}

std::string Machine(const Options& o, const std::vector<std::string>& names) {
  utsname u{};
  ::uname(&u);
  std::string cpu = Shell("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'");
  const std::string df = Shell(fmt::format(
      "df -hT '{}' | awk 'NR==2 {{print $1\" (\"$2\", \"$3\" total, \"$6\" used)\"}}'", o.dir));
  std::string loadavg = ReadText("/proc/loadavg");
  loadavg = loadavg.substr(0, loadavg.find(' ', loadavg.find(' ', loadavg.find(' ') + 1) + 1));
  return fmt::format(
      "machine   {} CPUs ({}), Linux {}, {} MiB RAM, load average {} at the start\n"
      "disk      data dirs in {} on {}\n"
      "{}"
      "paxcron   3 nodes (paxcron cluster up), {}\n"
      "systems   {}\n",
      std::thread::hardware_concurrency(), cpu, u.release,
      ::sysconf(_SC_PHYS_PAGES) / 1024 * ::sysconf(_SC_PAGESIZE) / 1024, loadavg, o.dir, df,
      o.paxcron_only
          ? ""
          : fmt::format("etcd      {}, 3 members, default settings: heartbeat 100 ms, election "
                        "1000 ms, fsync on\n",
                        Shell(fmt::format("'{}' --version 2>/dev/null | head -1", o.etcd_bin))),
      o.paxcron_config.empty()
          ? "default settings: heartbeat 50 ms, election 300-600 ms, lease 1000 ms, fsync on"
          : "default settings but: " + o.paxcron_config,
      SystemsLine(names));
}

// "x / y" with one decimal, or "-" when the leader's /metrics did not answer.
std::string PerDisk(double x, double y, double scale = 1) {
  return y > 0 ? fmt::format("{:.1f}", scale * x / y) : "-";
}

void PrintLoad(const std::map<std::pair<int, std::string>, LoadResult>& r, const Options& o,
               const std::vector<std::string>& names) {
  fmt::print(
      "\nclients  system         commits/s   p50 ms   p99 ms  errors | writes/fsync  fsync ms  "
      "writes/entry | CPU%: servers  bench  machine\n");
  for (int c : o.clients) {
    for (const std::string& sys : names) {
      auto it = r.find({c, sys});
      if (it == r.end()) continue;
      const LoadResult& l = it->second;
      const auto ok = static_cast<double>(l.ok);
      fmt::print(
          "{:>7}  {:<13} {:>10.0f} {:>8.2f} {:>8.2f} {:>7} | {:>12} {:>9} {:>13} | {:>13.0f} "
          "{:>6.0f} {:>8.0f}\n",
          c, sys, l.rate(), l.ms(0.50), l.ms(0.99), l.errors, PerDisk(ok, l.disk.fsyncs),
          PerDisk(l.disk.fsync_s, l.disk.fsyncs, 1e3), PerDisk(ok, l.disk.entries),
          100 * l.server_cpu_s / l.seconds, 100 * l.bench_cpu_s / l.seconds,
          100 * l.machine_cpu_s / l.seconds);
      if (l.errors > 0) fmt::print("         first error: {}\n", l.first_error);
      if (l.disk.fast_rounds >= 0) {
        fmt::print(
            "         leader: {:.0f} slots chosen in fast rounds, {:.0f} collisions, {:.0f} "
            "recoveries, {:.0f} fallbacks to classic rounds\n",
            l.disk.fast_rounds, l.disk.collisions, l.disk.recoveries, l.disk.fallbacks);
      }
    }
  }
  fmt::print(
      "(writes/fsync, fsync ms, writes/entry: the leader's, from its /metrics, which paxcron "
      "refreshes every 0.5 s: approximate. CPU: % of one core over the window, {} cores; "
      "machine: every process, others' too)\n",
      std::thread::hardware_concurrency());
  const bool pair = r.count({o.clients.front(), "paxcron-fast"}) > 0 &&
                    r.count({o.clients.front(), "paxcron-multi"}) > 0;
  const std::string a = pair ? "paxcron-fast" : "paxcron", b = pair ? "paxcron-multi" : "etcd";
  if (r.count({o.clients.front(), a}) == 0 || r.count({o.clients.front(), b}) == 0) return;
  fmt::print(
      "\nratios {}/{} (commits/s: higher is better for {}; p50, p99: lower)\n"
      "clients  commits/s    p50    p99\n",
      a, b, a);
  for (int c : o.clients) {
    auto p = r.find({c, a}), e = r.find({c, b});
    if (p == r.end() || e == r.end()) continue;
    fmt::print("{:>7}  {:>8.2f}x {:>5.2f}x {:>5.2f}x\n", c, p->second.rate() / e->second.rate(),
               p->second.ms(0.5) / e->second.ms(0.5), p->second.ms(0.99) / e->second.ms(0.99));
  }
}

struct FailoverStats {
  std::vector<double> write_s, rejoin_s;
  int failed = 0;
  double mean() const {
    double s = 0;
    for (double v : write_s) s += v;
    return write_s.empty() ? 0 : s / static_cast<double>(write_s.size());
  }
  double max() const {
    return write_s.empty() ? 0 : *std::max_element(write_s.begin(), write_s.end());
  }
};

void PrintFailover(const std::map<std::string, FailoverStats>& f,
                   const std::vector<std::string>& names) {
  fmt::print(
      "\nfailover: kill -9 of the leader to the first write accepted through any member\n"
      "system         kills  mean s   max s   min s  rejoin mean s  each (s)\n");
  for (const std::string& sys : names) {
    auto it = f.find(sys);
    if (it == f.end()) continue;
    const FailoverStats& s = it->second;
    double rejoin = 0;
    for (double v : s.rejoin_s) rejoin += v;
    std::string each;
    for (double v : s.write_s) each += fmt::format(" {:.2f}", v);
    fmt::print("{:<13} {:>6} {:>7.2f} {:>7.2f} {:>7.2f} {:>14.2f} {}{}\n", sys,
               s.write_s.size() + static_cast<size_t>(s.failed), s.mean(), s.max(),
               s.write_s.empty() ? 0 : *std::min_element(s.write_s.begin(), s.write_s.end()),
               s.rejoin_s.empty() ? 0 : rejoin / static_cast<double>(s.rejoin_s.size()), each,
               s.failed > 0 ? fmt::format("  ({} failed)", s.failed) : "");
  }
}

void PrintGoals(const std::map<std::pair<int, std::string>, LoadResult>& r,
                const std::map<std::string, FailoverStats>& f) {
  fmt::print("\ngoals\n");
  auto verdict = [](bool met) { return met ? "met" : "MISSED"; };
  auto p64 = r.find({64, "paxcron"}), e64 = r.find({64, "etcd"});
  if (p64 != r.end() && e64 != r.end()) {
    const double x = p64->second.rate() / e64->second.rate();
    fmt::print("  throughput at 64 clients >= 2x etcd's:  {:.2f}x  {}\n", x, verdict(x >= 2));
  }
  auto p1 = r.find({1, "paxcron"}), e1 = r.find({1, "etcd"});
  if (p1 != r.end() && e1 != r.end()) {
    const double p = p1->second.ms(0.99), e = e1->second.ms(0.99);
    fmt::print("  p99 at 1 client <= etcd's:              {:.2f} ms vs {:.2f} ms  {}\n", p, e,
               verdict(p <= e));
  }
  auto pf = f.find("paxcron"), ef = f.find("etcd");
  if (pf != f.end() && ef != f.end() && !pf->second.write_s.empty() &&
      !ef->second.write_s.empty()) {
    const bool met = pf->second.failed == 0 && pf->second.mean() <= ef->second.mean();
    fmt::print(
        "  failover no slower than etcd's (mean):  {:.2f} s vs {:.2f} s (max {:.2f} vs "
        "{:.2f})  {}\n",
        pf->second.mean(), ef->second.mean(), pf->second.max(), ef->second.max(), verdict(met));
  }
}

std::vector<int> ParseClients(const std::string& list) {
  std::vector<int> out;
  std::istringstream in(list);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::atoi(item.c_str()));
  return out;
}

int Run(const Options& o, std::vector<std::unique_ptr<System>>& systems) {
  std::vector<std::string> names;
  for (const auto& sys : systems) names.push_back(sys->name());
  fmt::print("{}", Machine(o, names));
  fmt::print(
      "load      closed loop, {}-byte commands, {:.0f} s warm-up + {:.0f} s measured per "
      "point; paxcron: put_job of a new job{}\n",
      kCommandBytes, o.warmup_s, o.seconds,
      o.paxcron_only ? "" : "; etcd: put of a new key via the HTTP/JSON gateway");
  for (auto& sys : systems) {
    const auto t = Clock::now();
    if (Status s = sys->Start(); !s.ok()) {
      fmt::print(stderr, "etcd_compare: {} did not start: {}\n", sys->name(), s.message());
      return 1;
    }
    fmt::print("started   {} in {:.1f} s\n", sys->name(), Since(t));
  }
  std::fflush(stdout);
  std::map<std::pair<int, std::string>, LoadResult> load;
  // Interleaved by client count, so a change in what else runs on the machine hits both.
  for (int c : o.clients) {
    for (auto& sys : systems) {
      if (o.OutOfTime(o.seconds + o.warmup_s + 6 + 2.0 * o.kills * 6)) break;
      Result<LoadResult> r = RunLoad(*sys, c, o);
      if (!r.ok()) {
        fmt::print(stderr, "etcd_compare: {} at {} clients: {}\n", sys->name(), c,
                   r.status().message());
        continue;
      }
      fmt::print("measured  {} at {} clients: {:.0f} commits/s\n", sys->name(), c,
                 r.value().rate());
      std::fflush(stdout);
      load[{c, sys->name()}] = std::move(r.value());
    }
  }
  std::map<std::string, FailoverStats> failover;
  for (auto& sys : systems) {
    FailoverStats& stats = failover[sys->name()];
    for (int k = 0; k < o.kills && !o.OutOfTime(kFailoverMaxS + kRejoinMaxS / 2); ++k) {
      Result<Failover> f = KillLeaderOnce(*sys, k);
      if (!f.ok()) {
        fmt::print(stderr, "etcd_compare: failover {}: {}\n", sys->name(), f.status().message());
        ++stats.failed;
        break;  // the cluster is not in a known state: do not kill again
      }
      if (f.value().write_s < 0) {
        fmt::print(stderr, "etcd_compare: failover {}: no write accepted within {:.0f} s: {}\n",
                   sys->name(), kFailoverMaxS, f.value().probe_error);
        ++stats.failed;
      } else {
        stats.write_s.push_back(f.value().write_s);
      }
      stats.rejoin_s.push_back(f.value().rejoin_s);
    }
    if (o.kills == 0) continue;
    fmt::print("failover  {}: {} kills\n", sys->name(), stats.write_s.size() + stats.failed);
    std::fflush(stdout);
  }
  PrintLoad(load, o, names);
  if (o.kills > 0) PrintFailover(failover, names);
  if (!o.paxcron_only) PrintGoals(load, failover);
  fmt::print("\ntotal {:.0f} s{}\n", Since(o.start), g_stop ? " (stopped early)" : "");
  return g_stop ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::string clients = "1,16,64";
  CLI::App app{"paxcron against etcd: closed-loop writes and leader failover", "etcd_compare"};
  app.add_option("--paxcron", o.paxcron_bin, "the paxcron binary")->required();
  app.add_option("--etcd", o.etcd_bin, "the etcd binary (3.4); not with --paxcron-only");
  app.add_option("--dir", o.dir, "an empty directory for both clusters' data")->required();
  app.add_option("--seconds", o.seconds, "measured seconds per load point (default 10)");
  app.add_option("--warmup", o.warmup_s, "warm-up seconds per load point (default 1)");
  app.add_option("--clients", clients, "concurrent clients per point (default 1,16,64)");
  app.add_option("--kills", o.kills, "leader kills per system (default 10)");
  app.add_option("--deadline", o.deadline_s, "seconds for the whole run (default 330)");
  app.add_option("--paxcron-config", o.paxcron_config,
                 "extra lines for every paxcron node's config, e.g. 'lease_ms: 900' (a what-if)");
  std::string modes = "multi";
  app.add_option("--modes", modes,
                 "paxcron's consensus modes, one cluster each, side by side: multi, fast or "
                 "multi,fast (default multi)");
  app.add_flag("--paxcron-only", o.paxcron_only, "leave etcd out (no --etcd needed)");
  CLI11_PARSE(app, argc, argv);
  o.clients = ParseClients(clients);
  o.modes.clear();
  std::istringstream mode_list(modes);
  for (std::string m; std::getline(mode_list, m, ',');) {
    if (m != "multi" && m != "fast") {
      fmt::print(stderr, "etcd_compare: --modes: '{}' is not multi or fast\n", m);
      return 2;
    }
    o.modes.push_back(m);
  }
  if (o.modes.empty() || (!o.paxcron_only && o.etcd_bin.empty())) {
    fmt::print(stderr, "etcd_compare: give --modes and --etcd (or --paxcron-only)\n");
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);  // a write to a killed member's socket is an error, not a death
  ::signal(SIGINT, OnSignal);
  ::signal(SIGTERM, OnSignal);
  std::vector<std::unique_ptr<System>> systems;
  // One mode keeps the names of before ("paxcron", DIR/paxcron); several are told apart.
  for (const std::string& m : o.modes) {
    const bool one = o.modes.size() == 1 && m == "multi";
    systems.push_back(
        std::make_unique<PaxcronSystem>(o.paxcron_bin, o.dir + (one ? "/paxcron" : "/paxcron-" + m),
                                        o.paxcron_config, m, one ? "paxcron" : "paxcron-" + m));
  }
  if (!o.paxcron_only) systems.push_back(std::make_unique<EtcdSystem>(o.etcd_bin, o.dir + "/etcd"));
  const int rc = Run(o, systems);
  for (auto& sys : systems) sys->Stop();
  return rc;
}
