#!/usr/bin/env bash
# Stops exactly the daemons scripts/slurm_up.sh started (listed in $PAXCRON_SLURM_DIR/started),
# each by its process id, and waits (bounded) for them to exit. Idempotent. With
# PAXCRON_SLURM_KEEP_FIRST=N, the first N listed (started by someone else's earlier call) are
# left running. Keeps the directory (logs, jobcomp file) unless PAXCRON_SLURM_CLEAN=1.
set -euo pipefail
dir=${PAXCRON_SLURM_DIR:-/tmp/paxcron-slurm}
[[ -f $dir/started ]] || exit 0
keep=${PAXCRON_SLURM_KEEP_FIRST:-0}
# Reverse order: slurmd, slurmctld, then munged.
tail -n +$((keep + 1)) "$dir/started" | tac | while read -r name pid; do
  [[ -n $pid ]] || continue
  [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$name" ]] || continue  # gone, or the pid reused
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
done
head -n "$keep" "$dir/started" >"$dir/started.new" && mv "$dir/started.new" "$dir/started"
if ((keep == 0)) && [[ ${PAXCRON_SLURM_CLEAN:-0} == 1 ]]; then rm -rf "$dir"; fi
exit 0
