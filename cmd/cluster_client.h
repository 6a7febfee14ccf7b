// How a CLI command reaches a cluster: endpoints and secret from --endpoints/--secret-file, the
// environment (PAXCRON_ENDPOINTS, PAXCRON_SECRET_FILE) or a local cluster's directory (--dir, made
// by `paxcron cluster up`), then one request sent to whichever node answers, following redirects
// to the leader and retrying while an election runs, within a deadline.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "node/node.pb.h"

namespace paxcron::cmd {

constexpr const char* kDefaultClusterDir = "paxcron-cluster";

struct ClusterFlags {
  std::string endpoints;  // host:port,host:port
  std::string secret_file;
  std::string dir;
  bool json = false;
  double timeout_s = 10;
};

// Adds --endpoints, --secret-file, --dir, --json and --timeout to `app`.
void AddClusterFlags(CLI::App& app, ClusterFlags& flags);

struct ClusterTarget {
  std::vector<std::string> endpoints;
  std::string secret;
};

// Errors: nothing says where the cluster is, or the secret cannot be read.
Result<ClusterTarget> ResolveCluster(const ClusterFlags& flags);

// Sends `request` until a node answers it (ok or not). Errors: no node reachable, or still no
// leader at the deadline.
Result<node::pb::ClientResponse> CallCluster(const ClusterTarget& target,
                                             const node::pb::ClientRequest& request,
                                             double timeout_s);

// Runs a CLI11 app over `args` (the words after the command's name); -1 when parsing succeeded,
// else the exit code to return (0 for --help, 2 for usage errors).
int ParseArgs(CLI::App& app, const std::vector<std::string>& args);

}  // namespace paxcron::cmd
