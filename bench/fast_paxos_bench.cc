// Fast Paxos against Multi-Paxos on the same workload, counted in message delays.
//
// A five-replica cluster runs on a deterministic network where every message takes one message
// delay D (1000 us) times a factor drawn uniformly from [1 - j, 1 + j] (j = --jitter, default 0.5:
// messages overtake each other, so concurrent fast proposals collide). No loss, no crash: this
// measures the protocols, not the faults (the simulator does that). Closed-loop clients, spread
// round-robin over the four followers (so 8 clients put two on each), each propose one command and
// wait until the leader has learned it chosen. Latency is from the Propose call to the leader's
// learning, in units of D. Same seed, same numbers.
//
//   fast_paxos_bench [--commands N] [--jitter J] [--seed S]
//
// Prints one row per (mode, concurrent proposers): commands, collisions per fast slot decided,
// recoveries, mean and p99 latency, and the uncontended latency (one proposer, at a follower).
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include "common/prng.h"
#include "paxos/replica.h"

namespace paxcron::paxos {
namespace {

constexpr int64_t kDelayUs = 1'000;
constexpr uint32_t kNodes = 5;

struct Stats {
  std::vector<double> latencies;  // in message delays
  uint64_t collisions = 0;
  uint64_t recoveries = 0;
  uint64_t fast_decided = 0;  // slots the leader learned in fast mode
};

class Bench {
 public:
  Bench(Mode mode, uint32_t clients, double jitter, uint64_t seed)
      : mode_(mode), clients_(clients), jitter_(jitter), rng_(seed) {
    std::vector<NodeId> members;
    for (uint32_t i = 1; i <= kNodes; ++i) members.push_back(NodeId(i));
    disks_.resize(kNodes + 1);
    for (uint32_t i = 1; i <= kNodes; ++i) {
      Config c;
      c.self = NodeId(i);
      c.members = members;
      c.mode = mode;
      replicas_.push_back(std::make_unique<Replica>(c, seed + i, disks_[i], Now{now_, now_}));
    }
  }

