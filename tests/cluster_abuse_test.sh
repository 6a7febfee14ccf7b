#!/usr/bin/env bash
# Bad input against a real 3-node cluster (issue "A real cluster", section 6): for 20 s, every
# node's port gets random garbage, oversized length prefixes, silent half-open connections,
# handshakes cut short and clients with a wrong secret, while a job runs every second. Then: every
# node is still up, no run name appears twice in the jobs' own records, every second of the
# window ran, and the wrong secrets were refused (the client says so). Loopback only, bounded in
# time; the cluster is stopped on any exit. usage: cluster_abuse_test.sh PAXCRON
set -euo pipefail
bin=$1
test_name=cluster_abuse_test
source "$(dirname "$0")/cluster_lib.sh"

"$bin" cluster up --nodes 3 --dir "$dir" >/dev/null || fail "cluster up"
ledger="$dir/ran.txt"
: >"$ledger"
"$bin" jobs add tick --dir "$dir" --schedule '* * * * * *' \
  --command "echo \"\$PAXCRON_RUN\" >> $ledger" >/dev/null || fail "jobs add"
sleep 2
start=$(date +%s)
echo "not the secret, but long enough" >"$dir/wrong-secret"

python3 - "$(cat "$dir/endpoints")" 20 <<'PY' &
import os, random, socket, struct, sys, time
endpoints = [e.strip() for e in sys.argv[1].split(',') if e.strip()]
deadline = time.time() + float(sys.argv[2])
rng = random.Random(7)
held = []
sent = 0
while time.time() < deadline:
    host, port = endpoints[rng.randrange(len(endpoints))].rsplit(':', 1)
    try:
        s = socket.create_connection((host, int(port)), timeout=1)
    except OSError:
        continue
    kind = rng.randrange(5)
    try:
        if kind == 0:    # garbage
            s.sendall(os.urandom(rng.randrange(1, 4096)))
        elif kind == 1:  # an absurd length, then bytes that never complete it
            s.sendall(struct.pack('<I', 0xFFFFFFF0) + os.urandom(64))
        elif kind == 2:  # a handshake frame cut short
            s.sendall(struct.pack('<I', 500) + os.urandom(10))
        elif kind == 3:  # silence: held open, never a byte (the node's deadline closes it)
            held.append(s)
            if len(held) > 50:
                held.pop(0).close()
            continue
        else:            # a frame of the right shape with nonsense inside
            body = os.urandom(rng.randrange(0, 900))
            s.sendall(struct.pack('<I', len(body)) + body)
        sent += 1
    except OSError:
        pass
    s.close()
    time.sleep(0.005)
for s in held:
    s.close()
print(f"abuse: {sent} bad connections")
PY
abuser=$!
wrong=0
for _ in $(seq 1 10); do
  out=$("$bin" status --dir "$dir" --secret-file "$dir/wrong-secret" --request-timeout 2 2>&1) &&
    fail "a wrong secret was accepted: $out"
  [[ $out == *secret* ]] || fail "the refusal does not say why: $out"
  wrong=$((wrong + 1))
  sleep 1
done
wait "$abuser"
end=$(date +%s)
sleep 2

for k in 1 2 3; do
  pid=$(cat "$dir/node$k.pid")
  kill -0 "$pid" 2>/dev/null || fail "node $k died"
done
dups=$(sort "$ledger" | uniq -d)
[[ -z $dups ]] || fail "runs launched twice: $dups"
python3 - "$ledger" "$start" "$end" <<'PY' || fail "a second without its run"
import datetime, sys
ran = set()
for line in open(sys.argv[1]):
    stamp = line.strip().split('@', 1)[1]
    ran.add(int(datetime.datetime.strptime(stamp, '%Y-%m-%dT%H:%M:%SZ').replace(
        tzinfo=datetime.timezone.utc).timestamp()))
missing = [s for s in range(int(sys.argv[2]) + 1, int(sys.argv[3])) if s not in ran]
if missing:
    sys.exit(f"seconds without a run: {missing}")
print(f"{len(ran)} runs, every second of the window")
PY
grep -q "auth" "$dir"/node*.log || fail "no node logged a refused handshake"
echo "cluster_abuse_test: ok ($wrong wrong secrets refused, all nodes up, no run twice)"
