# The nemesis harness's cluster and faults (issue 9, section 1), sourced by tests/nemesis_test.sh.
# A real cluster of N `paxcron node` daemons, each in a network namespace of its own, joined by a
# bridge that lives in a namespace of its own; a client namespace runs every CLI command. The
# addresses (10.213.0.K, the client 10.213.0.100) exist only inside those namespaces: nothing is
# sent from the root namespace, and reachability is checked with `ip route get`, never with
# packets. Faults are nft rules inside the node namespaces (drop by peer address, or a random
# share with `numgen random`), signals (SIGSTOP/SIGCONT, SIGKILL and a restart), libfaketime
# (the wall clock only: FAKETIME_DONT_FAKE_MONOTONIC=1) and `unshare --time` (a monotonic
# offset). Without root or network namespaces the cluster runs on 127.0.0.1 and only the
# process and clock faults are available (nm_netns says which).
# Expects $bin (the paxcron binary) and $test_name. Everything this file makes (namespaces,
# rules, processes, the directory) is removed by nm_cleanup, which the test traps on EXIT.

export PATH=$PATH:/usr/sbin
nm_tag=pxn$$-                # prefix of every namespace name: this test's (its pid) and no other's
nm_subnet=10.213.0
nm_client_addr=$nm_subnet.100
nm_libfaketime=${NEMESIS_LIBFAKETIME:-/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1}
nm_netns=0                   # 1: nodes in namespaces; 0: loopback only
nm_nodes=0
nm_made_ns=()                # namespaces created, for cleanup
declare -A nm_addr nm_port nm_http
nm_dir=""

nm_now() { date +%s.%N; }
nm_say() { echo "$test_name: $*" >&2; }

