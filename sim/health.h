// How healthy the simulated world was, over true time: the lateness checker's notion of "while a
// majority is up and connected and the scheduler reachable". Levels:
//   kFull      every node up, unpaused and connected; no loss, duplication or reordering; the
//              scheduler reachable; no clock step or leader hand-over at that instant
//   kMajority  a majority of nodes up, unpaused and all connected to one another; no loss or
//              reordering (which makes launch requests vanish or arrive late); the scheduler
//              reachable. A leader may have just died: this is the failover case
//   kDegraded  anything less
// Thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace paxcron::sim {

enum class Health : uint8_t { kDegraded = 0, kMajority = 1, kFull = 2 };

const char* HealthName(Health h);

class HealthTimeline {
 public:
  // The world is at `level` from `t_us` on. Times never go back.
  void Note(int64_t t_us, Health level);
  // A disturbance at one instant (a clock step, a hand-over): the level dips to `level` there.
  void Dip(int64_t t_us, Health level);
  // The lowest level at any instant of [from_us, to_us]. REQUIRES: to_us is not in the future.
  Health MinOver(int64_t from_us, int64_t to_us) const;
  size_t size() const { return points_.size(); }

 private:
  std::vector<std::pair<int64_t, Health>> points_;  // (from when, level), in time order
};

}  // namespace paxcron::sim
