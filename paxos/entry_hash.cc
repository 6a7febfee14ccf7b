#include "paxos/entry_hash.h"

#include "common/hash.h"

namespace paxcron::paxos {

uint64_t EntryHash(const pb::Entry& entry) {
  uint64_t h = HashU64(entry.stamp_us());
  h = HashU64(entry.noop() ? 1 : 0, h);
  for (const pb::Command& c : entry.commands()) {
    h = HashU64(c.id(), h);
    h = HashBytes(c.data(), h);
  }
  return h;
}

}  // namespace paxcron::paxos
