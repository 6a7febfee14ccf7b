#!/usr/bin/env bash
# The new leader's lookup of a run its predecessor began (issue "A real cluster", section 3), on a
# real 3-node cluster on 127.0.0.1. Every node holds each launch back 700 ms after its
# launch-begin is applied (fault_launch_delay_ms), and its outcome 700 ms more before the cron
# leader records it (fault_report_delay_ms), so that a stop lands between "begun" and "started",
# or between "started" and its record. Three scenarios, each on a run of a job firing every second:
#   A. SIGTERM of the leader inside the window: it hands over and lingers; the new leader asks it,
#      it answers "absent" (and refuses the run for good), the run starts once, within 1.5 s + the
#      delay;
#   B. SIGKILL of the leader inside the window: the new leader cannot reach it and keeps the run
#      in doubt until the node is back (3 s later), which answers "absent": the run starts once;
#   C. SIGKILL of the leader after it started the run, before the start is recorded: the node,
#      back, answers "found": the run is not started again.
# Every scenario also checks that no run name is in the jobs' own ledger twice.
# usage: cluster_lookup_test.sh PAXCRON
set -euo pipefail
bin=$1
test_name=cluster_lookup_test
source "$(dirname "$0")/cluster_lib.sh"
delay_ms=700

"$bin" cluster up --nodes 3 --dir "$dir" >/dev/null || fail "cluster up"
"$bin" cluster down --dir "$dir" >/dev/null
for f in "$dir"/node*.conf; do
  printf 'fault_launch_delay_ms: %d\nfault_report_delay_ms: %d\n' "$delay_ms" "$delay_ms" >>"$f"
done
"$bin" cluster up --dir "$dir" >/dev/null || fail "cluster up again"

ledger="$dir/ran.txt"
: >"$ledger"
"$bin" jobs add tick --dir "$dir" --schedule '* * * * * *' --on-unknown relaunch \
  --command "echo \"\$PAXCRON_RUN \$(date +%s.%N)\" >> $ledger" >/dev/null || fail "jobs add"

leader() {
  "$bin" status --dir "$dir" --json --request-timeout 5 | grep -o '"leader": *[0-9]*' |
    grep -o '[0-9]*$'
}
# Sleeps until OFFSET seconds past the next whole second; prints that second's run name.
sleep_until() {
  python3 - "$1" <<'PY'
import sys, time, datetime
offset = float(sys.argv[1])
now = time.time()
second = int(now) + 1
time.sleep(second + offset - now)
print("tick@" + datetime.datetime.fromtimestamp(second, datetime.timezone.utc)
      .strftime("%Y-%m-%dT%H:%M:%SZ"))
PY
}
# The start time of RUN in the jobs' ledger; fails unless it is there exactly once.
started_once() {
  local n
  n=$(grep -c "^$1 " "$ledger" || true)
  [[ $n == 1 ]] || fail "$1 is in the ledger $n times (want 1)"
  grep "^$1 " "$ledger" | awk '{print $2}'
}
lateness() { python3 -c "import sys; print(f'{float(sys.argv[1]) - float(sys.argv[2]):.3f}')" "$@"; }
second_of() {
  python3 -c "import sys, datetime; print(int(datetime.datetime.strptime(sys.argv[1].split('@')[1], '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=datetime.timezone.utc).timestamp()))" "$1"
}
no_duplicates() {
  local dups
  dups=$(awk '{print $1}' "$ledger" | sort | uniq -d)
  [[ -z $dups ]] || fail "runs launched twice: $dups"
}

sleep 5
# A. SIGTERM inside the window.
l=$(leader) || fail "no leader (A)"
run=$(sleep_until 0.3)
kill -TERM "$(cat "$dir/node$l.pid")"
sleep 4
grep -q "event=handover to=" "$dir/node$l.log" || fail "A: node $l did not hand over"
grep -q "event=ledger_query from=[0-9]* run=$run found=false" "$dir/node$l.log" ||
  fail "A: node $l was not asked about $run (or did not answer absent)"
late_a=$(lateness "$(started_once "$run")" "$(second_of "$run")")
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) <= 1.5 + $delay_ms / 1000 else 1)" \
  "$late_a" || fail "A: $run started $late_a s late after a hand-over"
"$bin" cluster up --dir "$dir" --wait 10 >/dev/null || fail "A: restart"
sleep 4

# SIGKILLs node L (SCENARIO), restarts it 3 s later, and expects it to be asked about RUN and to
# answer FOUND (true or false), and the new leader to record that answer.
kill_restart_expect_answer() {
  local scenario=$1 l=$2 run=$3 found=$4 status=absent
  [[ $found == true ]] && status=found
  kill -9 "$(cat "$dir/node$l.pid")"
  sleep 3
  "$bin" cluster up --dir "$dir" --wait 10 >/dev/null || fail "$scenario: restart"
  sleep 4
  grep -q "event=ledger_query from=[0-9]* run=$run found=$found" "$dir/node$l.log" ||
    fail "$scenario: node $l was not asked about $run after its restart (or did not answer $found)"
  grep -q "event=lookup run=$run node=$l status=$status" "$dir"/node*.log ||
    fail "$scenario: no leader recorded node $l's answer for $run"
}

# B. SIGKILL inside the window; the node is back 3 s later.
l=$(leader) || fail "no leader (B)"
run=$(sleep_until 0.3)
kill_restart_expect_answer B "$l" "$run" false
late_b=$(lateness "$(started_once "$run")" "$(second_of "$run")")
sleep 2

# C. SIGKILL after the launch, before its record.
l=$(leader) || fail "no leader (C)"
run=$(sleep_until "$(python3 -c "print($delay_ms / 1000 + 0.35)")")
grep -q "^$run " "$ledger" || fail "C: $run had not started $delay_ms ms + 350 ms after its time"
kill_restart_expect_answer C "$l" "$run" true
started_once "$run" >/dev/null

"$bin" jobs pause tick --dir "$dir" >/dev/null || fail "jobs pause"
sleep 1
no_duplicates
echo "cluster_lookup_test: ok ($(wc -l <"$ledger") runs, none twice; begun-not-started run" \
  "after SIGTERM started $late_a s late, after SIGKILL $late_b s late; a started one not rerun)"
