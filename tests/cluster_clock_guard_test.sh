#!/usr/bin/env bash
# The clock-integrity guard on a real 3-node cluster on 127.0.0.1 (issue "Jepsen-style faults",
# section 3). Node 3's wall clock reads 5 minutes ahead (the fault_wall_offset_ms hook:
# libfaketime and jemalloc cannot share a process; its monotonic clock, which leases use, is
# untouched), and it has the shortest election timeouts, so that it is the first leader. It must
# find its clock off the majority's, say so (`clock_guard` in its log,
# paxcron_clock_guard_trips_total), hand leadership over and never launch; the every-second job
# must run on true time under the new leader, each run once and none more than the tolerance
# (1 s) plus a second early.
# With --guard-off the tolerance is an hour (the guard cannot see 5 minutes): the test then shows
# that its own early check catches node 3 firing runs minutes early.
# usage: cluster_clock_guard_test.sh PAXCRON [--guard-off]
set -euo pipefail
bin=$(realpath "$1")
test_name=cluster_clock_guard_test
guard_off=0
[[ ${2:-} == --guard-off ]] && guard_off=1
source "$(dirname "$0")/cluster_lib.sh"
ahead_s=300

"$bin" cluster up --nodes 3 --dir "$dir" >/dev/null || fail "cluster up"
"$bin" cluster down --dir "$dir" >/dev/null
printf 'election_timeout_min_ms: 100\nelection_timeout_max_ms: 150\nfault_wall_offset_ms: %d\n' \
  $((ahead_s * 1000)) >>"$dir/node3.conf"
# The others campaign only after 1.5-2 s of silence: node 3 has time to connect and win first.
for k in 1 2; do
  printf 'election_timeout_min_ms: 1500\nelection_timeout_max_ms: 2000\n' >>"$dir/node$k.conf"
done
if [[ $guard_off == 1 ]]; then
  for f in "$dir"/node*.conf; do echo 'clock_tolerance_ms: 3600000' >>"$f"; done
fi
"$bin" cluster up --dir "$dir" >/dev/null || fail "cluster up with node 3 ahead"

ledger="$dir/ran.txt"
: >"$ledger"
"$bin" jobs add tick --dir "$dir" --schedule '* * * * * *' \
  --command "date +\"\$PAXCRON_RUN %s.%N\" >> $ledger" \
  >/dev/null || fail "jobs add"
sleep 12

# Earliness on true time: the start minus the scheduled second; a run more than 2 s early fails.
early_check() {
  python3 - "$ledger" <<'PY'
import sys, datetime
worst = None
for line in open(sys.argv[1]):
    run, started = line.split()
    t = datetime.datetime.strptime(run.split('@')[1], '%Y-%m-%dT%H:%M:%SZ')
    late = float(started) - t.replace(tzinfo=datetime.timezone.utc).timestamp()
    worst = late if worst is None else min(worst, late)
    if late < -2.0:
        print(f"{run} started {-late:.3f} s early", file=sys.stderr)
        sys.exit(1)
print(f"earliest start relative to its time: {worst:+.3f} s")
PY
}
if [[ $guard_off == 1 ]]; then
  grep -q "event=launch " "$dir/node3.log" || fail "--guard-off: node 3 never launched"
  if early_check; then fail "--guard-off: the early check did not catch node 3's runs"; fi
  echo "$test_name --guard-off: ok: without the guard node 3 fired runs early, and it was caught"
  exit 0
fi
grep -q "event=clock_guard verdict=off" "$dir/node3.log" ||
  fail "node 3 (clock ${ahead_s} s ahead) never found its clock off"
grep -q "event=handover to=[12] reason=clock" "$dir/node3.log" ||
  fail "node 3 did not hand leadership over to a node with the majority's time"
grep "event=clock_guard" "$dir/node3.log" | head -n 1
if grep -q "event=launch " "$dir/node3.log"; then fail "node 3 launched with its clock off"; fi
http=$(sed -n 's/^http_listen: "\(.*\)"$/\1/p' "$dir/node3.conf")
trips=$(python3 - "$http" <<'PY' | awk '$1 == "paxcron_clock_guard_trips_total" {print $2}'
import sys, urllib.request
print(urllib.request.urlopen(f"http://{sys.argv[1]}/metrics", timeout=5).read().decode())
PY
)
[[ ${trips:-0} -ge 1 ]] || fail "paxcron_clock_guard_trips_total on node 3 is '${trips:-}'"

runs=$(wc -l <"$ledger")
[[ $runs -ge 5 ]] || fail "only $runs runs in 12 s under the new leader"
dups=$(awk '{print $1}' "$ledger" | sort | uniq -d)
[[ -z $dups ]] || fail "runs launched twice: $dups"
early_check || fail "a run started early"
echo "$test_name: ok: node 3 ${ahead_s} s ahead stood aside (trips=$trips), $runs runs, none twice"
