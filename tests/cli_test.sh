#!/usr/bin/env bash
# The command-line contract of 'paxcron sim': per-seed lines, the closing "N passed, N failed"
# line, exit codes, the replay line of a failing seed, usage errors, and a deterministic trace.
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "cli_test: $*"; exit 1; }

# Output captured first: grep -q stops reading at its first match, and a writer still writing
# would die of SIGPIPE (a failure under pipefail).
help=$("$bin" --help)
grep -q "usage: paxcron" <<<"$help" || fail "paxcron --help"
help=$("$bin" sim --help)
grep -q -- "--inject-bug" <<<"$help" || fail "paxcron sim --help"

out=$("$bin" sim --seeds 1-3 --nodes 3 --duration 20s --faults all)
[[ $(echo "$out" | tail -n 1) == "3 passed, 0 failed" ]] || fail "closing line: $out"
[[ $(echo "$out" | grep -c '^seed [0-9]*: ok') == 3 ]] || fail "per-seed lines: $out"

set +e
out=$("$bin" sim --seeds 1-3 --duration 60s --faults all --inject-bug no-phase1-recovery)
rc=$?
set -e
[[ $rc == 1 ]] || fail "a violation must exit 1, got $rc"
echo "$out" | grep -q "FAIL agreement" || fail "no agreement violation reported: $out"
replay=$(echo "$out" | grep -m1 '  replay: ' | sed 's/^  replay: paxcron //')
[[ -n $replay ]] || fail "no replay line"
set +e
# shellcheck disable=SC2086
"$bin" $replay > "$tmp/replay.txt"
rc=$?
set -e
[[ $rc == 1 ]] && grep -q "FAIL agreement" "$tmp/replay.txt" || fail "replay did not reproduce"
[[ $(tail -n 1 "$tmp/replay.txt") == "0 passed, 1 failed" ]] || fail "replay closing line"

set +e
"$bin" sim --faults flood 2> "$tmp/err.txt"
rc=$?
set -e
[[ $rc == 2 ]] && grep -q "unknown fault 'flood'" "$tmp/err.txt" || fail "bad --faults"

"$bin" sim --seed 5 --duration 20s --faults all --trace "$tmp/a.jsonl" > /dev/null
"$bin" sim --seed 5 --duration 20s --faults all --trace "$tmp/b.jsonl" > /dev/null
cmp -s "$tmp/a.jsonl" "$tmp/b.jsonl" || fail "traces of the same seed differ"
head -n 1 "$tmp/a.jsonl" | grep -q '^{"t":[0-9]*,"node":' || fail "trace line format"
# The replicated history of one job, after the seed's line.
out=$("$bin" sim --seed 1 --jobs 5 --duration 60s --faults all --history job001)
echo "$out" | grep -q '^node [0-9]* (applied slot [0-9]*): history of job001 ' ||
  fail "no history header: $out"
echo "$out" | grep -q 'last success .*, last failure .*, expected runs missing [0-9]*' ||
  fail "no history summary: $out"
echo "$out" | grep -qE '^  job001@[0-9T:Z-]+ (started|skipped|failed)' || fail "no history records: $out"
[[ $(echo "$out" | tail -n 1) == "1 passed, 0 failed" ]] || fail "history closing line: $out"
echo "cli_test: ok"
