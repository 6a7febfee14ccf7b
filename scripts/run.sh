#!/usr/bin/env bash
# The main job: set up, build, then run the simulator: 20 seeds of a 5-node cluster under every
# fault (2 simulated minutes each), then 10 seeds of the replicated cron with 50 jobs on the
# weakest scheduler (10 simulated minutes each). Extra arguments go to 'paxcron sim' instead.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
if (($#)); then
  exec build/paxcron sim "$@"
fi
build/paxcron sim --seeds 1-20 --nodes 5 --duration 2m --faults all
build/paxcron sim --seeds 1-10 --nodes 5 --jobs 50 --duration 10m --faults all --scheduler plain
