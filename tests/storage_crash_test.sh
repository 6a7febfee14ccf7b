#!/usr/bin/env bash
# Real-disk crash test (issue "Durable state", section 6): a writer appends through the real
# storage engine, fdatasync and all, and is killed with SIGKILL at random moments. Each
# restart must find every record acknowledged before the kill, intact, with no hole (the writer
# checks and prints "recovered K"), and the directory must check clean at the end. Then one byte
# in the middle of a sealed segment is damaged: the restart must refuse with the file and offset.
# A SIGKILL keeps what the page cache holds, so this catches broken framing, ordering and
# recovery, not a missing fsync (the simulated disk's crash tests do that). Bounded: 25 kills,
# each at most 0.2 s after the writer recovered (which it must within 10 s). usage: storage_crash_test.sh CRASH_WRITER PAXCRON
set -euo pipefail
writer=$1
bin=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "storage_crash_test: FAIL: $*" >&2; exit 1; }

acked=0
for i in $(seq 1 25); do
  # A file of its own: the background shell truncates it only once it runs, and a poll of a
  # shared file could still see the last round's "recovered".
  out="$tmp/out-$i.txt"
  "$writer" "$tmp/d" > "$out" 2>&1 &
  pid=$!
  # Wait (at most 10 s) until it has recovered, then kill it while it writes.
  for _ in $(seq 1 200); do
    grep -q '^\(recovered\|error\)' "$out" && break
    sleep 0.05
  done
  sleep "0.$(printf '%02d' $(( RANDOM % 20 )))"  # 0.00 to 0.19 s
  kill -9 "$pid" 2> /dev/null || true
  wait "$pid" 2> /dev/null || true
  grep -q '^error' "$out" && fail "kill $i: $(grep '^error' "$out")"
  recovered=$(grep -m1 '^recovered ' "$out" | cut -d' ' -f2 || true)
  [[ -n $recovered ]] || fail "kill $i: the writer did not recover in 10 s: $(cat "$out")"
  (( recovered >= acked )) || fail "kill $i: recovered $recovered < acknowledged $acked"
  last=$(grep '^acked ' "$out" | tail -n 1 | cut -d' ' -f2 || true)
  [[ -n $last ]] && acked=$last
done
(( acked > 100 )) || fail "too little was written to mean anything: $acked"
"$bin" storage check --data "$tmp/d" > "$tmp/check.txt" || fail "check: $(cat "$tmp/check.txt")"

# Damage in a sealed segment: the restart refuses, naming the file and the offset. (A log of
# its own, written without compaction, so that it surely has sealed segments.)
"$writer" "$tmp/g" no-compact > "$tmp/out.txt" 2>&1 || fail "no-compact run: $(cat "$tmp/out.txt")"
first=$(ls "$tmp/g" | grep '^log-' | head -n 1)
[[ $(ls "$tmp/g" | grep -c '^log-') -ge 2 ]] || fail "expected several segments"
printf 'Z' | dd of="$tmp/g/$first" bs=1 seek=1000 conv=notrunc status=none
set +e
"$writer" "$tmp/g" no-compact > "$tmp/out.txt" 2>&1
rc=$?
set -e
[[ $rc == 1 ]] && grep -q "^error $tmp/g/$first: offset [0-9]*: record CRC mismatch" "$tmp/out.txt" ||
  fail "damage not reported: $(cat "$tmp/out.txt")"
echo "storage_crash_test: ok (25 kills while writing; $acked records acknowledged)"
