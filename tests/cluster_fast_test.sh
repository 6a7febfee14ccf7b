#!/usr/bin/env bash
# Fast Paxos on a real 3-node cluster on 127.0.0.1 (issue 6; `paxcron cluster up --mode fast`).
# Clients write at every node at once (each client talks to one node only: in fast mode a
# follower takes the write and its replica sends it straight to the acceptors) while an
# every-second job runs. Checks: every node logs mode=fast at start; every write is answered and
# every job is in the table; no run name in the job's own ledger twice, and the ledger and the
# replicated run history agree; the leader's /metrics count slots chosen in fast rounds and the
# followers' count writes they took. Last, node 3 restarts with mode "multi": both sides log
# mode_mismatch and drop each other's consensus messages, and the two fast nodes go on.
# usage: cluster_fast_test.sh PAXCRON
set -euo pipefail
bin=$(realpath "$1")
test_name=cluster_fast_test
source "$(dirname "$0")/cluster_lib.sh"

"$bin" cluster up --nodes 3 --mode fast --dir "$dir" >/dev/null || fail "cluster up --mode fast"
for k in 1 2 3; do
  grep -q "event=start .* mode=fast" "$dir/node$k.log" || fail "node $k did not log mode=fast"
done
IFS=, read -r -a endpoints <"$dir/endpoints"
secret="$dir/secret"
metric() {  # metric NODE NAME: the value on that node's /metrics (empty if absent)
  local http
  http=$(sed -n 's/^http_listen: "\(.*\)"$/\1/p' "$dir/node$1.conf")
  python3 - "$http" <<'PY' | awk -v n="$2" '$1 == n {print $2}'
import sys, urllib.request
print(urllib.request.urlopen(f"http://{sys.argv[1]}/metrics", timeout=5).read().decode())
PY
}
leader() { "$bin" status --dir "$dir" --json | grep -o '"leader": *[0-9]*' | grep -o '[0-9]*$'; }

ledger="$dir/ran.txt"
: >"$ledger"
"$bin" jobs add tick --endpoints "${endpoints[1]}" --secret-file "$secret" \
  --schedule '* * * * * *' --command "echo \$PAXCRON_RUN >> $ledger" >/dev/null ||
  fail "jobs add tick at node 2"

# Three clients per node, each adding and then pausing its own jobs through that node only.
per_client=8
pids=()
for k in 0 1 2; do
  for c in 1 2 3; do
    (
      for i in $(seq 1 "$per_client"); do
        name="n$((k + 1))c${c}j$i"
        "$bin" jobs add "$name" --endpoints "${endpoints[$k]}" --secret-file "$secret" \
          --schedule '0 0 1 1 *' --command true >/dev/null || exit 1
        "$bin" jobs pause "$name" --endpoints "${endpoints[$k]}" --secret-file "$secret" \
          >/dev/null || exit 1
      done
    ) &
    pids+=($!)
  done
done
for p in "${pids[@]}"; do wait "$p" || fail "a client's write failed"; done
sleep 8

jobs_json=$("$bin" jobs ls --dir "$dir" --json)
for k in 1 2 3; do
  for c in 1 2 3; do
    for i in $(seq 1 "$per_client"); do
      grep -q "\"n${k}c${c}j$i\"" <<<"$jobs_json" || fail "job n${k}c${c}j$i is missing"
    done
  done
done
paused=$(grep -o '"paused": *true' <<<"$jobs_json" | wc -l)
[[ $paused -eq $((9 * per_client)) ]] || fail "$paused jobs paused, $((9 * per_client)) expected"

# The run history against the job's own ledger (runs still under way at the end aside).
sleep 1.5
runs=$(wc -l <"$ledger")
[[ $runs -ge 6 ]] || fail "only $runs runs of the every-second job"
dups=$(sort "$ledger" | uniq -d)
[[ -z $dups ]] || fail "runs launched twice: $dups"
python3 - "$ledger" <<'PY' || fail "a second without its run"
import sys, datetime
seconds = sorted(datetime.datetime.strptime(l.strip().split('@')[1], '%Y-%m-%dT%H:%M:%SZ')
                 for l in open(sys.argv[1]))
span = int((seconds[-1] - seconds[0]).total_seconds()) + 1
if span != len(seconds):
    sys.exit(f"{len(seconds)} runs over {span} seconds")
PY
history=$("$bin" runs ls tick --dir "$dir" --limit 1000)
while read -r run; do
  n=$(awk -v r="$run" '$2 == r' <<<"$history" | wc -l)
  [[ $n -eq 1 ]] || fail "$run ran but is $n times in the run history"
done <"$ledger"
started=$(awk '$3 == "started" {print $2}' <<<"$history")
for run in $started; do
  grep -qx "$run" "$ledger" || fail "$run is recorded started but never ran"
done

# Fast rounds were used: the leader counted slots chosen in a fast round, and the followers took
# writes themselves.
l=$(leader)
[[ -n $l ]] || fail "no leader"
fast_rounds=$(metric "$l" paxcron_fast_rounds_total)
[[ ${fast_rounds:-0} -ge 10 ]] || fail "paxcron_fast_rounds_total on the leader is '${fast_rounds:-}'"
collisions=$(metric "$l" paxcron_fast_collisions_total)
taken=0
for k in 1 2 3; do
  [[ $k == "$l" ]] && continue
  taken=$((taken + $(metric "$k" paxcron_fast_client_writes_total)))
done
[[ $taken -ge 1 ]] || fail "the followers took no client writes"
metric "$l" 'paxcron_mode{mode="fast"}' | grep -qx 1 || fail "paxcron_mode on the leader"

# A member in another mode is refused, by it and by the others, and says so.
"$bin" cluster down --dir "$dir" >/dev/null
sed -i 's/^mode: "fast"$/mode: "multi"/' "$dir/node3.conf"
"$bin" cluster up --dir "$dir" >/dev/null || fail "cluster up with node 3 in multi mode"
sleep 2
grep -q "event=mode_mismatch peer=[12] ours=multi theirs=fast" "$dir/node3.log" ||
  fail "node 3 (multi) did not refuse the fast nodes"
grep -q "event=mode_mismatch peer=3 ours=fast theirs=multi" "$dir/node1.log" ||
  fail "node 1 (fast) did not refuse node 3"
"$bin" jobs add after --endpoints "${endpoints[0]},${endpoints[1]}" --secret-file "$secret" \
  --schedule '0 0 1 1 *' --command true >/dev/null || fail "the two fast nodes took no write"
echo "$test_name: ok: $((9 * per_client)) jobs from clients at 3 nodes, $runs runs none twice," \
  "fast rounds $fast_rounds, collisions ${collisions:-0}, follower writes $taken; mode mismatch refused"
