// Master-lease arithmetic (Paxos Made Live, 5.2; Raft thesis, 6.4.1). Pure functions.
//
// A granter promises, on its own clock, not to help another leader for `granted_us` from the
// moment it RECEIVED the request. The holder counts its lease from the moment it SENT the request
// (earlier in true time) and for a shorter span, so that with every clock rate inside
// 1 +- rho the holder's lease ends, in true time, before any granter's promise does:
//   holder span / (1 - rho) <= granted / (1 + rho)   =>   span = granted * (1 - rho) / (1 + rho)
// minus a small epsilon for rounding and timer granularity.
#pragma once

#include <cstdint>

namespace paxcron::paxos {

// REQUIRES: granted_us > 0, drift_ppm < 1,000,000.
int64_t HolderLeaseSpanUs(int64_t granted_us, uint32_t drift_ppm, int64_t epsilon_us,
                          bool ignore_drift_bound);

}  // namespace paxcron::paxos
