#!/usr/bin/env bash
# paxcron against etcd 3.4 on this machine (issue 5, section 9; the figures are recorded in
# papers/etcd-comparison.md): installs Debian's etcd-server and etcd-client if etcd is missing,
# builds paxcron and bench/etcd_compare.cc, and runs it on a fresh directory under /var/tmp (a
# disk: /tmp may be RAM, where fsync costs nothing). etcd_compare starts a 3-node paxcron cluster
# and a 3-member etcd cluster on 127.0.0.1, measures closed-loop writes at 1, 16 and 64 clients and
# 10 leader kills each, prints the table and the goals, and stops both clusters. About 4 minutes,
# at most 6 (after the build): the run has a hard deadline, and whatever it leaves (a paxcron
# node, an etcd member, the directory) is stopped and removed on any exit of this script.
# usage: scripts/etcd_bench.sh [etcd_compare flags, e.g. --seconds 5 --kills 3]
#   BUILD_DIR (default build-etcd), BUILD_JOBS (ninja -j), ETCD_BENCH_DIR (default /var/tmp)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-etcd}
sudo=""
[[ $(id -u) == 0 ]] || sudo=sudo

if ! command -v etcd >/dev/null; then
  echo "== installing etcd-server and etcd-client (Debian)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq etcd-server etcd-client >/dev/null
fi
etcd=$(command -v etcd)

echo "== building paxcron and etcd_compare in $build"
[[ -f $build/build.ninja ]] || cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" ${BUILD_JOBS:+-j "$BUILD_JOBS"} --target paxcron etcd_compare >/dev/null

dir=$(mktemp -d "${ETCD_BENCH_DIR:-/var/tmp}/paxcron-etcd.XXXXXX")
cleanup() {
  local rc=$?
  "$build/paxcron" cluster down --dir "$dir/paxcron" >/dev/null 2>&1 || true
  # etcd members left behind (etcd_compare killed before it could stop them): exactly the pids it
  # recorded, and only while they still run etcd on this run's directory.
  for pidfile in "$dir"/etcd/m*.pid; do
    [[ -f $pidfile ]] || continue
    pid=$(cat "$pidfile")
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "--data-dir $dir/etcd/"; then
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$dir"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== etcd_compare --dir $dir $*"
# --foreground: a ^C reaches etcd_compare, which then stops both clusters itself; on the deadline
# it gets SIGTERM (and does the same), SIGKILL 15 s later if it is still there.
timeout --foreground -k 15 350 "$build/etcd_compare" --paxcron "$build/paxcron" --etcd "$etcd" \
  --dir "$dir" "$@"
