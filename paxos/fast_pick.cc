#include "paxos/fast_pick.h"

#include <map>
#include <utility>

#include "common/assert.h"
#include "paxos/entry_hash.h"

namespace paxcron::paxos {

PickResult PickValue(const std::vector<Vote>& votes, uint32_t q_size, uint32_t members,
                     const Bugs& bugs) {
  PAXCRON_ASSERT(q_size <= members);
  PAXCRON_ASSERT(votes.size() <= q_size);
  PickResult out;
  if (votes.empty()) return out;
  Ballot k;
  for (const Vote& v : votes) k = std::max(k, v.round);
  // Votes in round k, by value (keyed by hash: equal values, equal hashes).
  std::map<uint64_t, std::pair<uint32_t, EntryRef>> tally;
  for (const Vote& v : votes) {
    if (v.round != k) continue;
    PAXCRON_ASSERT(v.entry != nullptr);
    auto& [count, entry] = tally[EntryHash(*v.entry)];
    ++count;
    entry = v.entry;
  }
  out.candidates = static_cast<uint32_t>(tally.size());
  if (k.sub != kSubFast) {
    // A classic round: its coordinator proposed one value per slot.
    PAXCRON_ASSERT(tally.size() == 1);
    out.entry = tally.begin()->second.second;
    out.forced = true;
    return out;
  }
  const uint32_t fast = FastQuorumSize(members, bugs);
  // O4(v) holds when v's votes in Q, plus every acceptor outside Q, make up a fast quorum.
  const uint32_t outside = members - q_size;
  const uint32_t threshold = fast > outside ? fast - outside : 0;
  PAXCRON_ASSERT(bugs.fast_quorum_too_small || threshold >= 1);
  const std::pair<uint32_t, EntryRef>* best = nullptr;
  const std::pair<uint32_t, EntryRef>* fewest = nullptr;
  for (const auto& [hash, value] : tally) {
    if (best == nullptr || value.first > best->first) best = &value;
    if (fewest == nullptr || value.first < fewest->first) fewest = &value;
  }
  if (bugs.recovery_picks_any) {
    out.entry = fewest->second;
    return out;
  }
  // The most-voted value is the only one that can satisfy O4 (two cannot, by the quorum
  // condition), so testing it alone is the rule.
  out.forced = best->first >= threshold;
  out.entry = best->second;
  return out;
}

}  // namespace paxcron::paxos
