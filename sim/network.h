// The simulated network: which directed links are cut, and what happens to each message sent
// (dropped, duplicated, delayed). Draws only from the PRNG it is given. Thread-compatible.
#pragma once

#include <cstdint>
#include <vector>

#include "common/prng.h"

namespace paxcron::sim {

struct LinkConditions {
  uint32_t loss_per_million = 0;
  uint32_t dup_per_million = 0;
  uint32_t reorder_per_million = 0;  // chance that a message takes a long detour
  int64_t delay_min_us = 200;
  int64_t delay_max_us = 2'000;
  int64_t reorder_extra_max_us = 60'000;
};

struct Delivery {
  bool dropped = false;
  const char* drop_reason = "";
  int copies = 0;  // 1, or 2 when duplicated
  int64_t at_us[2] = {0, 0};
};

class Network {
 public:
  explicit Network(uint32_t nodes);

  // Cuts (true) or restores the directed link from -> to. Node ids are 1-based.
  void SetBlocked(uint32_t from, uint32_t to, bool blocked);
  bool Blocked(uint32_t from, uint32_t to) const;
  void HealAll();
  bool AnyBlocked() const;

  LinkConditions& conditions() { return conditions_; }
  const LinkConditions& conditions() const { return conditions_; }

  // Decides the fate of one message sent now. Links are FIFO unless a reorder detour is drawn.
  Delivery Send(uint32_t from, uint32_t to, int64_t now_us, Prng& rng);

 private:
  uint32_t Index(uint32_t from, uint32_t to) const;

  uint32_t nodes_;
  std::vector<bool> blocked_;
  std::vector<int64_t> last_delivery_us_;  // per directed link, for FIFO order
  LinkConditions conditions_;
};

}  // namespace paxcron::sim
