#!/usr/bin/env bash
# Stops exactly the daemons scripts/slurm_up.sh started (listed in $PAXCRON_SLURM_DIR/started),
# each by its process id, and waits (bounded) for them to exit. Idempotent. Keeps the directory
# (logs, jobcomp file) unless PAXCRON_SLURM_CLEAN=1.
set -euo pipefail
dir=${PAXCRON_SLURM_DIR:-/tmp/paxcron-slurm}
[[ -f $dir/started ]] || exit 0
# Reverse order: slurmd, slurmctld, then munged.
tac "$dir/started" | while read -r name pid; do
  [[ -n $pid ]] || continue
  [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$name" ]] || continue  # gone, or the pid reused
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
done
: >"$dir/started"
[[ ${PAXCRON_SLURM_CLEAN:-0} == 1 ]] && rm -rf "$dir"
exit 0
