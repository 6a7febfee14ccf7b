// Static configuration of one replica of the consensus core, and the classic bugs a teacher can
// switch on to watch the simulator's checkers catch them. Plain data; thread-compatible.
#pragma once

#include <cstdint>
#include <vector>

#include "paxos/types.h"

namespace paxcron::paxos {

// Classic mistakes, off by default. Each one is caught by a checker in the simulator
// (tests/sim/bug_catch_test.cc proves it). Never enable outside a simulation.
struct Bugs {
  bool no_phase1_recovery = false;     // a new leader ignores values reported in promises
  bool lease_no_drift_margin = false;  // the holder does not shrink its lease by the drift bound
  bool no_lease_wait = false;          // acceptors promise to a new leader while a lease runs
  bool small_quorum = false;           // quorums of n/2 instead of a majority
  // Fast Paxos (mode kFast).
  bool fast_quorum_too_small = false;  // a majority is taken for a fast quorum
  bool recovery_picks_any = false;     // recovery ignores the value-picking rule (fast_pick.h)
  // (ack-before-persist lives in the driver: it sends replies before persisting.)
};

// Multi-Paxos (the default), or Fast Paxos (replica_fast.cc). A setting of the whole cluster:
// every member must run the same mode.
enum class Mode { kMulti, kFast };

struct Config {
  Mode mode = Mode::kMulti;
  NodeId self;
  std::vector<NodeId> members;  // every voting member, self included; sorted, unique

  int64_t heartbeat_interval_us = 50'000;
  int64_t election_timeout_min_us = 300'000;
  int64_t election_timeout_max_us = 600'000;
  int64_t lease_duration_us = 2'000'000;  // what a granter promises, on its own clock
  uint32_t drift_bound_ppm = 10'000;      // clock rates differ from true time by at most this
  int64_t lease_epsilon_us = 1'000;       // extra safety margin on the holder's side
  // Wall clocks this close to each other agree (clock_guard.h): each member's reading counts as
  // an interval half this much wider on both sides, and so does our own, [-tol/2, tol/2].
  int64_t clock_tolerance_us = 1'000'000;

  uint32_t inflight_slots_max = 32;           // pipelining window: proposed but not yet chosen
  uint32_t batch_commands_max = 16;           // commands packed into one slot
  uint32_t pending_commands_max = 4096;       // leader's queue of commands waiting for a slot
  uint32_t catchup_slots_max = 64;            // chosen values per catch-up reply
  uint32_t promise_values_max = 1024;         // beyond this a candidate must catch up first
  uint32_t snapshot_chunk_bytes = 64 * 1024;  // largest SnapshotChunk a driver may serve
  uint32_t snapshot_fetch_retries = 8;        // unanswered requests before a fetch is dropped

  Bugs bugs;
};

// Majority quorum: any two intersect (Paxos Made Simple, 2.2). The small_quorum bug breaks it.
inline uint32_t QuorumSize(uint32_t members, const Bugs& bugs) {
  return bugs.small_quorum ? members / 2 : members / 2 + 1;
}

// Fast quorum: the smallest q_f with 2 * q_f + q_c > 2 * n for classic quorums q_c = n / 2 + 1,
// so that any two fast quorums and any classic quorum share an acceptor (Lamport, "Fast Paxos",
// sections 3.1 and 3.4.1, the quorum requirement; PITFALLS: N > 2E + F). Sizes (n: classic, fast):
//   n = 3: 2, 3    n = 4: 3, 3    n = 5: 3, 4    n = 7: 4, 6
constexpr uint32_t FastQuorumFor(uint32_t members) {
  const uint32_t classic = members / 2 + 1;
  return (2 * members - classic) / 2 + 1;
}
static_assert(FastQuorumFor(3) == 3 && FastQuorumFor(4) == 3 && FastQuorumFor(5) == 4 &&
              FastQuorumFor(7) == 6);
static_assert(2 * FastQuorumFor(5) + 3 > 2 * 5 && 2 * (FastQuorumFor(5) - 1) + 3 <= 2 * 5);

// The fast_quorum_too_small bug takes a majority instead: two fast quorums and a classic one may
// then miss each other, and recovery can no longer tell which value a fast round chose.
inline uint32_t FastQuorumSize(uint32_t members, const Bugs& bugs) {
  return bugs.fast_quorum_too_small ? members / 2 + 1 : FastQuorumFor(members);
}

}  // namespace paxcron::paxos
