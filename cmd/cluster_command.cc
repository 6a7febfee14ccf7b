// `paxcron cluster up|down`: a local cluster on 127.0.0.1 for trying paxcron, demos and tests.
// Everything lives under one directory: the secret, one config, data directory, log and pid file
// per node, the endpoints file the client commands read (cluster_client.h), and `http`, each
// node's status page address (/metrics beside it). `up` on an
// existing directory starts whichever of its nodes are not running, with their data; `down` stops
// exactly the processes it started (pid files checked against /proc/PID/cmdline), SIGTERM first,
// SIGKILL after 5 s.
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "cmd/cluster_client.h"
#include "cmd/commands.h"
#include "node/config.h"
#include "transport/free_port.h"

namespace paxcron::cmd {
namespace {

// The file's contents, or "" when it cannot be read (a pid file not written yet, a process gone).
std::string ReadText(const std::string& path) {
  Result<std::string> text = node::ReadWholeFile(path, "file");
  return text.ok() ? std::move(text.value()) : std::string();
}

bool WriteText(const std::string& path, const std::string& text, mode_t mode = 0644) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return false;
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

std::string Absolute(const std::string& dir) {
  if (!dir.empty() && dir.front() == '/') return dir;
  char cwd[4096];
  if (::getcwd(cwd, sizeof cwd) == nullptr) return dir;
  return std::string(cwd) + "/" + dir;
}

// The pid in DIR/nodeK.pid if that process is alive and runs DIR's config for node K.
pid_t RunningPid(const std::string& dir, int k) {
  const std::string text = ReadText(fmt::format("{}/node{}.pid", dir, k));
  const pid_t pid = static_cast<pid_t>(std::atoi(text.c_str()));
  if (pid <= 0) return 0;
  std::string cmdline = ReadText(fmt::format("/proc/{}/cmdline", pid));
  for (char& c : cmdline) c = c == '\0' ? ' ' : c;
  if (cmdline.find(fmt::format("{}/node{}.conf", dir, k)) == std::string::npos) return 0;
  return pid;
}

int CountConfigs(const std::string& dir) {
  int n = 0;
  while (::access(fmt::format("{}/node{}.conf", dir, n + 1).c_str(), R_OK) == 0) ++n;
  return n;
}

int Up(const std::vector<std::string>& args) {
  CLI::App app{"Starts a local cluster on 127.0.0.1 in the background.", "paxcron cluster up"};
  int nodes = 3;
  std::string dir = kDefaultClusterDir;
  double wait_s = 20;
  app.add_option("--nodes", nodes, "how many nodes (1-7; default 3)")->check(CLI::Range(1, 7));
  app.add_option("--dir", dir,
                 fmt::format("where everything lives (default ./{})", kDefaultClusterDir));
  app.add_option("--wait", wait_s, "seconds to wait for a leader (default 20)");
  std::string mode = "multi";
  app.add_option("--mode", mode,
                 "consensus: multi (Multi-Paxos, default) or fast (Fast Paxos); written into "
                 "every node's config when the cluster is created")
      ->check(CLI::IsMember({"multi", "fast"}));
  bool json = false;
  app.add_flag("--json", json, "print JSON instead of a sentence");
  if (int rc = ParseArgs(app, args); rc >= 0) return rc;
  dir = Absolute(dir);
  ::mkdir(dir.c_str(), 0755);
  const int existing = CountConfigs(dir);
  if (existing > 0 && app.count("--mode") > 0) {
    // The mode is a setting of the whole cluster: change it in every node{K}.conf, not here.
    std::fprintf(stderr,
                 "paxcron cluster up: --mode applies when a cluster is created; %s has one "
                 "(its mode is in each node's config)\n",
                 dir.c_str());
    return 2;
  }
  if (existing > 0) nodes = existing;  // the same cluster again, with its data
  if (existing == 0) {
    std::random_device random;
    std::string secret;
    for (int i = 0; i < 32; ++i) secret += fmt::format("{:02x}", random() & 0xff);
    std::vector<int> ports, http_ports;
    for (int k = 0; k < nodes; ++k) ports.push_back(transport::FreeLoopbackPort());
    for (int k = 0; k < nodes; ++k) http_ports.push_back(transport::FreeLoopbackPort());
    std::string members, endpoints, http;
    for (int k = 1; k <= nodes; ++k) {
      members += fmt::format("members {{ id: {} address: \"127.0.0.1:{}\" }}\n", k, ports[k - 1]);
      endpoints += fmt::format("{}127.0.0.1:{}", k == 1 ? "" : ",", ports[k - 1]);
      http += fmt::format("node{} http://127.0.0.1:{}/\n", k, http_ports[k - 1]);
    }
    bool ok = WriteText(dir + "/secret", secret + "\n", 0600) &&
              WriteText(dir + "/endpoints", endpoints + "\n") && WriteText(dir + "/http", http);
    for (int k = 1; ok && k <= nodes; ++k) {
      ok = WriteText(
          fmt::format("{}/node{}.conf", dir, k),
          fmt::format("# paxcron node {} of a local cluster (paxcron cluster up)\n"
                      "id: {}\n{}data_dir: \"node{}/data\"\nbackup_dir: \"node{}/backup\"\n"
                      "secret_file: \"secret\"\nlog_file: \"node{}.log\"\n"
                      "http_listen: \"127.0.0.1:{}\"\nmode: \"{}\"\n",
                      k, k, members, k, k, k, http_ports[k - 1], mode));
    }
    if (!ok) {
      std::fprintf(stderr, "paxcron cluster up: cannot write in %s\n", dir.c_str());
      return 1;
    }
  }
  std::string self(4096, '\0');
  const ssize_t len = ::readlink("/proc/self/exe", self.data(), self.size());
  if (len <= 0) return 1;
  self.resize(static_cast<size_t>(len));
  int started = 0;
  for (int k = 1; k <= nodes; ++k) {
    if (RunningPid(dir, k) != 0) continue;  // up already: `up` starts only what is not running
    ++started;
    const std::string config = fmt::format("{}/node{}.conf", dir, k);
    const pid_t pid = ::fork();
    if (pid < 0) return 1;
    if (pid == 0) {
      ::setsid();  // its own session: a terminal's ^C reaches the CLI, not the cluster
      const int out =
          ::open(fmt::format("{}/node{}.out", dir, k).c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (out >= 0) {
        ::dup2(out, 1);
        ::dup2(out, 2);
      }
      const int null = ::open("/dev/null", O_RDONLY);
      if (null >= 0) ::dup2(null, 0);
      ::execl(self.c_str(), "paxcron", "node", "--config", config.c_str(), nullptr);
      _exit(127);
    }
    WriteText(fmt::format("{}/node{}.pid", dir, k), fmt::format("{}\n", pid));
  }
  // Wait until the nodes elect a leader (or one of them died at start).
  ClusterFlags flags;
  flags.dir = dir;
  Result<ClusterTarget> target = ResolveCluster(flags);
  if (!target.ok()) return 1;
  node::pb::ClientRequest request;
  request.mutable_status();
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < std::chrono::duration<double>(wait_s)) {
    for (int k = 1; k <= nodes; ++k) {
      int status = 0;
      const pid_t pid =
          static_cast<pid_t>(std::atoi(ReadText(fmt::format("{}/node{}.pid", dir, k)).c_str()));
      if (pid > 0 && ::waitpid(pid, &status, WNOHANG) == pid) {
        std::fprintf(stderr, "paxcron cluster up: node %d exited at start; see %s/node%d.out:\n%s",
                     k, dir.c_str(), k, ReadText(fmt::format("{}/node{}.out", dir, k)).c_str());
        return 1;
      }
    }
    Result<node::pb::ClientResponse> r = CallCluster(target.value(), request, 1.0);
    if (r.ok() && r.value().status().leader() != 0) {
      std::string endpoints = ReadText(dir + "/endpoints");
      while (!endpoints.empty() && endpoints.back() == '\n') endpoints.pop_back();
      if (json) {
        std::printf(
            "{\"dir\": \"%s\", \"nodes\": %d, \"started\": %d, \"leader\": %u, "
            "\"endpoints\": \"%s\"}\n",
            dir.c_str(), nodes, started, r.value().status().leader(), endpoints.c_str());
      } else {
        std::printf("cluster up: %d nodes (%d started now) in %s, leader node %u; endpoints %s\n",
                    nodes, started, dir.c_str(), r.value().status().leader(), endpoints.c_str());
      }
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::fprintf(stderr, "paxcron cluster up: no leader after %.0f s; logs in %s/node*.log\n", wait_s,
               dir.c_str());
  return 1;
}

int Down(const std::vector<std::string>& args) {
  CLI::App app{"Stops the processes of a local cluster (SIGTERM, then SIGKILL after 5 s).",
               "paxcron cluster down"};
  std::string dir = kDefaultClusterDir;
  app.add_option("--dir", dir,
                 fmt::format("the cluster's directory (default ./{})", kDefaultClusterDir));
  bool json = false;
  app.add_flag("--json", json, "print JSON instead of a sentence");
  if (int rc = ParseArgs(app, args); rc >= 0) return rc;
  dir = Absolute(dir);
  const int nodes = CountConfigs(dir);
  if (nodes == 0) {
    std::fprintf(stderr, "paxcron cluster down: no cluster in %s\n", dir.c_str());
    return 1;
  }
  std::vector<std::pair<int, pid_t>> running;
  for (int k = 1; k <= nodes; ++k) {
    if (pid_t pid = RunningPid(dir, k); pid != 0) {
      ::kill(pid, SIGTERM);
      running.emplace_back(k, pid);
    }
  }
  const auto start = std::chrono::steady_clock::now();
  int stopped = 0, killed = 0;
  for (const auto& [k, pid] : running) {
    while (::kill(pid, 0) == 0 && RunningPid(dir, k) == pid &&
           std::chrono::steady_clock::now() - start < std::chrono::seconds(5)) {
      int status = 0;
      ::waitpid(pid, &status, WNOHANG);  // reaps it if it is our child
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (RunningPid(dir, k) == pid) {
      ::kill(pid, SIGKILL);
      ++killed;
    } else {
      ++stopped;
    }
    ::unlink(fmt::format("{}/node{}.pid", dir, k).c_str());
  }
  const int not_running = nodes - static_cast<int>(running.size());
  if (json) {
    std::printf("{\"dir\": \"%s\", \"stopped\": %d, \"killed\": %d, \"not_running\": %d}\n",
                dir.c_str(), stopped, killed, not_running);
  } else {
    std::printf("cluster down: %d stopped, %d killed, %d were not running (%s)\n", stopped, killed,
                not_running, dir.c_str());
  }
  return 0;
}

}  // namespace

int RunCluster(const std::vector<std::string>& args) {
  const std::string verb = args.empty() ? "" : args[0];
  const std::vector<std::string> rest(args.begin() + (args.empty() ? 0 : 1), args.end());
  if (verb == "up") return Up(rest);
  if (verb == "down") return Down(rest);
  std::fprintf(
      verb == "--help" ? stdout : stderr,
      "usage: paxcron cluster up [--nodes 3] [--dir DIR] [--mode multi|fast] | down [--dir DIR]\n");
  return verb == "--help" ? 0 : 2;
}

}  // namespace paxcron::cmd
