#!/usr/bin/env bash
# Regenerates docs/nemesis.md: runs the nemesis scenarios on a real cluster (tests/nemesis_test.sh)
# and writes the table of what was measured, with the machine, the build and the date.
#   scripts/nemesis_report.sh                 # the short set (about 4 minutes)
#   scripts/nemesis_report.sh --long          # the short set, then the longer run (about 20 min)
#   scripts/nemesis_report.sh --from FILE...  # only render, from earlier results (JSON lines;
#                                             # each run leaves them in docs/nemesis_results.jsonl)
# A failing scenario is in the table with its violations counted; the script still writes the
# document and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/nemesis.md
files=() rc=0
if [[ ${1:-} == --from ]]; then
  shift
  files=("$@")
else
  [[ -x build/paxcron ]] || scripts/build.sh
  tmp=$(mktemp -d /tmp/nemesis-report.XXXXXX)
  trap 'rm -rf "$tmp"' EXIT
  tests/nemesis_test.sh build/paxcron --results "$tmp/short.jsonl" || rc=1
  files+=("$tmp/short.jsonl")
  if [[ ${1:-} == --long ]]; then
    tests/nemesis_test.sh build/paxcron --long --results "$tmp/long.jsonl" || rc=1
    files+=("$tmp/long.jsonl")
  fi
fi
commit=$(git rev-parse --short HEAD)
# The raw results beside the document, so that it can be rendered again (--from); rows measured
# now are stamped with this commit.
python3 -c 'import json, sys
for f in sys.argv[2:]:
    for l in open(f):
        if l.strip():
            r = json.loads(l); r.setdefault("commit", sys.argv[1]); print(json.dumps(r))' \
  "$commit" "${files[@]}" >docs/nemesis_results.jsonl.new
mv docs/nemesis_results.jsonl.new docs/nemesis_results.jsonl
files=(docs/nemesis_results.jsonl)
python3 - "$out" "$commit" "${files[@]}" <<'PY'
import json, sys, datetime, os
out, commit, files = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = [json.loads(l) for f in files for l in open(f) if l.strip()]
def fmt_list(xs):
    return ', '.join(f'{x:.2f}' for x in xs) if xs else '-'
table = ['| scenario | nodes | faults | s | runs | dup | skips | failed / open | missing | worst late (steady / in faults) | earliest | failovers (s) | longest stall (s) | clock guard | result |',
         '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |']
for r in rows:
    guard = '-'
    if 'clock_guard_logged' in r:
        guard = 'logged' if r['clock_guard_logged'] else 'not logged'
    name = r['scenario'] + (' (long)' if r.get('long') else '')
    table.append(
        f"| {name} | {r['nodes']} | {r['faults']}: {', '.join(r['fault_kinds'])} | {r.get('seconds', '-')} "
        f"| {r['runs']} | {r['duplicates']} | {r['skips']} | {r['failed']} / {r['open']} | {r['missing']} "
        f"| {r['worst_lateness_steady_s']:.2f} / {r['worst_lateness_fault_s']:.2f} "
        f"| {r['earliest_s']:+.2f} | {fmt_list(r['failovers_s'])} | {max(r['stalls_s'] or [0]):.2f} "
        f"| {guard} | {'pass' if r['violations'] == 0 else str(r['violations']) + ' violations'} |")
modes = sorted({r.get('mode', '?') for r in rows})
text = open(out).read() if os.path.exists(out) else ''
begin, end = '<!-- nemesis-table-begin -->', '<!-- nemesis-table-end -->'
block = '\n'.join([begin,
    f"Rendered {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; measured at commit "
    f"{', '.join(sorted({r.get('commit', commit) for r in rows}))}, "
    f"{os.cpu_count()} CPUs, nodes in {' and '.join(modes)} mode "
    f"(`scripts/nemesis_report.sh`):", '', *table, '', end])
if begin in text and end in text:
    text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
else:
    text = text.rstrip('\n') + '\n\n' + block + '\n'
open(out, 'w').write(text)
print(f'{out}: {len(rows)} scenarios')
PY
exit $rc
