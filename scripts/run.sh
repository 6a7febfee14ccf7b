#!/usr/bin/env bash
# The main job: set up, build, and run the simulator over 20 seeds of a 5-node cluster under
# every fault for 2 simulated minutes each. Extra arguments go to 'paxcron sim' in place of these.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
if (($#)); then
  exec build/paxcron sim "$@"
fi
exec build/paxcron sim --seeds 1-20 --nodes 5 --duration 2m --faults all
