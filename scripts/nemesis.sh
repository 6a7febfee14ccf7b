#!/usr/bin/env bash
# The nemesis harness on a real cluster (issue 9, section 1; tests/nemesis_test.sh says what each
# scenario does). The short set is ctest's label `nemesis` (in CI, about 4 minutes); the longer
# run is 5 nodes, faults of 8 s, three rounds of each (about 15 minutes):
#   scripts/nemesis.sh                   # the short set, every scenario
#   scripts/nemesis.sh --long            # the longer run
#   scripts/nemesis.sh pause kill        # some scenarios
#   scripts/nemesis.sh --results r.jsonl # also one JSON line per scenario (nemesis_report.sh)
# Needs root for the network namespaces (without them, only the process and clock faults run).
# Builds first if build/paxcron is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x build/paxcron ]] || scripts/build.sh
exec tests/nemesis_test.sh build/paxcron "$@"