  Stats Run(uint64_t commands) {
    // Elect a leader first: tick until one holds its lease.
    for (int i = 0; i < 400 && Leader() == 0; ++i) Advance(10'000);
    if (Leader() == 0) std::abort();
    Advance(200'000);
    for (uint32_t c = 0; c < clients_; ++c) Issue(c);
    while (issued_ < commands + clients_ && now_ < 600'000'000) Advance(kDelayUs / 4);
    return stats_;
  }

 private:
  uint32_t Leader() const {
    for (uint32_t i = 1; i <= kNodes; ++i) {
      if (replicas_[i - 1]->role() == Role::kLeader && replicas_[i - 1]->HoldsLease(now_)) {
        return i;
      }
    }
    return 0;
  }
  Replica& R(uint32_t i) { return *replicas_[i - 1]; }

  void Issue(uint32_t client) {
    // Clients sit at the followers (a command at the leader saves Multi-Paxos its forward).
    const uint32_t leader = Leader();
    uint32_t node = 1 + (leader + client) % kNodes;
    if (node == leader) node = 1 + node % kNodes;
    pb::Command c;
    c.set_id((uint64_t{client} << 40) | ++seq_);
    c.set_data(fmt::format("c{}", c.id()));
    started_[c.id()] = {client, now_};
    ++issued_;
    (void)R(node).Propose(c, Now{now_, now_});
    Pump(node);
  }

  void Pump(uint32_t i) {
    Ready ready = R(i).TakeReady();
    for (const PersistOp& op : ready.persist) disks_[i].Apply(op);
    for (const FastEvent& f : ready.fast_events) {
      if (f.kind == FastEvent::Kind::kCollision) ++stats_.collisions;
      if (f.kind == FastEvent::Kind::kRecovery) ++stats_.recoveries;
    }
    for (Outgoing& m : ready.messages) {
      const double unit = static_cast<double>(rng_.Range(0, 1'000'000)) / 1e6;
      const double factor = 1.0 + jitter_ * (2.0 * unit - 1.0);
      const auto delay = static_cast<int64_t>(kDelayUs * factor);
      wire_.push(InFlight{now_ + std::max<int64_t>(1, delay), ++msg_seq_, std::move(m)});
    }
    if (i == Leader()) {
      for (const Committed& c : ready.committed) Learned(c);
    }
  }

  void Learned(const Committed& c) {
    if (mode_ == Mode::kFast) ++stats_.fast_decided;
    for (const pb::Command& cmd : c.entry->commands()) {
      auto it = started_.find(cmd.id());
      if (it == started_.end()) continue;
      stats_.latencies.push_back(static_cast<double>(now_ - it->second.at_us) / kDelayUs);
      const uint32_t client = it->second.client;
      started_.erase(it);
      reissue_.push_back(client);
    }
  }

  void Advance(int64_t us) {
    const int64_t until = now_ + us;
    while (!wire_.empty() && wire_.top().at_us <= until) {
      InFlight m = wire_.top();
      wire_.pop();
      now_ = std::max(now_, m.at_us);
      const uint32_t to = m.out.to.value;
      R(to).Step(*m.out.envelope, Now{now_, now_});
      Pump(to);
      FlushReissues();
    }
    now_ = until;
    for (uint32_t i = 1; i <= kNodes; ++i) {
      R(i).Tick(Now{now_, now_});
      Pump(i);
    }
    FlushReissues();
  }

  void FlushReissues() {
    std::vector<uint32_t> clients;
    clients.swap(reissue_);
    for (uint32_t c : clients) Issue(c);
  }

  struct InFlight {
    int64_t at_us;
    uint64_t seq;
    Outgoing out;
    bool operator>(const InFlight& o) const {
      return at_us != o.at_us ? at_us > o.at_us : seq > o.seq;
    }
  };
  struct Started {
    uint32_t client;
    int64_t at_us;
  };

  Mode mode_;
  uint32_t clients_;
  double jitter_;
  Prng rng_;
  int64_t now_ = 1'000'000;
  std::vector<DurableState> disks_;
  std::vector<std::unique_ptr<Replica>> replicas_;
  std::priority_queue<InFlight, std::vector<InFlight>, std::greater<>> wire_;
  uint64_t msg_seq_ = 0;
  uint64_t seq_ = 0;
  uint64_t issued_ = 0;
  std::map<uint64_t, Started> started_;
  std::vector<uint32_t> reissue_;
  Stats stats_;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto at = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  return v[at];
}

double Mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return v.empty() ? 0 : sum / static_cast<double>(v.size());
}

}  // namespace
}  // namespace paxcron::paxos

int main(int argc, char** argv) {
  using namespace paxcron::paxos;
  uint64_t commands = 2000;
  double jitter = 0.5;
  uint64_t seed = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--commands") commands = std::strtoull(argv[i + 1], nullptr, 10);
    if (flag == "--jitter") jitter = std::strtod(argv[i + 1], nullptr);
    if (flag == "--seed") seed = std::strtoull(argv[i + 1], nullptr, 10);
  }
  std::printf("5 replicas; message delay D = 1 ms x U[%.2f, %.2f]; %llu commands per row\n",
              1 - jitter, 1 + jitter, static_cast<unsigned long long>(commands));
  std::printf("%-6s %10s %9s %12s %11s %9s %9s\n", "mode", "proposers", "commands", "collision%",
              "recoveries", "mean(D)", "p99(D)");
  for (Mode mode : {Mode::kMulti, Mode::kFast}) {
    for (uint32_t clients : {1u, 2u, 4u, 8u}) {
      Bench b(mode, clients, jitter, seed);
      const Stats s = b.Run(commands);
      const double rate = s.fast_decided == 0 ? 0.0
                                              : 100.0 * static_cast<double>(s.collisions) /
                                                    static_cast<double>(s.fast_decided);
      std::printf("%-6s %10u %9zu %11.1f%% %11llu %9.2f %9.2f\n",
                  mode == Mode::kFast ? "fast" : "multi", clients, s.latencies.size(), rate,
                  static_cast<unsigned long long>(s.recoveries), Mean(s.latencies),
                  Percentile(s.latencies, 0.99));
    }
  }
  return 0;
}
