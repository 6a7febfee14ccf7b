#!/usr/bin/env bash
# Fast Paxos against Multi-Paxos on a real 3-node cluster (issue 6; the figures are recorded in
# papers/fast-paxos.md): builds paxcron and bench/etcd_compare.cc, and runs etcd_compare with
# `--paxcron-only --modes multi,fast`: two local clusters (`cluster up --mode multi` and `--mode
# fast`) on 127.0.0.1, data under /var/tmp (a disk: /tmp may be RAM, where fsync costs nothing),
# closed-loop put_job writes at 1 and 16 clients, the two modes interleaved point by point in one
# run. Multi: every client writes to the leader. Fast: the clients are spread over the three nodes
# (a follower proposes straight to the acceptors). No etcd, no leader kills. About a minute after
# the build; whatever it leaves is stopped and removed on any exit.
# usage: scripts/fast_cluster_bench.sh [etcd_compare flags, e.g. --seconds 5 --clients 1,4,16]
#   BUILD_DIR (default build), BUILD_JOBS (ninja -j), BENCH_DIR (default /var/tmp)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}

echo "== building paxcron and etcd_compare in $build"
[[ -f $build/build.ninja ]] || cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" ${BUILD_JOBS:+-j "$BUILD_JOBS"} --target paxcron etcd_compare >/dev/null

dir=$(mktemp -d "${BENCH_DIR:-/var/tmp}/paxcron-fast.XXXXXX")
cleanup() {
  local rc=$?
  for m in multi fast; do
    "$build/paxcron" cluster down --dir "$dir/paxcron-$m" >/dev/null 2>&1 || true
  done
  rm -rf "$dir"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Defaults that the arguments may replace (etcd_compare takes each option once).
args=(--paxcron-only --modes multi,fast)
[[ " $* " == *" --clients "* ]] || args+=(--clients 1,16)
[[ " $* " == *" --kills "* ]] || args+=(--kills 0)
echo "== etcd_compare ${args[*]} --dir $dir $*"
timeout --foreground -k 15 300 "$build/etcd_compare" --paxcron "$build/paxcron" "${args[@]}" \
  --dir "$dir" "$@"
