#include "cmd/cluster_client.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "node/config.h"
#include "transport/client.h"

namespace paxcron::cmd {
namespace {

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  for (char c : text + ",") {
    if (c == ',' || c == '\n' || c == ' ') {
      if (!item.empty()) out.push_back(item);
      item.clear();
    } else {
      item += c;
    }
  }
  return out;
}

double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

void AddClusterFlags(CLI::App& app, ClusterFlags& flags) {
  app.add_option("--endpoints", flags.endpoints,
                 "host:port,... of the cluster's nodes (or $PAXCRON_ENDPOINTS)");
  app.add_option("--secret-file", flags.secret_file,
                 "the cluster secret (or $PAXCRON_SECRET_FILE)");
  app.add_option("--dir", flags.dir,
                 fmt::format("a local cluster made by 'paxcron cluster up' (default ./{} when "
                             "no endpoints are given)",
                             kDefaultClusterDir));
  app.add_flag("--json", flags.json, "print JSON instead of a table");
  app.add_option("--request-timeout", flags.timeout_s, "seconds to keep trying (default 10)");
}

int ParseArgs(CLI::App& app, const std::vector<std::string>& args) {
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return -1;
}

Result<ClusterTarget> ResolveCluster(const ClusterFlags& flags) {
  ClusterTarget t;
  std::string endpoints = flags.endpoints;
  std::string secret_file = flags.secret_file;
  if (endpoints.empty() && flags.dir.empty()) {
    if (const char* e = std::getenv("PAXCRON_ENDPOINTS"); e != nullptr) endpoints = e;
  }
  if (secret_file.empty() && flags.dir.empty()) {
    if (const char* s = std::getenv("PAXCRON_SECRET_FILE"); s != nullptr) secret_file = s;
  }
  if (endpoints.empty()) {
    const std::string dir = flags.dir.empty() ? kDefaultClusterDir : flags.dir;
    Result<std::string> list = node::ReadWholeFile(dir + "/endpoints", "endpoints file");
    if (!list.ok()) {
      return Status::Error(fmt::format(
          "where is the cluster? give --endpoints and --secret-file (or PAXCRON_ENDPOINTS and "
          "PAXCRON_SECRET_FILE), or --dir of a cluster made by 'paxcron cluster up' ({})",
          list.status().message()));
    }
    endpoints = list.value();
    if (secret_file.empty()) secret_file = dir + "/secret";
  }
  t.endpoints = SplitList(endpoints);
  if (t.endpoints.empty()) return Status::Error("no endpoints given");
  if (secret_file.empty()) return Status::Error("no secret: give --secret-file");
  Result<std::string> secret = node::ReadWholeFile(secret_file, "secret file");
  if (!secret.ok()) return secret.status();
  t.secret = secret.value();
  while (!t.secret.empty() && (t.secret.back() == '\n' || t.secret.back() == '\r')) {
    t.secret.pop_back();
  }
  return t;
}

Result<node::pb::ClientResponse> CallCluster(const ClusterTarget& target,
                                             const node::pb::ClientRequest& request,
                                             double timeout_s) {
  const auto start = std::chrono::steady_clock::now();
  const std::string bytes = request.SerializeAsString();
  std::string last_error = "no endpoint answered";
  size_t next = 0;
  std::string redirect;
  for (int attempt = 0; SecondsSince(start) < timeout_s; ++attempt) {
    const std::string address =
        !redirect.empty() ? redirect : target.endpoints[next++ % target.endpoints.size()];
    redirect.clear();
    const auto left_ms = static_cast<int64_t>((timeout_s - SecondsSince(start)) * 1000);
    Result<std::unique_ptr<transport::Client>> client =
        transport::Client::Connect(address, target.secret, std::min<int64_t>(left_ms, 2000));
    if (client.ok()) {
      Result<std::string> reply =
          client.value()->Call(bytes, std::max<int64_t>(1, std::min<int64_t>(left_ms, 12'000)));
      if (reply.ok()) {
        node::pb::ClientResponse response;
        if (!response.ParseFromString(reply.value())) {
          return Status::Error(fmt::format("{}: an answer that does not parse", address));
        }
        if (!response.redirect().empty()) {
          redirect = response.redirect();
          continue;
        }
        if (response.ok() || response.error().find("no leader is known") == std::string::npos) {
          return response;
        }
        last_error = fmt::format("{}: {}", address, response.error());
      } else {
        last_error = reply.status().message();
      }
    } else {
      last_error = client.status().message();
      if (last_error.find("secret") != std::string::npos) return client.status();
    }
    // Every endpoint tried once: wait a little (an election takes about half a second).
    if (next % target.endpoints.size() == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  return Status::Error(fmt::format("gave up after {:.0f} s: {}", timeout_s, last_error));
}

}  // namespace paxcron::cmd
