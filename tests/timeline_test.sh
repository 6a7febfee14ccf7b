#!/usr/bin/env bash
# The timeline page in a real browser (issue 7): `paxcron sim --html` pages of a failing seed (an
# injected bug) and of a passing one are rendered by headless Chromium; their DOM must show one
# lane per node, as many messages and crashes as the run's own trace holds (counted from the
# same seed run with --trace), and the violation marker exactly when a checker failed. Two
# renders of a seed are byte-identical; --html refuses a sweep. Screenshots are kept as the
# test's artifacts (ARTIFACT_DIR, default the build directory).
# usage: timeline_test.sh PAXCRON [ARTIFACT_DIR]
set -euo pipefail
bin=$1
artifacts=${2:-$PWD}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
  echo "timeline_test: $*" >&2
  exit 1
}
browser=$(command -v chromium || command -v chromium-browser || true)
[[ -n $browser ]] || fail "chromium is not installed (scripts/setup.sh installs it)"

# check NAME NODES SIM-ARGS...: render the seed's page, check its DOM against its trace.
check() {
  local name=$1 nodes=$2
  shift 2
  local html=$work/$name.html
  "$bin" sim "$@" --nodes "$nodes" --trace "$work/$name.jsonl" >/dev/null || true
  local out
  out=$("$bin" sim "$@" --nodes "$nodes" --html "$html") || true
  [[ -s $html ]] || fail "$name: no page written"
  local line
  line=$(grep '^html: ' <<<"$out") || fail "$name: no 'html:' line in: $out"
  timeout 60 "$browser" --headless=new --no-sandbox --disable-gpu --window-size=1400,1000 \
    --dump-dom "file://$html" >"$work/$name.dom" 2>/dev/null || fail "$name: chromium could not load the page"
  timeout 60 "$browser" --headless=new --no-sandbox --disable-gpu --window-size=1400,1000 \
    --screenshot="$artifacts/timeline_$name.png" "file://$html" >/dev/null 2>&1 ||
    fail "$name: no screenshot"
  [[ -s $artifacts/timeline_$name.png ]] || fail "$name: empty screenshot"
  python3 - "$work/$name.dom" "$work/$name.jsonl" "$nodes" "$line" "$(stat -c %s "$html")" <<'PY' ||
import json, re, sys
from html.parser import HTMLParser
dom_path, trace_path, nodes, line, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
events = [json.loads(l) for l in open(trace_path)]
sends = sum(1 for e in events if e['ev'] == 'send')
crashes = sum(1 for e in events if e['ev'] == 'crash')
violations = [e for e in events if e['ev'] == 'violation']

class Dom(HTMLParser):
    def __init__(self):
        super().__init__(); self.root = None; self.lanes = 0; self.crash_items = 0
        self.violation = None; self.arrows = 0; self.highlighted = 0; self.marks = 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs); cls = (a.get('class') or '').split()
        if a.get('id') == 'timeline': self.root = a
        if a.get('id') == 'violation': self.violation = a
        if tag == 'g' and cls == ['lane']: self.lanes += 1
        if tag == 'li' and 'crash' in cls: self.crash_items += 1
        if tag == 'line' and 'msg' in cls: self.arrows += 1
        if 'hl' in cls: self.highlighted += 1
        if 'vmark' in cls: self.marks += 1
d = Dom(); d.feed(open(dom_path).read())
r = d.root
assert r is not None, 'no #timeline element'
assert int(r['data-lanes']) == nodes == d.lanes, (r['data-lanes'], d.lanes, nodes)
assert int(r['data-messages']) == sends, ('messages', r['data-messages'], sends)
assert 0 < int(r['data-messages-embedded']) <= sends, r['data-messages-embedded']
assert int(r['data-messages-drawn']) == d.arrows, (r['data-messages-drawn'], d.arrows)
assert int(r['data-crashes']) == crashes == d.crash_items, (r['data-crashes'], crashes, d.crash_items)
m = re.fullmatch(r'html: \S+ \((\d+) bytes, (\d+) events, (\d+) messages drawn of (\d+)\)', line)
assert m, line
assert int(m[1]) == size and int(m[4]) == sends and int(m[3]) == int(r['data-messages-embedded']), line
if violations:
    assert d.violation is not None, 'no #violation element for a failing seed'
    assert d.violation['data-checker'] == violations[0]['checker'], d.violation
    assert int(d.violation['data-t']) == violations[0]['t'], d.violation
    assert d.marks >= 1 and d.highlighted >= 1, (d.marks, d.highlighted)
    assert d.arrows > 0, 'the view of the violation draws its messages'
else:
    assert d.violation is None, 'a #violation element for a passing seed'
print(f"{sys.argv[1]}: {d.lanes} lanes, {sends} messages ({r['data-messages-embedded']} embedded, "
      f"{d.arrows} drawn), {crashes} crashes, violation: {violations[0]['checker'] if violations else 'none'}")
PY
    fail "$name: the page does not show what the trace holds"
}

