// Rendering of the node's /metrics (Prometheus text format 0.0.4) and / (a plain HTML status
// page). Pure functions of what the node hands in: testable without a server.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "node/node.pb.h"
#include "transport/transport.h"

namespace paxcron::node {

// Upper bounds of the fsync latency histogram's buckets, in microseconds (+Inf is implied).
inline constexpr int64_t kFsyncBucketsUs[] = {100,   250,   500,   1000,   2500,   5000,
                                              10000, 25000, 50000, 100000, 250000, 1000000};
constexpr size_t kFsyncBuckets = sizeof(kFsyncBucketsUs) / sizeof(kFsyncBucketsUs[0]);

// A node's counters; monotonic.
struct NodeCounters {
  uint64_t commits = 0;  // slots applied
  uint64_t elections_won = 0;
  uint64_t lease_starts = 0;
  uint64_t launches = 0;
  uint64_t launches_refused = 0;   // not made: the lease had lapsed at the last check
  uint64_t clock_guard_trips = 0;  // times the leader found its wall clock off the majority's
  uint64_t lookups = 0;
  uint64_t slurm_duplicates = 0;  // run names Slurm listed twice (never expected)
  uint64_t runs_finished = 0;
  uint64_t snapshots = 0;
  uint64_t snapshot_installs = 0;
  uint64_t client_requests = 0;
  uint64_t bad_peer_frames = 0;
  uint64_t fsyncs = 0;
  uint64_t chosen_writes_lazy = 0;  // chosen marks written without their own fsync
  // Fast mode (paxos/replica_fast.cc), counted on the leader from its Ready: slots it learned
  // chosen in a fast round (its own vote was in that round), collisions, recoveries (collided
  // or timed-out slots decided by a classic round), fallbacks to classic rounds for a while.
  uint64_t fast_rounds = 0;
  uint64_t fast_collisions = 0;
  uint64_t fast_recoveries = 0;
  uint64_t fast_fallbacks = 0;
  uint64_t fast_client_writes = 0;    // client writes taken as a follower (fast mode)
  uint64_t mode_mismatch_frames = 0;  // consensus frames dropped: the peer runs another mode
  uint64_t fsync_us_total = 0;
  uint64_t fsync_buckets[kFsyncBuckets + 1] = {};  // the last one: above every bound
  std::map<std::string, uint64_t> skips_by_reason;
  std::map<std::string, uint64_t> messages_sent_by_type;
};

struct MetricsInput {
  uint32_t node = 0;
  bool leader = false;
  bool clock_guard_holding = false;  // the guard keeps this leader from launching now
  std::string mode;                  // the consensus protocol: "multi" or "fast"
  uint64_t applied_slot = 0, snapshot_slot = 0, jobs = 0, lease_epoch = 0;
  NodeCounters counters;
  transport::TransportStats transport;
};

std::string RenderMetrics(const MetricsInput& m);

// `runs`: recent runs, newest first.
std::string RenderStatusPage(const pb::ClusterStatus& status,
                             const std::vector<cron::pb::JobState>& jobs,
                             const std::vector<pb::RunRow>& runs);

std::string HtmlEscape(std::string_view text);

}  // namespace paxcron::node
