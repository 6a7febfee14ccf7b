#!/usr/bin/env bash
# The command-line contract of 'paxcron schedule next': one RFC 3339 time with its offset per
# line, --count, --tz (daylight saving included), --job feeding '?', UTC with no tz database,
# and exit status 2 with one message naming the field and the token for a bad expression.
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "schedule_cli_test: $*"; exit 1; }
expect() {  # expect NAME EXPECTED-OUTPUT COMMAND...
  local name=$1 want=$2
  shift 2
  local got
  got=$("$@") || fail "$name: exit status $?"
  [[ $got == "$want" ]] || fail "$name: expected
$want
got
$got"
}

help=$("$bin" --help)  # captured first: see cli_test.sh
grep -q "schedule" <<<"$help" || fail "paxcron --help does not list schedule"
help=$("$bin" schedule --help)
grep -q -- "--job NAME" <<<"$help" || fail "paxcron schedule --help"

expect utc "2026-11-27T03:00:00Z" "$bin" schedule next '0 3 * * *' --from 2026-11-26T12:00:00Z
expect count "2026-11-27T03:00:00Z
2026-11-28T03:00:00Z
2026-11-29T03:00:00Z" "$bin" schedule next '0 3 * * *' --from 2026-11-26T12:00:00Z --count 3
expect from-offset "2026-03-29T03:30:00+02:00" \
  "$bin" schedule next '30 3 * * *' --tz Europe/Berlin --from 2026-03-29T00:00:00+01:00
expect leap "2028-02-29T00:00:00Z
2032-02-29T00:00:00Z" "$bin" schedule next '0 0 29 2 *' --from 2026-01-01T00:00:00Z --count 2
expect seconds "2026-01-01T00:00:15Z
2026-01-01T00:00:30Z" "$bin" schedule next '*/15 * * * * *' --from 2026-01-01T00:00:00Z --count 2

# Daylight saving: skipped 02:30 runs at 03:00; repeated 02:30 runs once; wildcards follow the clock.
expect spring "2026-03-28T02:30:00+01:00
2026-03-29T03:00:00+02:00
2026-03-30T02:30:00+02:00" \
  "$bin" schedule next '30 2 * * *' --tz Europe/Berlin --from 2026-03-27T12:00:00Z --count 3
expect fall "2026-10-25T02:30:00+02:00
2026-10-26T02:30:00+01:00" \
  "$bin" schedule next '30 2 * * *' --tz Europe/Berlin --from 2026-10-24T12:00:00Z --count 2
expect fall-wildcard "2026-11-01T01:00:00-04:00
2026-11-01T01:30:00-04:00
2026-11-01T01:00:00-05:00
2026-11-01T01:30:00-05:00" \
  "$bin" schedule next '*/30 * * * *' --tz America/New_York --from 2026-11-01T04:45:00Z --count 4

# '?' hashes --job: stable, and different jobs get different minutes.
a=$("$bin" schedule next '? ? * * *' --job backup --from 2026-01-01T00:00:00Z)
[[ $a == "2026-01-01T00:47:00Z" ]] || fail "--job backup: $a"
b=$("$bin" schedule next '? ? * * *' --job nightly-report --from 2026-01-01T00:00:00Z)
[[ $b == "2026-01-01T13:52:00Z" ]] || fail "--job nightly-report: $b"
expect hashed-range "2026-01-01T03:17:00Z" \
  "$bin" schedule next '?(0-29) 3 * * *' --job backup --from 2026-01-01T00:00:00Z

# Every line of a long run is RFC 3339 with an offset.
"$bin" schedule next '*/7 * * * *' --tz Asia/Kolkata --from 2026-01-01T00:00:00Z --count 500 \
  > "$tmp/many.txt"
[[ $(wc -l < "$tmp/many.txt") == 500 ]] || fail "--count 500"
grep -qvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})$' \
  "$tmp/many.txt" && fail "a line is not RFC 3339: $(head -n 3 "$tmp/many.txt")"
grep -q '+05:30$' "$tmp/many.txt" || fail "Asia/Kolkata offset"

# UTC needs no tz database; other zones report that they are missing.
expect no-tzdb "2026-11-27T03:00:00Z" \
  env TZDIR="$tmp/none" "$bin" schedule next '0 3 * * *' --from 2026-11-26T12:00:00Z

usage_error() {  # usage_error EXPECTED-STDERR ARGS...
  local want=$1 rc
  shift
  set +e
  "$bin" schedule "$@" > "$tmp/out.txt" 2> "$tmp/err.txt"
  rc=$?
  set -e
  [[ $rc == 2 ]] || fail "'$*' must exit 2, got $rc"
  [[ ! -s $tmp/out.txt ]] || fail "'$*' printed to stdout: $(cat "$tmp/out.txt")"
  [[ $(cat "$tmp/err.txt") == "$want" ]] || fail "'$*': expected '$want', got '$(cat "$tmp/err.txt")'"
}
usage_error "paxcron schedule: hour: 24 is out of range 0-23" next '0 24 * * *'
usage_error "paxcron schedule: day-of-week: 'funday' is not a number or a day name (sun-sat)" \
  next '0 0 * * funday'
usage_error "paxcron schedule: minute: '?' needs a job name: its value is a hash of the name (pass --job NAME)" \
  next '? 3 * * *'
usage_error "paxcron schedule: --tz: unknown time zone 'Mars/Olympus' (no such file under /usr/share/zoneinfo; is tzdata installed?)" \
  next '0 3 * * *' --tz Mars/Olympus
usage_error "paxcron schedule: --count: '0' is not a number in 1-10000" next '0 3 * * *' --count 0
usage_error "paxcron schedule: missing the schedule expression" next --count 2
usage_error "paxcron schedule: unknown option '--zone' (try 'paxcron schedule --help')" \
  next '0 3 * * *' --zone UTC
set +e
"$bin" schedule next '0 3 * * *' --from yesterday 2> "$tmp/err.txt"
rc=$?
set -e
[[ $rc == 2 ]] && grep -q "^paxcron schedule: --from: 'yesterday' is not an RFC 3339 time" \
  "$tmp/err.txt" || fail "bad --from: $(cat "$tmp/err.txt")"
echo "schedule_cli_test: ok"
