#!/usr/bin/env bash
# Scheduled time to Slurm job start with the slurm launcher, on a quiet 3-node cluster and the
# tuned single-node Slurm of scripts/slurm_up.sh: an every-second job for SECONDS (default 120),
# then p50 and p99 of the whole and of its parts (the cron's, sbatch's, Slurm's).
# usage: scripts/slurm_bench.sh [SECONDS]   (after scripts/build.sh; as root)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/build/paxcron
seconds=${1:-120}
test_name=slurm_bench
source tests/slurm_lib.sh
slurm_cluster_up
job=bench-$$
slurm_add_every_second "$job"
sleep "$seconds"
"$bin" jobs pause "$job" --dir "$dir" >/dev/null || fail "jobs pause"
slurm_wait_ended "$job" 60 || fail "runs did not end"
slurm_latency "$job"
