// A stable hash of a slot's value: the same entry hashes the same on every node, run and
// machine. Used in traces ("value") and by the checkers to compare values cheaply.
#pragma once

#include <cstdint>

#include "paxos/paxos.pb.h"

namespace paxcron::paxos {

uint64_t EntryHash(const pb::Entry& entry);

}  // namespace paxcron::paxos
