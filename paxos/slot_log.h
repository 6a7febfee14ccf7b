// The log of slots an acceptor knows: for each slot, the value it accepted (and in which ballot)
// and whether it knows that value chosen. Slots are dense from 1, so the log is a vector indexed
// by slot: copying it (a restart loading its disk) is one vector copy, and walking it in slot
// order touches consecutive memory. A hole is a slot with no value yet. Thread-compatible.
#pragma once

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

  // The highest slot with storage (a value or a hole below a value); Slot(0) when empty.
  Slot Last() const { return Slot(slots_.size()); }

  // The slot's state when it holds a value, else null.
  const DurableSlot* Find(Slot s) const {
    if (s.value == 0 || s.value > slots_.size()) return nullptr;
    const DurableSlot& d = slots_[s.value - 1];
    return d.entry != nullptr ? &d : nullptr;
  }

  // The slot's state for writing, growing the log to reach it.
  // REQUIRES: 0 < s <= Last() + kGrowthMax.
  DurableSlot& Mutable(Slot s) {
    PAXCRON_ASSERT(s.value > 0 && s.value <= slots_.size() + kGrowthMax);
    if (s.value > slots_.size()) slots_.resize(s.value);
    return slots_[s.value - 1];
  }

  // Calls f(slot, state) for every slot in [from, to] that holds a value, in slot order.
  template <typename F>
  void ForEach(Slot from, Slot to, F&& f) const {
    const uint64_t last = std::min<uint64_t>(to.value, slots_.size());
    for (uint64_t s = std::max<uint64_t>(from.value, 1); s <= last; ++s) {
      const DurableSlot& d = slots_[s - 1];
      if (d.entry != nullptr) f(Slot(s), d);
    }
  }

 private:
  std::vector<DurableSlot> slots_;  // index = slot - 1
};

}  // namespace paxcron::paxos
