# Shared by the slurm tests (sourced; it sources cluster_lib.sh): brings Slurm up with
# scripts/slurm_up.sh (exit 77, ctest's SKIP, with the reason, when it cannot start), stops on
# exit exactly the daemons this test started (none, if Slurm was up already), writes the nodes'
# configs to use the jobcomp file, and gives helpers. Expects $bin, $dir, $test_name.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$repo/tests/cluster_lib.sh"
export PAXCRON_SLURM_DIR=${PAXCRON_SLURM_DIR:-/tmp/paxcron-slurm}
export SLURM_CONF=$PAXCRON_SLURM_DIR/slurm.conf
export PATH=$PATH:/usr/sbin
jobcomp=$PAXCRON_SLURM_DIR/log/jobcomp.txt
started_before=$(cat "$PAXCRON_SLURM_DIR/started" 2>/dev/null | wc -l)
if ! why=$("$repo/scripts/slurm_up.sh" 2>&1); then
  echo "$test_name: SKIP: Slurm cannot start here: $why"
  exit 77
fi
slurm_cleanup() {
  cleanup
  local now
  now=$(cat "$PAXCRON_SLURM_DIR/started" 2>/dev/null | wc -l)
  if ((now > started_before)); then
    PAXCRON_SLURM_KEEP_FIRST=$started_before "$repo/scripts/slurm_down.sh" || true
  fi
}
trap slurm_cleanup EXIT

# A 3-node cluster whose nodes read the jobcomp file; extra config lines as arguments.
slurm_cluster_up() {
  "$bin" cluster up --nodes 3 --dir "$dir" >/dev/null || fail "cluster up"
  "$bin" cluster down --dir "$dir" >/dev/null
  for f in "$dir"/node*.conf; do
    printf 'slurm_jobcomp_file: "%s"\n' "$jobcomp" >>"$f"
    for line in "$@"; do printf '%s\n' "$line" >>"$f"; done
  done
  "$bin" cluster up --dir "$dir" >/dev/null || fail "cluster up again"
}

# An every-second Slurm job $1 whose runs append "RUN START_TIME" to $dir/ran.txt, then run $2.
slurm_add_every_second() {
  "$bin" jobs add "$1" --dir "$dir" --schedule '* * * * * *' --launcher slurm \
    --command "echo \"\$PAXCRON_RUN \$(date +%s.%N)\" >> $dir/ran.txt; ${2:-true}" >/dev/null ||
    fail "jobs add $1"
}

# Slurm's jobs of a paxcron job (run names JOB@...): "ID|NAME|STATE|STATUS" lines.
slurm_jobs_of() {
  squeue --noheader --states=all --Format='JobID:|,Name:|,State:|,exit_code:' | grep "|$1@" || true
}

# Waits (at most $2 s) until no job of $1 is pending or running in Slurm, no run is open, and
# every started run has its end recorded.
slurm_wait_ended() {
  local deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    if ! slurm_jobs_of "$1" | grep -qE '\|(PENDING|RUNNING|COMPLETING|CONFIGURING)\|'; then
      "$bin" runs ls "$1" --dir "$dir" --limit 10000 --json >"$dir/runs.json" || true
      python3 - "$dir/runs.json" <<'PY' && return 0
import json, sys
runs = json.load(open(sys.argv[1])).get("runs", [])
# An open run (RUN_BEGUN, the default, is left out of the JSON) or a started one without its end.
sys.exit(any(r["record"].get("state", "RUN_BEGUN") == "RUN_BEGUN" or
             (r["record"]["state"] == "RUN_STARTED" and
              not r["record"].get("exit", {}).get("reported")) for r in runs))
PY
    fi
    sleep 1
  done
  return 1
}

