#include "sim/checkers.h"

#include <fmt/format.h>

#include "common/assert.h"
#include "common/hash.h"

namespace paxcron::sim {

Checkers::Checkers(uint32_t nodes) : applied_before_crash_(nodes + 1, 0), leases_(nodes + 1) {}

void Checkers::Fail(const char* checker, int64_t t_us, std::string detail) {
  if (violation_) return;  // the first violation is the one that explains the run
  violation_ = Violation{checker, t_us, std::move(detail)};
}

void Checkers::OnProposed(uint64_t command_id, uint64_t data_hash) {
  proposed_.emplace(command_id, data_hash);
}

void Checkers::OnApplied(int64_t t_us, uint32_t node, uint64_t slot, const paxos::pb::Entry& entry,
                         uint64_t value_hash, uint64_t state_checksum) {
  PAXCRON_ASSERT(slot > 0 && slot < (uint64_t{1} << 40));
  if (chosen_.size() <= slot) {
    chosen_.resize(slot + 1, SlotRecord{0, 0, 0});
    checksums_.resize(slot + 1, 0);
  }
  SlotRecord& first = chosen_[slot];
  if (first.node == 0) {
    first = SlotRecord{value_hash, node, t_us};
    checksums_[slot] = state_checksum;
  } else if (first.value_hash != value_hash) {
    Fail("agreement", t_us,
         fmt::format("slot {}: node {} learned value {:016x}, but node {} learned {:016x} at "
                     "t={}us",
                     slot, node, value_hash, first.node, first.value_hash, first.t_us));
    return;
  }
  if (!entry.noop()) {
    for (const auto& c : entry.commands()) {
      auto p = proposed_.find(c.id());
      if (p == proposed_.end() || p->second != HashBytes(c.data())) {
        Fail("validity", t_us,
             fmt::format("slot {} on node {}: command {} was never proposed", slot, node, c.id()));
        return;
      }
    }
  }
  if (checksums_[slot] != state_checksum) {
    Fail("replica-state", t_us,
         fmt::format("node {} after slot {} has state checksum {:016x}, node {} had {:016x}", node,
                     slot, state_checksum, first.node, checksums_[slot]));
  }
}

void Checkers::OnCrash(uint32_t node, uint64_t applied_index) {
  applied_before_crash_[node] = applied_index;
  leases_[node].held = false;  // a crash ends any belief the node had
}

void Checkers::OnRecovered(int64_t t_us, uint32_t node, uint64_t applied_index,
                           uint64_t state_checksum) {
  if (applied_index < applied_before_crash_[node]) {
    Fail("durability", t_us,
         fmt::format("node {} had applied slots up to {} before its crash, but recovered only up "
                     "to {}: chosen values were lost",
                     node, applied_before_crash_[node], applied_index));
    return;
  }
  if (applied_index > 0 && applied_index < checksums_.size() && chosen_[applied_index].node != 0) {
    CheckStateAt(t_us, node, "recovered up to", applied_index, state_checksum);
  }
}

void Checkers::CheckStateAt(int64_t t_us, uint32_t node, const char* how, uint64_t slot,
                            uint64_t state_checksum) {
  PAXCRON_ASSERT(slot < checksums_.size() && chosen_[slot].node != 0);
  if (checksums_[slot] == state_checksum) return;
  Fail("replica-state", t_us,
       fmt::format("node {} {} slot {} with state checksum {:016x}, but node {} had {:016x} there",
                   node, how, slot, state_checksum, chosen_[slot].node, checksums_[slot]));
}

void Checkers::OnSnapshotTaken(int64_t t_us, uint32_t node, uint64_t slot, uint64_t digest) {
  auto [it, first] = snapshot_digests_.try_emplace(slot, node, digest);
  if (first || it->second.second == digest) return;
  Fail("replica-state", t_us,
       fmt::format("node {} snapshotted a state after slot {} (digest {:016x}) that differs from "
                   "node {}'s after the same slot ({:016x}): applying the same log gave "
                   "different states",
                   node, slot, digest, it->second.first, it->second.second));
}

void Checkers::OnSnapshotInstalled(int64_t t_us, uint32_t node, uint64_t slot,
                                   uint64_t state_checksum) {
  // Every slot in a snapshot was applied somewhere first (and checked there).
  if (slot >= checksums_.size() || chosen_[slot].node == 0) {
    Fail("replica-state", t_us,
         fmt::format("node {} installed a snapshot ending at slot {}, which no node applied", node,
                     slot));
    return;
  }
  CheckStateAt(t_us, node, "installed a snapshot ending at", slot, state_checksum);
}

void Checkers::OnLeaseStart(int64_t t_us, uint32_t node, uint64_t epoch, int64_t true_expiry_us) {
  for (uint32_t other = 1; other < leases_.size(); ++other) {
    const LeaseRecord& r = leases_[other];
    if (other == node || !r.held || r.true_expiry_us <= t_us) continue;
    Fail("lease", t_us,
         fmt::format("node {} started a lease (epoch {}) at t={}us while node {} still held its "
                     "lease (epoch {}, since t={}us, until t={}us in true time)",
                     node, epoch, t_us, other, r.epoch, r.start_us, r.true_expiry_us));
    return;
  }
  if (epoch < last_epoch_ || (epoch == last_epoch_ && node != last_epoch_node_)) {
    Fail("lease", t_us,
         fmt::format("fencing: node {} holds epoch {} after node {} held epoch {}", node, epoch,
                     last_epoch_node_, last_epoch_));
    return;
  }
  last_epoch_ = epoch;
  last_epoch_node_ = node;
  leases_[node] = LeaseRecord{true, epoch, t_us, true_expiry_us};
}

void Checkers::OnLeaseExtend(uint32_t node, int64_t true_expiry_us) {
  PAXCRON_ASSERT(leases_[node].held);
  leases_[node].true_expiry_us = true_expiry_us;
}

void Checkers::OnLeaseEnd(uint32_t node) { leases_[node].held = false; }

void Checkers::OnCronStart(int64_t t_us, const std::string& name, size_t starts_of_name,
                           uint32_t node, uint64_t epoch, int64_t sent_us, bool sender_held_lease) {
  if (starts_of_name > 1) {
    Fail("at-most-once", t_us,
         fmt::format("run {} started {} times; the latest by node {} (epoch {}, request sent at "
                     "t={}us)",
                     name, starts_of_name, node, epoch, sent_us));
    return;
  }
  if (!sender_held_lease) {
    Fail("fencing", t_us,
         fmt::format("run {} started by a request node {} sent at t={}us (epoch {}) while it did "
                     "not hold the lease",
                     name, node, sent_us, epoch));
  }
}

void Checkers::OnCronEarly(int64_t t_us, const std::string& run, uint32_t node, int64_t early_us,
                           int64_t majority_ahead_us, int64_t bound_us) {
  PAXCRON_ASSERT(majority_ahead_us >= 0);
  if (early_us - majority_ahead_us <= bound_us) return;
  Fail("early", t_us,
       fmt::format("run {} started {:.3f} s before its scheduled time (true time; {:.3f} s before "
                   "it by a majority's clocks), on the request of node {}; the bound is {:.3f} s "
                   "(the clock guard's tolerance and a margin)",
                   run, static_cast<double>(early_us) / 1e6,
                   static_cast<double>(early_us - majority_ahead_us) / 1e6, node,
                   static_cast<double>(bound_us) / 1e6));
}

void Checkers::OnLiveness(int64_t t_us, bool ok, const std::string& detail) {
  if (!ok) Fail("liveness", t_us, detail);
}

}  // namespace paxcron::sim
