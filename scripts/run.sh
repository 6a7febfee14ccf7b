#!/usr/bin/env bash
# The main job: set up, build, then the cluster demo (scripts/demo.sh): a local 3-node cluster on
# 127.0.0.1 with a few jobs, runs happening, the leader killed with SIGKILL, the failover and the
# run history without a duplicate, then the cluster stopped; under a minute. With arguments, they
# go to 'paxcron sim' instead (the simulator), e.g. scripts/run.sh --seeds 1-20 --faults all.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
if (($#)); then
  exec build/paxcron sim "$@"
fi
exec scripts/demo.sh build/paxcron
