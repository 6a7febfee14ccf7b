#!/usr/bin/env bash
# The tests: set up, build, run every test except the 'long' sweeps. Also checks that paxos/
# stays pure (no clocks, sockets, files, threads) and that every file is clang-formatted.
# usage: scripts/test.sh [BUILD_DIR] [extra cmake args...]   (e.g. build-asan -DPAXCRON_SANITIZE=ON)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/check_purity.sh
scripts/check_format.sh
dir=${1:-build}
shift || true
scripts/build.sh "$dir" "$@"
ctest --test-dir "$dir" --output-on-failure -j "$(nproc)" -LE "${PAXCRON_CTEST_EXCLUDE:-long}"
