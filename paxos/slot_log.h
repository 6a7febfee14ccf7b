// The log of slots an acceptor knows: for each slot, the value it accepted (and in which ballot)
// and whether it knows that value chosen. Slots are dense above the compaction point (every slot
// at or below it is chosen and covered by a snapshot, and forgotten here), so the log is a vector
// indexed by slot: copying it (a restart loading its disk) is one vector copy, and walking it in
// slot order touches consecutive memory. A hole is a slot with no value yet. Thread-compatible.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/assert.h"
#include "paxos/paxos.pb.h"
#include "paxos/types.h"

namespace paxcron::paxos {

// A slot's value. Values never change once created, so the log, the disk model, in-flight
// proposals and committed output share one copy.
using EntryRef = std::shared_ptr<const pb::Entry>;

struct DurableSlot {
  Ballot accepted_ballot;  // zero when the value was learned chosen through catch-up
  EntryRef entry;          // null: a hole (no value known for this slot)
  bool chosen = false;
};

class SlotLog {
 public:
  // How far past the highest stored slot one write may reach: bounds the memory a single
  // (buggy or hostile) message can make the log allocate.
  static constexpr uint64_t kGrowthMax = uint64_t{1} << 20;

  // The highest slot with storage (a value or a hole below a value), or the compaction point
  // when nothing above it is stored; Slot(0) when empty.
  Slot Last() const { return Slot(base_ + slots_.size()); }

  // Every slot at or below this one was compacted away (chosen, and covered by a snapshot).
  Slot Compacted() const { return Slot(base_); }

  // The slot's state when it holds a value, else null (also for compacted slots).
  const DurableSlot* Find(Slot s) const {
    if (s.value <= base_ || s.value > base_ + slots_.size()) return nullptr;
    const DurableSlot& d = slots_[s.value - base_ - 1];
    return d.entry != nullptr ? &d : nullptr;
  }

  // The slot's state for writing, growing the log to reach it.
  // REQUIRES: Compacted() < s <= Last() + kGrowthMax.
  DurableSlot& Mutable(Slot s) {
    PAXCRON_ASSERT(s.value > base_ && s.value <= base_ + slots_.size() + kGrowthMax);
    if (s.value > base_ + slots_.size()) slots_.resize(s.value - base_);
    return slots_[s.value - base_ - 1];
  }

  // Forgets every slot at or below `through` (a no-op for slots already forgotten). The caller
  // guarantees they are chosen and covered by a durable snapshot.
  void TruncatePrefix(Slot through) {
    if (through.value <= base_) return;
    const uint64_t drop = std::min<uint64_t>(through.value - base_, slots_.size());
    slots_.erase(slots_.begin(), slots_.begin() + static_cast<std::ptrdiff_t>(drop));
    base_ = through.value;
  }

  // Calls f(slot, state) for every slot in [from, to] that holds a value, in slot order.
  template <typename F>
  void ForEach(Slot from, Slot to, F&& f) const {
    const uint64_t last = std::min<uint64_t>(to.value, base_ + slots_.size());
    for (uint64_t s = std::max<uint64_t>(from.value, base_ + 1); s <= last; ++s) {
      const DurableSlot& d = slots_[s - base_ - 1];
      if (d.entry != nullptr) f(Slot(s), d);
    }
  }

 private:
  uint64_t base_ = 0;               // the compaction point
  std::vector<DurableSlot> slots_;  // index = slot - base_ - 1
};

}  // namespace paxcron::paxos
