#!/usr/bin/env bash
# The slurm launcher against a real single-node Slurm (issue 8, section 3): a 3-node cluster on
# 127.0.0.1 launches an every-second job on Slurm for over 60 s while the leader is killed with
# SIGKILL 4 times (and restarted). Then no run name appears twice among Slurm's jobs, and the run
# history matches Slurm's records (state and exit code of each). Also prints the scheduled time
# to Slurm job start (p50, p99) and the cron's share of it (scheduled time to sbatch's return).
# SKIP (77) when Slurm cannot start. usage: slurm_kill_leader_test.sh PAXCRON
set -euo pipefail
bin=$1
test_name=slurm_kill_leader_test
source "$(dirname "$0")/slurm_lib.sh"

slurm_cluster_up
job=tick-$$-$RANDOM
slurm_add_every_second "$job" 'case $PAXCRON_RUN in *[05]Z) exit 3;; esac'
leader() { "$bin" status --dir "$dir" --json --request-timeout 5 | grep -o '"leader": *[0-9]*' | grep -o '[0-9]*$'; }
sleep 8
kills=()
for round in 1 2 3 4; do
  l=$(leader) || fail "no leader before kill $round"
  [[ -n $l && $l != 0 ]] || fail "no leader before kill $round"
  kills+=("$(date +%s.%N)")
  kill -9 "$(cat "$dir/node$l.pid")"
  sleep 1
  "$bin" cluster up --dir "$dir" --wait 10 >/dev/null || fail "restart after kill $round"
  sleep 13
done
"$bin" jobs pause "$job" --dir "$dir" >/dev/null || fail "jobs pause"
slurm_wait_ended "$job" 60 || fail "runs did not end in Slurm, or their ends were not recorded"
slurm_check_history "$job"

slurm_latency "$job" "${kills[@]}"
echo "$test_name: ok"
