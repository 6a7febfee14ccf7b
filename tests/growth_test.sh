#!/usr/bin/env bash
# Bounded growth (issue "Durable state", section 4): the same seed for 1 and 24 simulated hours,
# 50 jobs, every fault, compaction on. The 24-hour run's peaks (the largest write-ahead log on
# any node, in bytes and in slots above its compaction point, the largest snapshot file, the
# fullest simulated disk) must stay within twice the 1-hour run's: growth is bounded, not
# proportional to time. usage: growth_test.sh PAXCRON
set -euo pipefail
bin=$1
fail() { echo "growth_test: FAIL: $*" >&2; exit 1; }

# peak NAME LINE: the number after NAME= in a result line (log_peak is "BYTESB/SLOTSslots").
field() { echo "$2" | grep -o "$1=[0-9]*" | head -n 1 | cut -d= -f2; }
slots() { echo "$1" | grep -o 'log_peak=[0-9]*B/[0-9]*slots' | sed 's/.*B\/\([0-9]*\)slots/\1/'; }

run() {
  "$bin" sim --seed 1 --nodes 5 --jobs 50 --history-max 100 --faults all --duration "$1" |
    grep '^seed 1: ok' || fail "the $1 run did not pass"
}
short=$(run 1h)
long=$(run 24h)
echo "1h:  $short"
echo "24h: $long"
for name in log_peak snapshot_peak disk_peak; do
  a=$(field "$name" "$short")
  b=$(field "$name" "$long")
  [[ -n $a && -n $b ]] || fail "no $name in the result lines"
  ((b <= 2 * a)) || fail "$name grew from $a (1 h) to $b (24 h)"
  echo "$name: $a bytes after 1 h, $b after 24 h"
done
a=$(slots "$short")
b=$(slots "$long")
((b <= 2 * a)) || fail "the log grew from $a slots (1 h) to $b (24 h)"
echo "log slots above the compaction point: $a after 1 h, $b after 24 h"
echo "growth_test: ok"
