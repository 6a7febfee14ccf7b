#!/usr/bin/env bash
# The cluster demo (the README's main command once the real cluster exists): a local 3-node
# cluster on 127.0.0.1 with a few jobs, runs happening, the leader killed with SIGKILL, the
# failover, and the run history without a duplicate; then the cluster is stopped. About 40 s,
# bounded: every wait has a deadline and the cluster is stopped on any exit.
# usage: scripts/demo.sh [PAXCRON]   (default: build/paxcron, built if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/paxcron}
dir=$(mktemp -d /tmp/paxcron-demo.XXXXXX)
trap '"$bin" cluster down --dir "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "A local cluster of 3 nodes"
"$bin" cluster up --nodes 3 --dir "$dir"
ran="$dir/ran.txt"
: >"$ran"

say "Jobs: one every 2 seconds, one every 5 seconds that fails, one that runs too long"
"$bin" jobs add heartbeat --dir "$dir" --schedule '*/2 * * * * *' \
  --command "echo \"\$PAXCRON_RUN\" >> $ran; echo beat"
"$bin" jobs add flaky --dir "$dir" --schedule '*/5 * * * * *' --command 'echo disk full >&2; exit 3'
"$bin" jobs add slow --dir "$dir" --schedule '*/10 * * * * *' --command 'sleep 60' --timeout 3s
"$bin" jobs ls --dir "$dir"

say "Runs happening (8 s)"
sleep 8
"$bin" runs ls --dir "$dir" --limit 8

say "Who leads"
"$bin" status --dir "$dir"
leader=$("$bin" status --dir "$dir" --json | grep -o '"leader": *[0-9]*' | grep -o '[0-9]*$')

say "kill -9 the leader (node $leader)"
kill -9 "$(cat "$dir/node$leader.pid")"
killed_at=$(date +%s.%N)
for _ in $(seq 1 100); do
  new=$("$bin" status --dir "$dir" --json --request-timeout 1 2>/dev/null | grep -o '"leader": *[0-9]*' |
    grep -o '[0-9]*$' || true)
  [[ -n $new && $new != 0 && $new != "$leader" ]] && break
  sleep 0.1
done
awk -v now="$(date +%s.%N)" -v then="$killed_at" -v n="$new" \
  'BEGIN { printf "new leader: node %s, %.1f s after the kill\n", n, now - then }'

say "Node $leader comes back (cluster up starts whatever is not running)"
"$bin" cluster up --dir "$dir"
sleep 6

say "The run history"
"$bin" runs ls heartbeat --dir "$dir" --limit 12
"$bin" runs ls slow --dir "$dir" --limit 2

say "Every heartbeat run, as the jobs themselves recorded them: any name twice?"
total=$(wc -l <"$ran")
dups=$(sort "$ran" | uniq -d | wc -l)
echo "$total runs recorded by the jobs, $dups run names twice"
say "Stopping the cluster"
"$bin" cluster down --dir "$dir"
[[ $dups == 0 ]]
