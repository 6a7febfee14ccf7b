#!/usr/bin/env bash
# The Slurm controller stopped for 20 s and restarted (issue 8, section 3), under a job firing
# every second (missed=skip, the default). While slurmctld is down, sbatch fails ("Unable to
# contact slurm controller"): each such launch is unknown, its lookups fail too, and the run stays
# open (never relaunched blindly). Once the controller is back, each is looked up by name: absent
# ones are launched again only if the job's deadline (10 s here) and missed policy (skip, beyond
# the node's 60 s grace) still allow it, when the launch is decided again: those later than the
# deadline are skipped ("deadline: ..."), the others launched, once. Checks: no run name twice
# among Slurm's jobs, the history matches Slurm's records, every run scheduled during the outage
# ended, none submitted by the cron more than the deadline (plus an sbatch timeout, 5 s) late, some
# skipped for the deadline, and runs after it start on time again. The bound is on the cron's
# submission (sbatch's start, from the leaders' `event=launch` lines), not on the job's start: a
# run submitted on time just before the controller went down is Slurm's to start, and Slurm starts
# it only after the restart (CI saw one start 27.5 s late that way). SKIP (77) when Slurm cannot
# start.
# usage: slurm_controller_outage_test.sh PAXCRON
set -euo pipefail
bin=$1
test_name=slurm_controller_outage_test
source "$(dirname "$0")/slurm_lib.sh"

slurm_cluster_up
job=outage-$$-$RANDOM
"$bin" jobs add "$job" --dir "$dir" --schedule '* * * * * *' --launcher slurm --deadline 10s \
  --command "echo \"\$PAXCRON_RUN \$(date +%s.%N)\" >> $dir/ran.txt" >/dev/null ||
  fail "jobs add $job"
sleep 8
# Stop the controller; the restart below takes its place in the list of daemons started (so
# that whoever started it stops the new one).
ctld=$(cat "$PAXCRON_SLURM_DIR/slurmctld.pid")
stop_at=$(date +%s)
kill -TERM "$ctld"
for _ in $(seq 100); do kill -0 "$ctld" 2>/dev/null || break; sleep 0.1; done
kill -0 "$ctld" 2>/dev/null && fail "slurmctld $ctld did not stop"
sed -i "/^slurmctld $ctld\$/d" "$PAXCRON_SLURM_DIR/started"
sleep 20
before=$(wc -l <"$PAXCRON_SLURM_DIR/started")
"$repo/scripts/slurm_up.sh" >/dev/null 2>&1 || fail "slurm_up after the outage"
restart_at=$(date +%s)
new=$(tail -n +$((before + 1)) "$PAXCRON_SLURM_DIR/started")
head -n "$before" "$PAXCRON_SLURM_DIR/started" >"$dir/started.tmp"
# Put the restarted controller back where the stopped one was listed (munged, slurmctld, slurmd:
# alphabetical, the order slurm_down.sh stops them in reverse).
{ echo "$new"; cat "$dir/started.tmp"; } | sort -s -k1,1 | awk 'NF' >"$PAXCRON_SLURM_DIR/started"
sleep 15
"$bin" jobs pause "$job" --dir "$dir" >/dev/null || fail "jobs pause"
slurm_wait_ended "$job" 120 || fail "runs did not end, or their ends were not recorded"
slurm_check_history "$job"

grep -h "event=launch run=$job@.*status=started launcher=slurm" "$dir"/node*.log \
  >"$dir/launches.txt" || true
python3 - "$dir/runs.json" "$dir/ran.txt" "$dir/launches.txt" "$stop_at" "$restart_at" <<'PY' ||
import calendar, collections, json, re, sys, time
runs_file, ran_file, launch_file = sys.argv[1:4]
stop, restart = int(sys.argv[4]), int(sys.argv[5])
t = lambda n: calendar.timegm(time.strptime(n.split("@")[1], "%Y-%m-%dT%H:%M:%SZ"))
runs = [r["record"] for r in json.load(open(runs_file))["runs"]]
ran = {}
for line in open(ran_file):
    name, at = line.split()
    ran[name] = float(at) - t(name)
# When the cron submitted each run: the launch line's time less the sbatch call's duration.
submitted = {}
for line in open(launch_file):
    m = re.search(r"ts=(\S+)\.(\d+)Z .* run=(\S+) .* sbatch_ms=(\d+) ", line)
    if m:
        at = (calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")) +
              int(m.group(2)) / 1000 - int(m.group(4)) / 1000)
        submitted[m.group(3)] = at - t(m.group(3))
during = [r for r in runs if stop <= t(r["run_name"]) < restart]
outcomes = collections.Counter(r.get("state", "RUN_BEGUN") for r in during)
late = [ran[r["run_name"]] for r in during if r["run_name"] in ran]
late_submit = [submitted[r["run_name"]] for r in during if r["run_name"] in submitted]
if late and not late_submit:
    sys.exit(f"runs of the outage ran but no launch line of theirs was found in the node logs")
after = [ran[n] for n in ran if t(n) >= restart + 8]
if len(during) < 15:
    sys.exit(f"only {len(during)} runs scheduled during the outage")
if outcomes.get("RUN_BEGUN"):
    sys.exit(f"runs of the outage still open: {outcomes}")
if late_submit and max(late_submit) > 16.0:
    sys.exit(f"a run of the outage was submitted {max(late_submit):.1f} s late: its 10 s "
             f"deadline should have skipped it")
missed = [r for r in during if r.get("state") == "RUN_SKIPPED"
          and r.get("reason", "").startswith("deadline:")]
if not missed:
    sys.exit(f"no run of the outage was skipped for its deadline: {dict(outcomes)}")
if not after or max(after) > 2.0:
    sys.exit(f"after the outage runs did not start on time again: {sorted(after)[-3:]}")
print(f"{len(during)} runs scheduled during the 20 s outage: {dict(outcomes)} ({len(missed)} "
      f"skipped for the deadline); those started were submitted "
      f"{min(late_submit, default=0):.1f}-{max(late_submit, default=0):.1f} s late and ran "
      f"{min(late, default=0):.1f}-{max(late, default=0):.1f} s late; after it, "
      f"{len(after)} runs started at most {max(after):.2f} s late")
PY
  fail "outage outcomes"
echo "$test_name: ok"
