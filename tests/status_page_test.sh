#!/usr/bin/env bash
# The status page in a real browser (issue "A real cluster", section 5): a local 3-node cluster
# with two jobs; the leader's page is rendered by headless Chromium (Debian's chromium) and its
# DOM must show the three members, who leads, both jobs and their runs; a screenshot is kept as
# the test's artifact (ARTIFACT_DIR, default the build directory). /metrics must parse as
# Prometheus text. Bounded; the cluster is stopped on any exit.
# usage: status_page_test.sh PAXCRON [ARTIFACT_DIR]
set -euo pipefail
bin=$1
artifacts=${2:-$PWD}
test_name=status_page_test
source "$(dirname "$0")/cluster_lib.sh"
browser=$(command -v chromium || command -v chromium-browser || true)
[[ -n $browser ]] || fail "chromium is not installed (scripts/setup.sh installs it)"

"$bin" cluster up --nodes 3 --dir "$dir" >/dev/null || fail "cluster up"
"$bin" jobs add every-second --dir "$dir" --schedule '* * * * * *' --command 'echo tick' >/dev/null
"$bin" jobs add failing --dir "$dir" --schedule '*/2 * * * * *' --command 'exit 7' >/dev/null
sleep 5
leader=$("$bin" status --dir "$dir" --json | grep -o '"leader": *[0-9]*' | grep -o '[0-9]*$')
url=$(grep "^node$leader " "$dir/http" | cut -d' ' -f2)
[[ -n $url ]] || fail "no status page address for node $leader"
sleep 1  # the page is refreshed every half second

dom=$(timeout 60 "$browser" --headless=new --no-sandbox --disable-gpu --dump-dom "$url" 2>/dev/null) ||
  fail "chromium could not load $url"
timeout 60 "$browser" --headless=new --no-sandbox --disable-gpu --window-size=1200,900 \
  --screenshot="$artifacts/status_page.png" "$url" >/dev/null 2>&1 || fail "no screenshot"
[[ -s $artifacts/status_page.png ]] || fail "empty screenshot"

python3 - "$dom" "$leader" <<'PY' || fail "the page does not show what it should"
import sys
from html.parser import HTMLParser
dom, leader = sys.argv[1], sys.argv[2]
class Rows(HTMLParser):
    def __init__(self):
        super().__init__(); self.table = None; self.rows = {}; self.cell = None; self.text = {}
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == 'table': self.table = a.get('id')
        if tag == 'tr' and self.table: self.rows.setdefault(self.table, []).append([])
        if tag in ('td', 'th') and self.table: self.cell = ''
        if tag == 'b' and a.get('id'): self.cell_id = a['id']; self.text[a['id']] = ''
    def handle_endtag(self, tag):
        if tag == 'table': self.table = None
        if tag in ('td', 'th') and self.table and self.cell is not None:
            self.rows[self.table][-1].append(self.cell.strip()); self.cell = None
        if tag == 'b': self.cell_id = None
    def handle_data(self, data):
        if self.cell is not None: self.cell += data
        if getattr(self, 'cell_id', None): self.text[self.cell_id] += data
p = Rows(); p.feed(dom)
members = p.rows.get('members', [])[1:]
assert len(members) == 3, f"members: {members}"
assert all(r[2] == 'connected' for r in members), f"members: {members}"
assert p.text.get('role') == 'leader', p.text
assert p.text.get('leader') == f'node {leader}', p.text
jobs = {r[0] for r in p.rows.get('jobs', [])[1:]}
assert jobs == {'every-second', 'failing'}, f"jobs: {jobs}"
runs = p.rows.get('runs', [])[1:]
assert any(r[1].startswith('every-second@') and r[2] == 'started' for r in runs), runs
assert any(r[1].startswith('failing@') and r[4] == '7' for r in runs), runs
print(f"page: 3 members, leader node {leader}, 2 jobs, {len(runs)} runs")
PY

metrics=$(python3 -c "import urllib.request,sys; print(urllib.request.urlopen(sys.argv[1] + 'metrics', timeout=5).read().decode())" "$url") ||
  fail "no /metrics"
grep -q '^paxcron_is_leader 1$' <<<"$metrics" || fail "/metrics: paxcron_is_leader"
grep -q '^paxcron_launches_total [1-9]' <<<"$metrics" || fail "/metrics: launches"
grep -q '^paxcron_fsync_seconds_count [1-9]' <<<"$metrics" || fail "/metrics: fsync histogram"
bad=$(grep -v '^#' <<<"$metrics" | grep -Evc '^[a-z_]+(\{[a-z_]+="[^"]*"\})? [0-9.e+-]+$' || true)
[[ $bad == 0 ]] || fail "/metrics: $bad lines are not Prometheus samples"
echo "status_page_test: ok (screenshot: $artifacts/status_page.png)"
