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
