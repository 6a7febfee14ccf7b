// Strong types for the consensus core: a node id, a slot and an epoch are never interchangeable
// with a bare integer (ScyllaDB raft's tagged_uint64). Ballots are (round, node), totally ordered
// first by round, then by node, so two proposers never share one (Paxos Made Simple, 2.2).
#pragma once

#include <compare>
#include <cstdint>

namespace paxcron::paxos {

template <typename Tag, typename T>
struct Tagged {
  T value = 0;
  constexpr Tagged() = default;
  constexpr explicit Tagged(T v) : value(v) {}
  constexpr auto operator<=>(const Tagged&) const = default;
};

struct NodeIdTag {};
struct EpochTag {};
using NodeId = Tagged<NodeIdTag, uint32_t>;
// A fencing token: strictly increasing across successive lease holders (it is the holder's
// ballot, packed), so an external system can refuse an action stamped with an older epoch.
using Epoch = Tagged<EpochTag, uint64_t>;

struct Slot {
  uint64_t value = 0;
  constexpr Slot() = default;
  constexpr explicit Slot(uint64_t v) : value(v) {}
  constexpr auto operator<=>(const Slot&) const = default;
  constexpr Slot Next() const { return Slot(value + 1); }
  constexpr Slot Prev() const { return Slot(value - 1); }
};

// Local time of one node, in microseconds, as read by the driver (monotonic for leases and
// timers). The core never reads a clock; the driver passes this in.
using LocalMicros = int64_t;

constexpr uint32_t kNodesMax = 255;  // node ids are 1..255; 0 means "none"

// Fast Paxos (replica_fast.cc) splits each leader ballot into three rounds per slot, in this
// order, all below the next leader ballot: the leader's classic round, its fast round (opened by
// an "any" message) and its recovery round (coordinated recovery after a collision). Multi-Paxos
// uses only the first, so its ballots, and their bytes on the wire and on disk, are unchanged.
constexpr uint32_t kSubClassic = 0;
constexpr uint32_t kSubFast = 1;
constexpr uint32_t kSubRecovery = 2;

struct Ballot {
  uint64_t round = 0;
  NodeId node;
  uint32_t sub = kSubClassic;  // one of the kSub* rounds of this leader ballot
  constexpr auto operator<=>(const Ballot&) const = default;
  constexpr bool IsZero() const { return round == 0; }
  // The packed form: order-preserving, used as the lease epoch.
  constexpr Epoch ToEpoch() const { return Epoch(round * (kNodesMax + 1) + node.value); }
};

}  // namespace paxcron::paxos