check fail 5 --seed 4 --duration 30s --faults all --inject-bug no-phase1-recovery
grep -q '"ev":"violation"' "$work/fail.jsonl" || fail "seed 4 with no-phase1-recovery no longer fails: pick another"
# A link's view and message types (#view=FROM-TO&types=...): the arrows drawn are exactly the
# trace's messages of those types that overlap that window (when the page embeds every message of
# the run; a longer run's are down-sampled, and then the arrows are some of them).
# check_view NAME FROM TO TYPES EMBEDS (TYPES comma-separated; EMBEDS: all, or sampled)
check_view() {
  local name=$1 from=$2 to=$3 types=$4 embeds=$5
  timeout 60 "$browser" --headless=new --no-sandbox --disable-gpu --window-size=1400,1000 \
    --dump-dom "file://$work/$name.html#view=$from-$to&types=$types" \
    >"$work/$name.view.dom" 2>/dev/null || fail "view of $name: chromium could not load the page"
  python3 - "$work/$name.view.dom" "$work/$name.jsonl" "$from" "$to" "$types" "$embeds" <<'PY' ||
import json, re, sys
dom = open(sys.argv[1]).read()
sends, delivered = {}, {}
for line in open(sys.argv[2]):
    e = json.loads(line)
    if e['ev'] == 'send': sends[e['id']] = e
    if e['ev'] == 'deliver': delivered.setdefault(e['id'], e['t'])
t0, t1, types = int(sys.argv[3]), int(sys.argv[4]), set(sys.argv[5].split(','))
want = sum(1 for i, s in sends.items() if s['type'] in types and s['t'] <= t1
           and delivered.get(i, s['t']) >= t0)
root = re.search(r'<div id="timeline"[^>]*>', dom)[0]
attr = dict(re.findall(r'(data-[a-z-]+)="([^"]*)"', root))
assert attr['data-view'] == f'{t0}-{t1}', attr
drawn = len(re.findall(r'<line [^>]*class="msg', dom))
assert drawn == int(attr['data-messages-drawn']), (drawn, attr)
if sys.argv[6] == 'all':
    assert int(attr['data-messages-embedded']) == len(sends), 'a short run embeds every message'
if int(attr['data-messages-embedded']) == len(sends):
    assert 0 < want == drawn, (want, drawn, attr)
else:
    assert 0 < drawn <= want, (want, drawn, attr)
print(f'view {t0}-{t1}, {sorted(types)}: {drawn} arrows, as in the trace')
PY
    fail "view of $name: the filtered view does not draw what the trace holds"
}
check_view fail 3000000 4000000 prepare,promise,nack,accept,forward all

# Fast Paxos (--mode fast): its messages are drawn under their own types, and a collision is
# listed among the incidents.
check fast 5 --seed 2 --mode fast --duration 30s --faults all --inject-bug recovery-picks-any
grep -q '"ev":"violation"' "$work/fast.jsonl" || fail "seed 2 with recovery-picks-any no longer fails: pick another"
check_view fast 1000000 2000000 any,fast_propose,fast_accepted,fast_query sampled
if grep -q '"ev":"collision"' "$work/fast.jsonl"; then
  grep -q '<li class="collision"' "$work/fast.dom" || fail "fast: a collision is not listed"
fi
check pass 3 --seed 7 --duration 20s --faults all
! grep -q '"ev":"violation"' "$work/pass.jsonl" || fail "seed 7 no longer passes: pick another"

# Same seed, same bytes.
"$bin" sim --seed 4 --duration 30s --faults all --inject-bug no-phase1-recovery --html "$work/again.html" >/dev/null || true
cmp -s "$work/fail.html" "$work/again.html" || fail "two renders of seed 4 differ"

# --explain: the invariant and the nodes for a failing seed; "passed" for a passing one; the
# contract's last line unchanged.
out=$("$bin" sim --seed 4 --duration 30s --faults all --inject-bug no-phase1-recovery --explain) && fail "seed 4 passed"
grep -q '^violated: Agreement: ' <<<"$out" || fail "--explain: no invariant in: $out"
grep -q '^Node [0-9]: ' <<<"$out" || fail "--explain: no node in: $out"
[[ $(tail -n 1 <<<"$out") == "0 passed, 1 failed" ]] || fail "--explain: last line: $out"
out=$("$bin" sim --seed 7 --duration 20s --faults all --nodes 3 --explain) || fail "seed 7 failed"
grep -q '^seed 7 passed: no checker found a violation$' <<<"$out" || fail "--explain, passing: $out"

# One run only.
set +e
err=$("$bin" sim --seeds 1-2 --html "$work/x.html" 2>&1 >/dev/null)
status=$?
set -e
[[ $status == 2 && $err == *"--html draws one run"* ]] || fail "--html with --seeds: status $status, '$err'"
set +e
err=$("$bin" sim --seeds 1-2 --explain 2>&1 >/dev/null)
status=$?
set -e
[[ $status == 2 && $err == *"--explain explains one run"* ]] || fail "--explain with --seeds: status $status, '$err'"
echo "timeline_test: ok (screenshots: $artifacts/timeline_fail.png, $artifacts/timeline_pass.png)"
