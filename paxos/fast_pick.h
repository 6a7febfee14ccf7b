// Fast Paxos' value-picking rule (Lamport, "Fast Paxos", 2006, section 3.1: the rule of
// section 2.2.2 for picking a value in phase 2a, extended to fast rounds), used by a new leader
// after phase 1 and by the coordinator's collision recovery (section 3.2, "coordinated recovery":
// the fast round's phase-2b reports serve as the phase-1b messages of the next, classic round).
// Pure functions; thread-compatible.
#pragma once

#include <cstdint>
#include <vector>

#include "paxos/config.h"
#include "paxos/slot_log.h"
#include "paxos/types.h"

namespace paxcron::paxos {

// One acceptor's vote for one slot, as it reported it (at most one per acceptor).
struct Vote {
  NodeId acceptor;
  Ballot round;
  EntryRef entry;
};

struct PickResult {
  EntryRef entry;           // null: no acceptor in Q voted, so any value is safe (a no-op)
  bool forced = false;      // some value might have been chosen: the rule forced it
  uint32_t candidates = 0;  // distinct values voted in the highest round k
};

// Picks the value the coordinator of a higher round must propose for one slot, given the votes
// reported by a quorum Q of `q_size` acceptors out of `members` (acceptors in Q that did not vote
// simply report nothing). Let k be the highest round voted in Q. If k is classic, its one value.
// If k is fast: the value v with O4(v), "some fast quorum R has every acceptor of Q ∩ R voting v in
// k", i.e. at least fast_quorum - (members - q_size) votes for v in k; at most one v qualifies
// when 2 * fast_quorum + classic_quorum > 2 * members. Otherwise any value voted in k may be
// chosen: we take the one with the most votes in k, ties to the lowest hash (deterministic).
// The recovery_picks_any bug ignores O4 and takes the value with the fewest votes in k.
// REQUIRES: q_size >= the classic quorum, every vote from a distinct acceptor.
PickResult PickValue(const std::vector<Vote>& votes, uint32_t q_size, uint32_t members,
                     const Bugs& bugs);

}  // namespace paxcron::paxos
