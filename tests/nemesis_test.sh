#!/usr/bin/env bash
# Jepsen-style faults on a real paxcron cluster (issue 9, section 1). Each scenario starts a fresh
# cluster (tests/nemesis_lib.sh: every node in a network namespace of its own on a bridge in
# another; the CLI in a client namespace), adds two jobs whose commands append their run name,
# scheduled time, the true wall time and the node to a ledger file:
#   tick: every second (missed=skip); must: every 3 s, missed=all and on_unknown=relaunch (a
#   must-run job: each of its times must run exactly once once the faults are healed);
# injects its faults (each bounded in count and time), heals, lets the cluster settle, pauses the
# jobs, and hands the ledger, the cluster's run history (`paxcron runs ls --json`) and the fault
# log to tests/nemesis_check.py, which fails on a run twice, history and ledger disagreeing, a
# must-run time not run exactly once, a second outside the fault windows missing or late, or a
# run early; it measures failovers.
# Scenarios (the short set in CI, label nemesis; --long: 5 nodes, longer faults, more rounds):
#   isolate_leader  nft cuts the leader off from every peer, then heals
#   split           the cluster split in two: {leader, one follower} | the rest (3 nodes: the
#                   leader keeps a majority; 5 nodes: it is in the minority); then the leader's
#                   outgoing packets dropped (one-way loss)
#   ring_loss       a ring of pairwise cuts (3 nodes: each adjacent pair cut in turn; 5 nodes: the
#                   majorities ring, each node seeing only its two neighbours); then 30% random
#                   loss on every node (nft numgen random)
#   pause           SIGSTOP of the leader for 3 s (lease_ms 1000), then SIGCONT
#   kill            SIGKILL and restart of the leader, of a follower, of the leader again
#   clock_skew      the leader's wall clock 5 minutes ahead (libfaketime, FAKETIME_DONT_FAKE_
#                   MONOTONIC=1): nothing may start more than clock_tolerance_ms + 1 s early;
#                   reports (and, with a daemon that has the clock guard, asserts) its clock_guard
#   monotonic       every node's monotonic clock offset differently (unshare --time: +0, +1 day,
#                   +30 days, ...), then leader kills and a pause
# usage: nemesis_test.sh PAXCRON [--long] [--nodes N] [--results FILE] [SCENARIO...]
#        (no SCENARIO: all of them). Exit 0: every scenario passed; 1: one failed; 77: nothing
#        could run here.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(realpath "$1")
shift
long=0 nodes=3 results="" one="" scenarios=()
while (($#)); do
  case $1 in
    --long) long=1 nodes=5 ;;
    --nodes) nodes=$2; shift ;;
    --results) results=$(realpath -m "$2"); shift ;;
    --one) one=$2; shift ;;
    *) scenarios+=("$1") ;;
  esac
  shift
done
all=(isolate_leader split ring_loss pause kill clock_skew monotonic)
test_name=nemesis