# nm_cleanup: stops every node this test started (by pid, SIGCONT first so that a stopped one can
# die), deletes its namespaces (their rules go with them) and its directory (KEEP=1 keeps it).
nm_cleanup() {
  local k pid
  for ((k = 1; k <= nm_nodes; k++)); do
    pid=$(cat "$nm_dir/node$k.pid" 2>/dev/null) || continue
    kill -CONT "$pid" 2>/dev/null || true
    kill -9 "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  for ns in "${nm_made_ns[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  if [[ -n $nm_dir ]]; then
    if [[ ${KEEP:-0} == 1 ]]; then echo "kept $nm_dir"; else rm -rf "$nm_dir"; fi
  fi
}

nm_fail() {
  nm_say "FAIL: $*"
  KEEP=1  # the logs, ledger, history and fault log of a failure are kept for a look
  [[ -n $nm_dir ]] && tail -n 15 "$nm_dir"/node*.log >&2 2>/dev/null
  exit 1
}

# nm_in K CMD...: runs CMD in node K's namespace (K=c: the client's).
nm_in() {
  local k=$1
  shift
  if ((nm_netns)); then ip netns exec "${nm_tag}$k" "$@"; else "$@"; fi
}

# nm_make_netns N: the bridge namespace, N node namespaces and the client's. Returns 1 (having
# made nothing that stays) when namespaces cannot be made here.
nm_make_netns() {
  local n=$1 k ns
  [[ $(id -u) -eq 0 ]] || { nm_say "not root: no network namespaces"; return 1; }
  command -v ip >/dev/null && command -v nft >/dev/null || { nm_say "no ip or nft"; return 1; }
  ip netns add "${nm_tag}br" 2>/dev/null || { nm_say "cannot create network namespaces"; return 1; }
  nm_made_ns+=("${nm_tag}br")
  ip -n "${nm_tag}br" link set lo up
  ip -n "${nm_tag}br" link add br0 type bridge || { nm_say "cannot create a bridge"; return 1; }
  ip -n "${nm_tag}br" link set br0 up
  for k in $(seq 1 "$n") c; do
    ns=${nm_tag}$k
    ip netns add "$ns" || return 1
    nm_made_ns+=("$ns")
    # Made inside the bridge's namespace, the peer straight into the node's: never in the root.
    ip -n "${nm_tag}br" link add "vb$k" type veth peer name eth0 netns "$ns" || return 1
    ip -n "${nm_tag}br" link set "vb$k" master br0 up
    ip -n "$ns" link set lo up
    if [[ $k == c ]]; then ip -n "$ns" addr add "$nm_client_addr/24" dev eth0
    else ip -n "$ns" addr add "$nm_subnet.$k/24" dev eth0; fi
    ip -n "$ns" link set eth0 up
    [[ $k == c ]] && continue
    # The table every fault of this node adds its rules to; heal flushes its chains.
    ip netns exec "$ns" nft -f - <<'NFT' || return 1
table inet nemesis {
  chain in { type filter hook input priority 0; }
  chain out { type filter hook output priority 0; }
}
NFT
  done
  # Routes, checked without a packet: the client and every node reach the subnet through their
  # own veth (the root namespace gets no interface: each pair is made inside the bridge's).
  for k in $(seq 1 "$n") c; do
    local route
    route=$(ip netns exec "${nm_tag}$k" ip route get "$nm_subnet.1")
    [[ $route == *"dev eth0"* || ($k == 1 && $route == *"dev lo"*) ]] ||
      { nm_say "namespace $k routes $nm_subnet.1 oddly: $route"; return 1; }
  done
  return 0
}

# nm_sweep: deletes the namespaces an earlier run of this harness left behind when it was killed
# without its trap (SIGKILL, a ctest timeout): only names of ours (pxnPID...) whose PID is gone.
# Daemons of such a run are killed too: by the pids in its directory, each only if its command
# line names that directory.
nm_sweep() {
  local ns pid d f
  for d in /tmp/paxcron-nemesis_*; do
    [[ -f $d/owner ]] && ! kill -0 "$(cat "$d/owner")" 2>/dev/null || continue
    for f in "$d"/node*.pid; do
      pid=$(cat "$f" 2>/dev/null) || continue
      tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "$d/" && kill -9 "$pid" 2>/dev/null
    done
    rm -f "$d/owner"
  done
  [[ $(id -u) -eq 0 ]] && command -v ip >/dev/null || return 0
  for ns in $(ip netns list 2>/dev/null | grep -o '^pxn[0-9]*-[a-z0-9]*' || true); do
    pid=${ns#pxn}
    pid=${pid%%-*}
    if ! kill -0 "$pid" 2>/dev/null; then ip netns del "$ns" 2>/dev/null || true; fi
  done
}

# nm_init N: a fresh directory, the namespaces (or loopback), a secret and N node configs.
# NEMESIS_EXTRA_CONF (lines) is appended to every config; nm_conf_K to node K's.
nm_init() {
  local n=$1 k
  nm_nodes=$n
  nm_sweep
  nm_dir=$(mktemp -d "/tmp/paxcron-$test_name.XXXXXX")
  echo $$ >"$nm_dir/owner"
  if [[ ${NEMESIS_LOOPBACK:-0} != 1 ]] && nm_make_netns "$n"; then
    nm_netns=1
    for ((k = 1; k <= n; k++)); do nm_addr[$k]=$nm_subnet.$k; nm_port[$k]=7000; nm_http[$k]=8000; done
  else
    for ns in "${nm_made_ns[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
    nm_made_ns=()
    nm_netns=0
    nm_say "network namespaces unavailable: loopback only; partition faults are skipped"
    for ((k = 1; k <= n; k++)); do
      nm_addr[$k]=127.0.0.1
      nm_port[$k]=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
      nm_http[$k]=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    done
  fi
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$nm_dir/secret"
  chmod 600 "$nm_dir/secret"
  nm_endpoints=""
  for ((k = 1; k <= n; k++)); do
    nm_endpoints+="${nm_endpoints:+,}${nm_addr[$k]}:${nm_port[$k]}"
  done
  for ((k = 1; k <= n; k++)); do
    {
      echo "id: $k"
      for ((j = 1; j <= n; j++)); do
        echo "members { id: $j address: \"${nm_addr[$j]}:${nm_port[$j]}\" }"
      done
      echo "data_dir: \"node$k/data\""
      echo "secret_file: \"secret\""
      echo "log_file: \"node$k.log\""
      echo "http_listen: \"${nm_addr[$k]}:${nm_http[$k]}\""
      echo "${NEMESIS_EXTRA_CONF:-}"
      local var=nm_conf_$k
      echo "${!var:-}"
    } >"$nm_dir/node$k.conf"
  done
  : >"$nm_dir/faults.txt"
}

# nm_start K [WRAPPER...]: starts node K in its namespace, under WRAPPER (e.g. env
# LD_PRELOAD=... for a skewed clock, or unshare --time --monotonic N). Every exec in the chain
# replaces the process, so $! is the daemon's pid. NEMESIS_NODE tells the jobs which node ran them.
nm_start() {
  local k=$1
  shift
  local in=()  # a simple command, not the function nm_in: a function would run in a subshell
  ((nm_netns)) && in=(ip netns exec "${nm_tag}$k")
  "${in[@]}" env NEMESIS_NODE="$k" "$@" "$bin" node --config "$nm_dir/node$k.conf" \
    >>"$nm_dir/node$k.out" 2>&1 &
  echo $! >"$nm_dir/node$k.pid"
  disown $!  # waited for by pid (nm_kill9, nm_cleanup), not by the shell
  echo "$(nm_now) start node=$k wrapper=\"$*\"" >>"$nm_dir/events.txt"
}
nm_pid() { cat "$nm_dir/node$1.pid"; }
nm_signal() { kill "-$2" "$(nm_pid "$1")"; }
# nm_kill9 K: SIGKILL, and waits (bounded) until the process is gone.
nm_kill9() {
  local pid
  pid=$(nm_pid "$1")
  kill -9 "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  nm_fail "node $1 (pid $pid) survived SIGKILL for 5 s"
}

# nm_cli ARGS...: the paxcron command in the client's namespace, against every node (killed
# after 30 s whatever its own timeouts say).
nm_cli() {
  nm_in c timeout 30 "$bin" "$@" --endpoints "$nm_endpoints" --secret-file "$nm_dir/secret"
}
# nm_ask K ARGS...: the same against node K alone (killed after 3 s).
nm_ask() {
  local k=$1
  shift
  nm_in c timeout 3 "$bin" "$@" --endpoints "${nm_addr[$k]}:${nm_port[$k]}" \
    --secret-file "$nm_dir/secret"
}

# nm_leader: the node that holds a lease by its own account (asked one by one, so that a cut-off
# node's stale belief is not taken for the cluster's); empty when none does.
nm_leader() {
  local k out
  for ((k = 1; k <= nm_nodes; k++)); do
    out=$(nm_ask "$k" status --json --request-timeout 1 2>/dev/null) || continue
    if [[ $out == *'"role": "leader"'* && $out =~ \"lease_remaining_ms\":\ \"?([0-9]+) ]] &&
      ((BASH_REMATCH[1] > 0)); then
      echo "$k"
      return 0
    fi
  done
  return 0
}
# nm_wait_leader SECONDS: waits for a leader; prints it.
nm_wait_leader() {
  local deadline l
  deadline=$(($(date +%s) + $1))
  while (($(date +%s) < deadline)); do
    l=$(nm_leader)
    [[ -n $l ]] && { echo "$l"; return 0; }
    sleep 0.3
  done
  return 1
}

# Network faults: rules in node K's table. nm_cut A B drops everything between A and B (both
# ends drop, in and out); nm_cut_oneway A B drops what A sends to B; nm_loss K PCT drops that
# share of what K receives from its peers; nm_heal removes every rule.
nm_nft() { ip netns exec "${nm_tag}$1" nft "${@:2}"; }
nm_cut_oneway() {
  nm_nft "$1" add rule inet nemesis out ip daddr "${nm_addr[$2]}" drop
  nm_nft "$2" add rule inet nemesis in ip saddr "${nm_addr[$1]}" drop
}
nm_cut() { nm_cut_oneway "$1" "$2"; nm_cut_oneway "$2" "$1"; }
nm_isolate() {
  local k
  for ((k = 1; k <= nm_nodes; k++)); do [[ $k == "$1" ]] || nm_cut "$1" "$k"; done
}
nm_peers_set() {
  local k s=""
  for ((k = 1; k <= nm_nodes; k++)); do s+="${s:+, }${nm_addr[$k]}"; done
  echo "{ $s }"
}
nm_loss() {
  nm_nft "$1" add rule inet nemesis in ip saddr "$(nm_peers_set)" numgen random mod 100 \< "$2" drop
}
nm_heal() {
  local k
  ((nm_netns)) || return 0
  for ((k = 1; k <= nm_nodes; k++)); do
    nm_nft "$k" flush chain inet nemesis in
    nm_nft "$k" flush chain inet nemesis out
  done
}
nm_rules_count() {
  local k n=0
  for ((k = 1; k <= nm_nodes; k++)); do
    n=$((n + $(nm_nft "$k" list table inet nemesis | grep -c drop || true)))
  done
  echo "$n"
}

# nm_fault_begin KIND TARGET / nm_fault_end: one line per fault in faults.txt for the checker:
# KIND TARGET LEADER_AT_START START END (unix seconds).
nm_fault_begin() {
  nm_fault_kind=$1 nm_fault_target=$2 nm_fault_leader=${3:-0} nm_fault_start=$(nm_now)
}
nm_fault_end() {
  echo "$nm_fault_kind $nm_fault_target $nm_fault_leader $nm_fault_start $(nm_now)" \
    >>"$nm_dir/faults.txt"
}