# The checks every slurm test makes, for paxcron job $1: no run name twice among Slurm's jobs,
# and the run history matches Slurm's records (each started run is one Slurm job, with its final
# state and exit code; every Slurm job of the job is a started run).
slurm_check_history() {
  slurm_jobs_of "$1" >"$dir/slurm_jobs.txt"
  "$bin" runs ls "$1" --dir "$dir" --limit 10000 --json >"$dir/runs.json" || fail "runs ls"
  python3 - "$dir/slurm_jobs.txt" "$dir/runs.json" "$jobcomp" "$1" <<'PY' || fail "history vs Slurm"
import collections, json, sys
lines, runs_file, jobcomp, job = sys.argv[1:5]
slurm = collections.defaultdict(list)
for line in open(lines):
    f = line.strip().split("|")
    if len(f) >= 4:
        slurm[f[1]].append((f[0], f[2], (int(f[3]) >> 8) & 255))
for line in open(jobcomp, errors="replace"):  # jobs already purged from the controller
    kv = dict(x.split("=", 1) for x in line.split() if "=" in x)
    name = kv.get("Name", "")
    if name.startswith(job + "@") and all(kv["JobId"] != j[0] for j in slurm[name]):
        slurm[name].append((kv["JobId"], kv["JobState"], int(kv["ExitCode"].split(":")[0])))
dups = {n: j for n, j in slurm.items() if len(j) > 1}
if dups:
    sys.exit(f"run names twice among Slurm's jobs: {dups}")
runs = {r["record"]["run_name"]: r["record"] for r in json.load(open(runs_file)).get("runs", [])}
errors = []
for name, [(jid, state, code)] in slurm.items():
    r = runs.get(name)
    if r is None:
        errors.append(f"{name}: Slurm job {jid} but no run in the history")
        continue
    if r.get("state") not in ("RUN_STARTED", "RUN_ALREADY_EXISTED"):
        errors.append(f"{name}: Slurm job {jid}, but the history says "
                      f"{r.get('state', 'RUN_BEGUN')}")
    e = r.get("exit", {})
    if r.get("state") == "RUN_STARTED" and (e.get("scheduler_job_id") != jid or
                                           e.get("scheduler_state") != state or
                                           e.get("exit_code", 0) != code):
        errors.append(f"{name}: Slurm says {jid} {state} {code}, the history {e}")
for name, r in runs.items():
    if r.get("state") == "RUN_STARTED" and name not in slurm:
        errors.append(f"{name}: started in the history, unknown to Slurm")
if errors:
    sys.exit("\n".join(errors[:20]))
started = sum(1 for r in runs.values() if r.get("state") == "RUN_STARTED")
print(f"{len(slurm)} Slurm jobs, {len(runs)} runs ({started} started): no duplicate, "
      "the history matches Slurm")
PY
}

# Scheduled time to Slurm job start (the job's first line, on this machine: $dir/ran.txt) for job
# $1, split into the cron's share (scheduled time to sbatch's start, from the leader's log), the
# sbatch call, and Slurm's (sbatch's return to the job's start); p50 and p99, outside the failover
# windows (a kill, given as further arguments, to 12 s after) and overall.
slurm_latency() {
  local job=$1
  shift
  grep -h "event=launch run=$job@.*status=started launcher=slurm" "$dir"/node*.log \
    >"$dir/launches.txt" || true
  python3 - "$dir/ran.txt" "$dir/launches.txt" "$@" <<'PY'
import calendar, re, sys, time
def t(stamp):
    return calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%S"))
sched = lambda name: t(name.split("@")[1].rstrip("Z"))
kills = [float(k) for k in sys.argv[3:]]
start, spawn, call = {}, {}, {}
for line in open(sys.argv[1]):
    name, at = line.split()
    start[name] = float(at) - sched(name)
for line in open(sys.argv[2]):
    m = re.search(r"ts=(\S+)\.(\d+)Z .* run=(\S+) .* sbatch_ms=(\d+) ", line)
    if m:
        ret = t(m.group(1)) + int(m.group(2)) / 1000 - sched(m.group(3))
        call[m.group(3)] = int(m.group(4)) / 1000
        spawn[m.group(3)] = ret - call[m.group(3)]
def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(p / 100 * len(v)))] * 1000 if v else float("nan")
windows = (("outside failovers", lambda s: not any(k - 1 <= s <= k + 12 for k in kills)),
           ("overall", lambda s: True)) if kills else (("all runs", lambda s: True),)
for label, keep in windows:
    names = [n for n in start if n in spawn and keep(sched(n))]
    parts = [("scheduled to Slurm start", [start[n] for n in names]),
             ("cron (to sbatch's start)", [spawn[n] for n in names]),
             ("sbatch", [call[n] for n in names]),
             ("Slurm (sbatch's return to start)",
              [start[n] - spawn[n] - call[n] for n in names])]
    print(f"{label}, {len(names)} runs: " + "; ".join(
        f"{what} p50 {pct(v, 50):.0f} ms, p99 {pct(v, 99):.0f} ms" for what, v in parts))
PY
}
