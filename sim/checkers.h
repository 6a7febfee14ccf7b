// Safety and liveness checkers, fed by the simulator as events happen, judged on true time.
// Each stops at its first violation, which names the invariant, the nodes and the times.
//   agreement     no two replicas learn different values for one slot
//   validity      every chosen value was proposed (or is a no-op)
//   lease         at no instant of true time do two nodes both treat themselves as lease holder;
//                 epochs of successive holders increase (the fencing token works)
//   durability    what a node applied before a crash is still there after its restart
//   replica-state replicas that applied the same slots hold the same state (checksums)
//   liveness      after healing, a new proposal is chosen within the stated bound
// Thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "paxos/paxos.pb.h"

namespace paxcron::sim {

struct Violation {
  std::string checker;
  int64_t t_us = 0;
  std::string detail;
};

class Checkers {
 public:
  explicit Checkers(uint32_t nodes);

  void OnProposed(uint64_t command_id, uint64_t data_hash);
  void OnApplied(int64_t t_us, uint32_t node, uint64_t slot, const paxos::pb::Entry& entry,
                 uint64_t value_hash, uint64_t state_checksum);
  void OnCrash(uint32_t node, uint64_t applied_index);
  void OnRecovered(int64_t t_us, uint32_t node, uint64_t applied_index, uint64_t state_checksum);
  // A node loaded a peer's snapshot ending at `slot`, with this state checksum.
  void OnSnapshotInstalled(int64_t t_us, uint32_t node, uint64_t slot, uint64_t state_checksum);
  // A node snapshotted its whole state machine after `slot`; `digest` hashes the snapshot's
  // bytes. Two nodes' snapshots after the same slot must be identical: this compares the
  // replicated state itself, not only the log that produced it.
  void OnSnapshotTaken(int64_t t_us, uint32_t node, uint64_t slot, uint64_t digest);
  void OnLeaseStart(int64_t t_us, uint32_t node, uint64_t epoch, int64_t true_expiry_us);
  void OnLeaseExtend(uint32_t node, int64_t true_expiry_us);
  void OnLeaseEnd(uint32_t node);
  // A scheduled run started `early_us` before its time (true time), when a majority's clocks
  // were at least `majority_ahead_us` (>= 0) ahead of true time: more than `bound_us` before the
  // time those clocks read fails (the guard keeps a leader within its tolerance of them).
  void OnCronEarly(int64_t t_us, const std::string& run, uint32_t node, int64_t early_us,
                   int64_t majority_ahead_us, int64_t bound_us);
  void OnLiveness(int64_t t_us, bool ok, const std::string& detail);
  // Cron runs: a job started on the datacenter scheduler (the oracle). `starts_of_name` counts
  // every start of that name so far; `sender_held_lease` is the lease checker's verdict, on true
  // time, for the node that sent the request, at the moment it sent it.
  void OnCronStart(int64_t t_us, const std::string& name, size_t starts_of_name, uint32_t node,
                   uint64_t epoch, int64_t sent_us, bool sender_held_lease);
  // Any other violation found by the simulator itself (for example the final history check).
  void Report(const char* checker, int64_t t_us, std::string detail) {
    Fail(checker, t_us, std::move(detail));
  }

  bool failed() const { return violation_.has_value(); }
  const Violation& violation() const { return *violation_; }

 private:
  void Fail(const char* checker, int64_t t_us, std::string detail);
  // replica-state: `node`'s checksum after `slot` must be the first applier's.
  void CheckStateAt(int64_t t_us, uint32_t node, const char* how, uint64_t slot,
                    uint64_t state_checksum);

  struct SlotRecord {
    uint64_t value_hash;
    uint32_t node;
    int64_t t_us;
  };
  struct LeaseRecord {
    bool held = false;
    uint64_t epoch = 0;
    int64_t start_us = 0;
    int64_t true_expiry_us = 0;
  };

  // Indexed by slot (slots are dense from 1); value_hash 0 with node 0 means "not yet learned".
  std::vector<SlotRecord> chosen_;
  std::vector<uint64_t> checksums_;  // slot -> state checksum after applying it
  std::map<uint64_t, std::pair<uint32_t, uint64_t>> snapshot_digests_;  // slot -> (node, digest)
  std::unordered_map<uint64_t, uint64_t> proposed_;  // command id -> data hash (lookups only)
  std::vector<uint64_t> applied_before_crash_;       // per node
  std::vector<LeaseRecord> leases_;                  // per node
  uint64_t last_epoch_ = 0;
  uint32_t last_epoch_node_ = 0;
  std::optional<Violation> violation_;
};

}  // namespace paxcron::sim
