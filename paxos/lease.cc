#include "paxos/lease.h"

#include "common/assert.h"

namespace paxcron::paxos {

int64_t HolderLeaseSpanUs(int64_t granted_us, uint32_t drift_ppm, int64_t epsilon_us,
                          bool ignore_drift_bound) {
  PAXCRON_ASSERT(granted_us > 0);
  PAXCRON_ASSERT(drift_ppm < 1'000'000);
  PAXCRON_ASSERT(epsilon_us >= 0);
  // The lease-no-drift-margin bug: trust the local clock as if it were perfect.
  if (ignore_drift_bound) return granted_us;
  const __int128 scaled =
      static_cast<__int128>(granted_us) * (1'000'000 - drift_ppm) / (1'000'000 + drift_ppm);
  const int64_t span = static_cast<int64_t>(scaled) - epsilon_us;
  PAXCRON_ASSERT(span <= granted_us);
  return span > 0 ? span : 0;
}

}  // namespace paxcron::paxos
