#!/usr/bin/env bash
# The ambiguous submit with a real lost reply (issue 8, section 3): slurmctld runs in a network
# namespace of its own, slurmd, the 3-node paxcron cluster and every client in a second one,
# joined by a veth pair; nothing uses the root namespace's network. An nft rule inside the
# controller's namespace drops every packet the controller sends from its port except the SYN-ACK:
# the handshake completes and the request arrives, so the job is created, but the reply is lost
# and sbatch fails with "Socket timed out on send/recv operation" (MessageTimeout=3). The rule is
# removed (heal) a few seconds later. Checks: the run's launch was unknown with that message, it
# was then found by name and recorded as started, and Slurm holds exactly one job of its name.
# Reachability is checked with `ip route get` inside the namespaces, never with packets from
# outside. SKIP (77) without root, ip or nft, or when Slurm cannot start there.
# usage: slurm_netns_ambiguous_test.sh PAXCRON
set -euo pipefail
bin=$1
test_name=slurm_netns_ambiguous_test
skip() { echo "$test_name: SKIP: $*"; exit 77; }
export PATH=$PATH:/usr/sbin
[[ $(id -u) -eq 0 ]] || skip "needs root"
command -v ip >/dev/null && command -v nft >/dev/null || skip "needs ip and nft"
repo=$(cd "$(dirname "$0")/.." && pwd)
ctl=pxs-ctl-$$ node=pxs-node-$$
ctl_addr=10.254.77.1 node_addr=10.254.77.2
export PAXCRON_SLURM_DIR=/tmp/paxcron-slurm-netns-$$
export SLURM_CONF=$PAXCRON_SLURM_DIR/slurm.conf
dir=$(mktemp -d "/tmp/paxcron-$test_name.XXXXXX")
# nsenter, not `ip netns exec`: the latter remounts /sys, hiding the cgroup mount slurmd needs.
in_node() { nsenter --net=/run/netns/"$node" "$@"; }
cleanup() {
  in_node "$bin" cluster down --dir "$dir" >/dev/null 2>&1 || true
  PAXCRON_SLURM_KEEP_FIRST=0 "$repo/scripts/slurm_down.sh" || true
  ip netns del "$ctl" 2>/dev/null || true
  ip netns del "$node" 2>/dev/null || true
  if [[ ${KEEP:-0} == 1 ]]; then echo "kept $dir $PAXCRON_SLURM_DIR"; else rm -rf "$dir" "$PAXCRON_SLURM_DIR"; fi
}
trap cleanup EXIT
fail() {
  echo "$test_name: FAIL: $*" >&2
  tail -n 20 "$dir"/node*.log >&2 || true
  exit 1
}

ip netns add "$ctl" && ip netns add "$node" || skip "cannot create network namespaces"
ip link add "vc$$" type veth peer name "vn$$" || skip "cannot create a veth pair"
ip link set "vc$$" netns "$ctl" && ip link set "vn$$" netns "$node"
ip -n "$ctl" addr add "$ctl_addr/24" dev "vc$$" && ip -n "$ctl" link set "vc$$" up
ip -n "$node" addr add "$node_addr/24" dev "vn$$" && ip -n "$node" link set "vn$$" up
ip -n "$ctl" link set lo up && ip -n "$node" link set lo up
route=$(in_node ip route get "$ctl_addr")
[[ $route == *"dev vn$$"* ]] || fail "the controller's address is not reached through the veth: $route"

PAXCRON_SLURM_CTLD_NS=$ctl PAXCRON_SLURM_NODE_NS=$node PAXCRON_SLURM_CTLD_ADDR=$ctl_addr \
  PAXCRON_SLURM_NODE_ADDR=$node_addr PAXCRON_SLURM_EXTRA_CONF=MessageTimeout=3 \
  "$repo/scripts/slurm_up.sh" >"$dir/slurm_up.log" 2>&1 ||
  skip "Slurm cannot start in namespaces: $(cat "$dir/slurm_up.log")"

in_node "$bin" cluster up --nodes 3 --dir "$dir" >/dev/null || fail "cluster up"
in_node "$bin" cluster down --dir "$dir" >/dev/null
for f in "$dir"/node*.conf; do echo 'slurm_timeout_ms: 8000' >>"$f"; done
in_node "$bin" cluster up --dir "$dir" >/dev/null || fail "cluster up again"
job=lostreply-$$
in_node "$bin" jobs add "$job" --dir "$dir" --schedule '*/10 * * * * *' --launcher slurm \
  --command true >/dev/null || fail "jobs add"
# Drop the controller's replies from just before the next run is due (:x8) to 6 s later.
until (( 10#$(date +%S) % 10 == 8 )); do sleep 0.2; done
nsenter --net=/run/netns/"$ctl" nft -f - <<'NFT'
table inet paxcron_test {
  chain out {
    type filter hook output priority 0;
    tcp sport 6817 tcp flags & (syn | ack) != (syn | ack) drop
  }
}
NFT
sleep 6
nsenter --net=/run/netns/"$ctl" nft delete table inet paxcron_test
sleep 14
in_node "$bin" jobs pause "$job" --dir "$dir" >/dev/null || fail "jobs pause"
run=$(grep -ho "event=launch run=$job@[^ ]* .*status=unknown.*Socket timed out" "$dir"/node*.log |
  head -1 | grep -o "run=[^ ]*" | cut -d= -f2) ||
  fail "no launch failed with 'Socket timed out'"
grep -hq "event=lookup run=$run launcher=slurm status=found" "$dir"/node*.log ||
  fail "$run was not found by name after the lost reply"
sleep 3
jobs=$(in_node squeue --noheader --states=all --name="$run" --Format='JobID:|,State:')
[[ $(echo "$jobs" | grep -c .) == 1 ]] || fail "Slurm jobs of $run: $jobs"
in_node "$bin" runs ls "$job" --dir "$dir" | grep -q "$run .*started" || fail "$run not started"
in_node squeue --noheader --states=all --Format='Name:' | grep "^$job@" | sort | uniq -d |
  grep -q . && fail "a run name twice in Slurm"
echo "$run: sbatch failed with 'Socket timed out' after the controller created job $jobs;" \
  "found by name, recorded as started, not submitted again"
echo "$test_name: ok"
