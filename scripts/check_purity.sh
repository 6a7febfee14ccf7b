#!/usr/bin/env bash
# paxos/ (and later cron/) must stay I/O-free and deterministic (STYLE.md): no clock, socket,
# file, thread, environment or unseeded randomness.
set -euo pipefail
cd "$(dirname "$0")/.."
dirs=()
for d in paxos cron; do [[ -d $d ]] && dirs+=("$d"); done
hits=$(grep -rnE '#include *[<"](uv\.h|thread|filesystem|fstream|sys/socket\.h|unistd\.h|chrono|random)[>"]|random_device|[^_a-z]rand\(|(system_clock|steady_clock|high_resolution_clock)::now|time\(nullptr\)|getenv\(' \
  "${dirs[@]}" | grep -v '_test\.cc' || true)
if [[ -n $hits ]]; then
  echo "check_purity: paxos/ and cron/ must not reach for clocks, I/O, threads or randomness:"
  echo "$hits"
  exit 1
fi
echo "check_purity: ok"
