#!/usr/bin/env bash
# The ambiguous submit (issue 8, section 3), with a wrapper `sbatch` first in the nodes' PATH
# (not a network namespace: the smaller honest version the brief allows). For job late-*, the
# wrapper submits the job for real and then fails as sbatch does when the controller's reply is
# lost: "Batch job submission failed: Socket timed out on send/recv operation", exit 1. For job
# lost-*, it fails the same way the first time for each run without submitting anything. The
# cron must look each run up by name before any retry: late-* runs are found and recorded as
# started (never submitted twice); lost-* runs are found absent and then launched once.
# SKIP (77) when Slurm cannot start. usage: slurm_ambiguous_test.sh PAXCRON
set -euo pipefail
bin=$1
test_name=slurm_ambiguous_test
source "$(dirname "$0")/slurm_lib.sh"

real=$(command -v sbatch)
mkdir -p "$dir/bin" "$dir/lost"
cat >"$dir/bin/sbatch" <<WRAP
#!/bin/sh
name=
for a in "\$@"; do case \$a in --job-name=*) name=\${a#--job-name=};; esac; done
timeout_msg="sbatch: error: Batch job submission failed: Socket timed out on send/recv operation"
case \$name in
  late-*)
    $real "\$@" >/dev/null || exit \$?
    echo "\$timeout_msg" >&2
    exit 1;;
  lost-*)
    if mkdir "$dir/lost/\$name" 2>/dev/null; then echo "\$timeout_msg" >&2; exit 1; fi;;
esac
exec $real "\$@"
WRAP
chmod +x "$dir/bin/sbatch"
PATH=$dir/bin:$PATH slurm_cluster_up
late=late-$$-$RANDOM
lost=lost-$$-$RANDOM
for j in "$late" "$lost"; do
  "$bin" jobs add "$j" --dir "$dir" --schedule '*/2 * * * * *' --launcher slurm --command true \
    >/dev/null || fail "jobs add $j"
done
sleep 16
for j in "$late" "$lost"; do "$bin" jobs pause "$j" --dir "$dir" >/dev/null || fail "pause $j"; done
for j in "$late" "$lost"; do
  slurm_wait_ended "$j" 60 || fail "$j: runs did not end, or their ends were not recorded"
  slurm_check_history "$j"
done

# Every run of late-* was ambiguous, then found by lookup; every run of lost-* was ambiguous,
# found absent, and launched again.
python3 - "$late" "$lost" "$dir"/node*.log <<'PY' || fail "launch and lookup sequence"
import collections, re, sys
late, lost = sys.argv[1], sys.argv[2]
events = collections.defaultdict(list)
for path in sys.argv[3:]:
    for line in open(path):
        m = re.search(r"event=(launch|lookup) run=(\S+) .*status=(\w+)", line)
        if m and "launcher=slurm" in line:
            events[m.group(2)].append(f"{m.group(1)}:{m.group(3)}")
def runs(job):
    return {r: e for r, e in events.items() if r.startswith(job + "@")}
bad = []
for run, e in runs(late).items():
    if e[:2] != ["launch:unknown", "lookup:found"] or "launch:started" in e:
        bad.append(f"{run}: {e}")
for run, e in runs(lost).items():
    if e[:3] != ["launch:unknown", "lookup:absent", "launch:started"]:
        bad.append(f"{run}: {e}")
if len(runs(late)) < 4 or len(runs(lost)) < 4:
    bad.append(f"too few runs: {len(runs(late))} late, {len(runs(lost))} lost")
if bad:
    sys.exit("\n".join(bad))
print(f"{len(runs(late))} runs submitted then reported 'Socket timed out': each found by name, "
      f"none submitted again; {len(runs(lost))} runs lost before the controller: each found "
      "absent, then launched once")
PY
echo "$test_name: ok"