# The driver: each scenario in a process of its own (its own cluster, namespaces and trap).
if [[ -z $one ]]; then
  ((${#scenarios[@]})) || scenarios=("${all[@]}")
  failed=() skipped=0
  t0=$(date +%s)
  for s in "${scenarios[@]}"; do
    [[ " ${all[*]} " == *" $s "* ]] || { echo "nemesis: unknown scenario $s (${all[*]})" >&2; exit 2; }
    args=(--one "$s" --nodes "$nodes")
    ((long)) && args+=(--long)
    [[ -n $results ]] && args+=(--results "$results")
    rc=0
    "$0" "$bin" "${args[@]}" || rc=$?
    if ((rc == 77)); then skipped=$((skipped + 1)); elif ((rc != 0)); then failed+=("$s"); fi
  done
  echo "nemesis: ${#scenarios[@]} scenarios in $(($(date +%s) - t0)) s, ${#failed[@]} failed" \
    "${failed[*]}, $skipped skipped"
  ((${#failed[@]} == 0)) || exit 1
  ((skipped < ${#scenarios[@]})) || exit 77
  exit 0
fi

source "$here/nemesis_lib.sh"
trap nm_cleanup EXIT
trap 'exit 143' INT TERM  # through the EXIT trap: nothing of ours is left behind
scenario=$one
test_name=nemesis_$scenario
# Durations (seconds): quiet time before each fault, the fault, rounds of each fault.
if ((long)); then quiet=8 hold=8 rounds=3; else quiet=4 hold=4 rounds=1; fi
tolerance_s=1.0   # clock_tolerance_ms default (the guard's)
late_bound=${NEMESIS_LATE_BOUND:-1.5}
recover=5
# wrap_K: what node K is started under (nm_start); empty: nothing.
for ((k = 1; k <= 5; k++)); do declare -a "wrap_$k=()"; done

# --- Scenario frame -----------------------------------------------------------------------------

# begin [WRAPPER_FOR_NODE_K via wrap_K arrays]: the cluster up, a leader, the jobs; sets start.
begin() {
  nm_init "$nodes"
  local k
  for ((k = 1; k <= nodes; k++)); do
    local w="wrap_${k}[@]"
    nm_start "$k" "${!w}"
  done
  nm_wait_leader 20 >/dev/null || nm_fail "no leader 20 s after start"
  ledger=$nm_dir/ledger.txt
  : >"$ledger"
  local cmd="echo \"\$PAXCRON_RUN \$PAXCRON_SCHEDULED_TIME \$(LD_PRELOAD= date +%s.%N) \$NEMESIS_NODE\" >> $ledger"
  nm_cli jobs add tick --schedule '* * * * * *' --history 10000 --command "$cmd" >/dev/null ||
    nm_fail "jobs add tick"
  nm_cli jobs add must --schedule '*/3 * * * * *' --missed all --on-unknown relaunch \
    --history 10000 --command "$cmd" >/dev/null || nm_fail "jobs add must"
  sleep 3
  start=$(nm_now)
}

# finish [EXTRA_JSON]: heals everything, lets the cluster settle, pauses the jobs, checks.
finish() {
  local extra=${1:-'{}'} k
  nm_heal
  for ((k = 1; k <= nodes; k++)); do kill -CONT "$(nm_pid "$k")" 2>/dev/null || true; done
  sleep "$recover"
  end=$(nm_now)
  nm_cli jobs pause tick >/dev/null || nm_fail "jobs pause tick"
  nm_cli jobs pause must >/dev/null || nm_fail "jobs pause must"
  sleep 2
  # A run may still be open: a lost outcome proposal is re-sent after 10 s (cron/leader.h's
  # proposal_timeout_us). Wait, at most 15 s, until none begun before the in-flight allowance is.
  local settle_s
  for ((settle_s = 0; settle_s < 15; settle_s++)); do
    nm_cli runs ls --limit 10000 --json --request-timeout 10 >"$nm_dir/history.json" ||
      nm_fail "runs ls"
    python3 - "$nm_dir/history.json" "$end" <<'PY' && break
import json, sys
end = float(sys.argv[2])
rows = json.load(open(sys.argv[1])).get('runs', [])
sys.exit(any(r['record'].get('state', 'RUN_BEGUN') == 'RUN_BEGUN' and
             int(r['record'].get('scheduled_s', 0)) < end - 3 for r in rows))
PY
    sleep 1
  done
  local mode=netns
  ((nm_netns)) || mode=loopback
  extra=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d.update(nodes=int(sys.argv[2]), mode=sys.argv[3], long=sys.argv[4]=="1", seconds=round(float(sys.argv[5])-float(sys.argv[6])), settle_s=int(sys.argv[7])); print(json.dumps(d))' \
    "$extra" "$nodes" "$mode" "$long" "$end" "$start" "$settle_s")
  local check=(python3 "$here/nemesis_check.py" --ledger "$ledger" --history "$nm_dir/history.json"
    --faults "$nm_dir/faults.txt" --start "$start" --end "$end" --scenario "$scenario"
    --late-bound "$late_bound" --recover "$recover" --tolerance "$tolerance_s" --extra "$extra")
  [[ -n $results ]] && check+=(--results "$results")
  "${check[@]}" || nm_fail "the checker found violations (above)"
  echo "$test_name: ok"
}

need_netns() {
  ((nm_netns)) && return 0
  echo "$test_name: SKIP: partitions need network namespaces (root, ip, nft)"
  exit 77
}
leader_now() {
  local l
  l=$(nm_wait_leader 15) || nm_fail "no leader"
  echo "$l"
}
# heal_after SECONDS: the fault lasts that long, then every rule goes.
heal_after() {
  sleep "$1"
  nm_heal
  nm_fault_end
}
# The node after L in ring order, skipping none: a follower.
next_of() { echo $(($1 % nodes + 1)); }

# --- Scenarios ----------------------------------------------------------------------------------

scenario_isolate_leader() {
  begin
  need_netns
  for ((r = 1; r <= rounds + 1; r++)); do
    sleep "$quiet"
    local l
    l=$(leader_now)
    nm_fault_begin isolate "$l" "$l"
    nm_isolate "$l"
    heal_after "$hold"
  done
  finish
}

scenario_split() {
  begin
  need_netns
  local l side k
  for ((r = 1; r <= rounds; r++)); do
    sleep "$quiet"
    l=$(leader_now)
    side=("$l" "$(next_of "$l")")
    # The leader is in the minority (and must be replaced) only with 5 nodes or more.
    local hit=0
    ((nodes >= 5)) && hit=$l
    nm_fault_begin split "${side[0]},${side[1]}" "$hit"
    for ((k = 1; k <= nodes; k++)); do
      [[ " ${side[*]} " == *" $k "* ]] && continue
      nm_cut "${side[0]}" "$k"
      nm_cut "${side[1]}" "$k"
    done
    heal_after "$hold"
    sleep "$quiet"
    l=$(leader_now)
    nm_fault_begin oneway "$l" "$l"
    for ((k = 1; k <= nodes; k++)); do [[ $k == "$l" ]] || nm_cut_oneway "$l" "$k"; done
    heal_after "$hold"
  done
  finish
}

scenario_ring_loss() {
  begin
  need_netns
  local l k j
  for ((r = 1; r <= rounds; r++)); do
    sleep "$quiet"
    l=$(leader_now)
    # Leader 0: these faults need not depose it (no failover is measured, only the stall).
    nm_fault_begin ring all 0
    if ((nodes >= 5)); then
      # The majorities ring: k sees k-1 and k+1 only; every other pair is cut.
      for ((k = 1; k <= nodes; k++)); do
        for ((j = k + 1; j <= nodes; j++)); do
          local d=$(((j - k + nodes) % nodes))
          ((d == 1 || d == nodes - 1)) || nm_cut "$k" "$j"
        done
      done
      sleep "$((hold * 2))"
    else
      # Each adjacent pair of the ring cut in turn.
      for ((k = 1; k <= nodes; k++)); do
        nm_cut "$k" "$(next_of "$k")"
        sleep "$(python3 -c "print(max(2.0, $hold * 2 / $nodes))")"
        nm_heal
      done
    fi
    nm_heal
    nm_fault_end
    sleep "$quiet"
    l=$(leader_now)
    nm_fault_begin loss30 all 0
    for ((k = 1; k <= nodes; k++)); do nm_loss "$k" 30; done
    sleep "$((hold + 2))"
    nm_heal
    nm_fault_end
  done
  finish
}

# stop_leader SECONDS: SIGSTOP of the leader (longer than its lease), then SIGCONT.
stop_leader() {
  local l
  l=$(leader_now)
  nm_fault_begin sigstop "$l" "$l"
  nm_signal "$l" STOP
  sleep "$1"
  nm_signal "$l" CONT
  nm_fault_end
}

scenario_pause() {
  begin
  for ((r = 1; r <= rounds + 1; r++)); do
    sleep "$quiet"
    stop_leader 3
  done
  finish
}

kill_restart() {
  local k=$1 down_s=$2 l=$3
  nm_fault_begin "$4" "$k" "$l"
  nm_kill9 "$k"
  sleep "$down_s"
  local w="wrap_${k}[@]"
  nm_start "$k" "${!w}"
  nm_fault_end
}

scenario_kill() {
  begin
  local l
  for ((r = 1; r <= rounds; r++)); do
    sleep "$quiet"
    l=$(leader_now)
    kill_restart "$l" 2 "$l" kill_leader
    sleep "$quiet"
    l=$(leader_now)
    kill_restart "$(next_of "$l")" 3 0 kill_follower
    sleep "$quiet"
    l=$(leader_now)
    kill_restart "$l" 1 "$l" kill_leader
  done
  finish
}

# The clock guard is in this daemon when its configuration knows clock_tolerance_ms.
metric() {
  nm_in c python3 -c 'import sys, urllib.request
for line in urllib.request.urlopen(sys.argv[1], timeout=3).read().decode().splitlines():
    if line.startswith(sys.argv[2]): print(line.split()[-1]); break' \
    "http://${nm_addr[$1]}:${nm_http[$1]}/metrics" "$2" 2>/dev/null || true
}

scenario_clock_skew() {
  # Node 1 campaigns first (a shorter election timeout), so that once skewed it becomes leader.
  nm_conf_1=$'election_timeout_min_ms: 150\nelection_timeout_max_ms: 200'
  begin
  sleep "$quiet"
  local skewed=1 l tries=0 wrapper via
  # libfaketime if it loads into this daemon; else the shim (libfaketime hangs at start in a
  # process linked with jemalloc, wolfcw/libfaketime#130).
  wrapper=(env LD_PRELOAD="$nm_libfaketime" FAKETIME=+300 FAKETIME_DONT_FAKE_MONOTONIC=1)
  via=libfaketime
  local probe
  probe=$(timeout 3 "${wrapper[@]}" "$bin" schedule next '* * * * * *' 2>/dev/null) || probe=""
  if [[ -z $probe ]] || (($(date -d "$probe" +%s) < $(date +%s) + 290)); then
    cc -shared -fPIC -O2 -o "$nm_dir/clock_shim.so" "$here/nemesis_clock_shim.c" ||
      nm_fail "cannot build the clock shim"
    wrapper=(env LD_PRELOAD="$nm_dir/clock_shim.so" NEMESIS_SKEW_S=300)
    via=shim
    echo "$test_name: libfaketime does not load into this daemon (jemalloc); the wall clock is" \
      "skewed by tests/nemesis_clock_shim.c instead"
  fi
  nm_fault_begin skew+300s "$skewed" 0
  nm_kill9 "$skewed"
  nm_start "$skewed" "${wrapper[@]}"
  # Make the skewed node the leader: pause whoever else leads (at most 4 tries, 2 s each).
  local led=0
  for ((tries = 0; tries < 4; tries++)); do
    sleep 2
    l=$(nm_leader)
    [[ $l == "$skewed" ]] && { led=1; break; }
    grep -q clock_guard "$nm_dir/node$skewed.log" && break
    [[ -n $l ]] && { nm_signal "$l" STOP; sleep 1.5; nm_signal "$l" CONT; }
  done
  sleep "$((hold * 3))"
  local logged=false trips
  trips=$(metric "$skewed" paxcron_clock_guard_trips_total)
  # Back on true time.
  nm_kill9 "$skewed"
  nm_start "$skewed"
  nm_fault_end
  sleep "$quiet"
  grep -q clock_guard "$nm_dir"/node*.log && logged=true
  echo "$test_name: skewed node $skewed led: $led; clock_guard logged: $logged;" \
    "paxcron_clock_guard_trips_total: ${trips:-absent}"
  # The daemon's clock guard (node/node.cc, ClockGuardHolds) must have acted.
  [[ $logged == true ]] || nm_fail "no clock_guard line was logged"
  [[ ${trips:-0} =~ ^[0-9.]+$ ]] && python3 -c "import sys; sys.exit(float(sys.argv[1]) <= 0)" \
    "${trips:-0}" || nm_fail "paxcron_clock_guard_trips_total is ${trips:-absent}"
  finish "{\"clock_guard_logged\": $logged, \"clock_guard_trips\": \"${trips:-absent}\", \"skewed_led\": $led, \"skew_via\": \"$via\"}"
}

scenario_monotonic() {
  local k offsets=(0 86400 2592000 3600 604800)
  unshare --time --monotonic 1 true 2>/dev/null || {
    echo "$test_name: SKIP: unshare --time does not work here"; exit 77; }
  for ((k = 1; k <= nodes; k++)); do
    eval "wrap_$k=(unshare --time --monotonic ${offsets[k - 1]})"
  done
  begin
  local seen=()
  for ((k = 1; k <= nodes; k++)); do
    seen+=("$k:$(awk '/monotonic/ {print $2}' "/proc/$(nm_pid "$k")/timens_offsets")")
  done
  echo "$test_name: monotonic offsets (node:seconds) ${seen[*]}"
  local l
  for ((r = 1; r <= rounds; r++)); do
    sleep "$quiet"
    l=$(leader_now)
    kill_restart "$l" 2 "$l" kill_leader
    sleep "$quiet"
    stop_leader 3
  done
  finish
}

"scenario_$scenario"
