#include "sim/network.h"

#include <algorithm>

#include "common/assert.h"

namespace paxcron::sim {

Network::Network(uint32_t nodes)
    : nodes_(nodes),
      blocked_(static_cast<size_t>(nodes) * nodes, false),
      last_delivery_us_(static_cast<size_t>(nodes) * nodes, 0) {
  PAXCRON_ASSERT(nodes > 0);
}

uint32_t Network::Index(uint32_t from, uint32_t to) const {
  PAXCRON_ASSERT(from >= 1 && from <= nodes_ && to >= 1 && to <= nodes_);
  return (from - 1) * nodes_ + (to - 1);
}

void Network::SetBlocked(uint32_t from, uint32_t to, bool blocked) {
  if (from == to) return;  // a node always reaches itself
  blocked_[Index(from, to)] = blocked;
}

bool Network::Blocked(uint32_t from, uint32_t to) const { return blocked_[Index(from, to)]; }

void Network::HealAll() { std::fill(blocked_.begin(), blocked_.end(), false); }

bool Network::AnyBlocked() const {
  return std::find(blocked_.begin(), blocked_.end(), true) != blocked_.end();
}

Delivery Network::Send(uint32_t from, uint32_t to, int64_t now_us, Prng& rng) {
  Delivery d;
  if (from == to) {  // loopback: no loss, no delay
    d.copies = 1;
    d.at_us[0] = now_us;
    return d;
  }
  if (Blocked(from, to)) {
    d.dropped = true;
    d.drop_reason = "partition";
    return d;
  }
  if (conditions_.loss_per_million > 0 && rng.Chance(conditions_.loss_per_million)) {
    d.dropped = true;
    d.drop_reason = "loss";
    return d;
  }
  d.copies = conditions_.dup_per_million > 0 && rng.Chance(conditions_.dup_per_million) ? 2 : 1;
  int64_t& last = last_delivery_us_[Index(from, to)];
  for (int i = 0; i < d.copies; ++i) {
    int64_t at = now_us + rng.RangeSigned(conditions_.delay_min_us, conditions_.delay_max_us);
    if (conditions_.reorder_per_million > 0 && rng.Chance(conditions_.reorder_per_million)) {
      at += rng.RangeSigned(0, conditions_.reorder_extra_max_us);  // overtaken by later ones
    } else {
      at = std::max(at, last);  // FIFO, like a TCP connection
      last = at;
    }
    d.at_us[i] = at;
  }
  return d;
}

}  // namespace paxcron::sim
