#!/usr/bin/env bash
# The `paxcron storage` contract: check and dump a data directory written by the real engine,
# and the clear errors for damage. usage: storage_cli_test.sh PAXCRON MAKE_STORE
set -euo pipefail
bin=$1
make_store=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "storage_cli_test: FAIL: $*" >&2; exit 1; }

"$make_store" "$tmp/d" 20
out=$("$bin" storage check --data "$tmp/d")
echo "$out" | grep -q '^meta: promised ballot 3.2, log compacted through slot 0$' || fail "meta: $out"
echo "$out" | grep -q '^log: [0-9]* segments, 40 records$' || fail "log summary: $out"
echo "$out" | grep -q '^log-00000001: [0-9]* bytes, [0-9]* records, slots 1-' || fail "segment: $out"
echo "$out" | grep -q '^snapshot-0*1: covers slots up to 1, 18 bytes of state, checked$' ||
  fail "snapshot: $out"
[[ $(echo "$out" | tail -n 1) == ok ]] || fail "closing line: $out"

dump=$("$bin" storage dump --data "$tmp/d")
[[ $(echo "$dump" | grep -c ' slot [0-9]* \(accepted\|chosen\) ballot 3.2 ') == 40 ]] ||
  fail "dump records: $dump"

# A torn tail of the last segment: a warning, still healthy (a restart truncates it).
last=$(ls "$tmp/d" | grep '^log-' | tail -n 1)
printf '\x40\x00\x00\x00abc' >> "$tmp/d/$last"
out=$("$bin" storage check --data "$tmp/d")
echo "$out" | grep -q "^warning: .*$last: offset [0-9]*: .*torn" || fail "torn tail: $out"

# One damaged byte inside the first segment: an error naming the file and the offset.
printf 'Z' | dd of="$tmp/d/log-00000001" bs=1 seek=20 conv=notrunc status=none
set +e
out=$("$bin" storage check --data "$tmp/d")
rc=$?
set -e
[[ $rc == 1 ]] || fail "damage must exit 1, got $rc: $out"
echo "$out" | grep -q "^DAMAGE: $tmp/d/log-00000001: offset 0: record CRC mismatch" ||
  fail "damage message: $out"

# A missing segment.
rm -rf "$tmp/e" && "$make_store" "$tmp/e" 20
rm "$tmp/e/log-00000002"
set +e
out=$("$bin" storage check --data "$tmp/e")
rc=$?
set -e
[[ $rc == 1 ]] && echo "$out" | grep -q "^DAMAGE: $tmp/e: segment log-00000002 is missing" ||
  fail "missing segment: $out"

set +e
"$bin" storage check --data "$tmp/nope" > /dev/null 2> "$tmp/err"
rc=$?
set -e
[[ $rc == 2 ]] && grep -q "$tmp/nope" "$tmp/err" || fail "unreadable directory"
echo "storage_cli_test: ok"
