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

# Scheduled time to Slurm job start (the job's first line, on this machine), and the cron's share
# of it (scheduled time to sbatch's return, from the leader's log), outside the failover windows
# (a kill to 12 s after) and overall.
grep -h "event=launch run=$job@.*status=started launcher=slurm" "$dir"/node*.log >"$dir/launches.txt" || true
python3 - "$dir/ran.txt" "$dir/launches.txt" "${kills[@]}" <<'PY'
import calendar, re, sys, time
def t(stamp):
    return calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%S"))
kills = [float(k) for k in sys.argv[3:]]
quiet = lambda s: not any(k - 1 <= s <= k + 12 for k in kills)
start, cron = {}, {}
for line in open(sys.argv[1]):
    name, at = line.split()
    start[name] = float(at) - t(name.split("@")[1].rstrip("Z"))
for line in open(sys.argv[2]):
    m = re.search(r"ts=(\S+)\.(\d+)Z .* run=(\S+@(\S+)Z) ", line)
    if m:
        cron[m.group(3)] = t(m.group(1)) + int(m.group(2)) / 1000 - t(m.group(4))
def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(p / 100 * len(v)))] * 1000 if v else float("nan")
for label, keep in (("outside failovers", quiet), ("overall", lambda s: True)):
    s = [v for n, v in start.items() if keep(t(n.split("@")[1].rstrip("Z")))]
    c = [v for n, v in cron.items() if keep(t(n.split("@")[1].rstrip("Z")))]
    print(f"{label}: scheduled to Slurm start p50 {pct(s, 50):.0f} ms, p99 {pct(s, 99):.0f} ms "
          f"({len(s)} runs); the cron's share (to sbatch's return) p50 {pct(c, 50):.0f} ms, "
          f"p99 {pct(c, 99):.0f} ms")
PY
echo "$test_name: ok"
