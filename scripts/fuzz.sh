#!/usr/bin/env bash
# Fuzzes the transport's frame decoding and handshake parsing (fuzz/frame_fuzz.cc), and crontab
# files and schedule expressions (fuzz/crontab_fuzz.cc), with libFuzzer:
# configures a clang build in build-fuzz (coverage instrumentation and AddressSanitizer), builds
# the target and runs it for SECONDS (default 30) on the corpus in build-fuzz/corpus/frame, which
# grows from run to run, plus the hand-made seeds in fuzz/seeds/frame (well-formed handshake
# frames, so that even a short run reaches the proof checks behind the parser). A crash leaves its input in build-fuzz/artifacts/ and exits non-zero;
# replay it with build-fuzz/fuzz/frame_fuzz FILE.
#
# usage: scripts/fuzz.sh [SECONDS]     (PAXCRON_FUZZ_JOBS=N limits the build's parallelism)
#
# The short run is a smoke test. The longer, documented run, worth doing after any change to
# transport/frame.*, handshake.* or transport.proto and before a release: an hour on every core,
#   scripts/fuzz.sh 3600        (or, in parallel: build-fuzz/fuzz/frame_fuzz -fork=$(nproc)
#                                -max_total_time=3600 build-fuzz/corpus/frame fuzz/seeds/frame)
# and keep the corpus: each run starts where the last one stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
[[ $seconds =~ ^[0-9]+$ ]] || { echo "usage: scripts/fuzz.sh [SECONDS]" >&2; exit 2; }
dir=build-fuzz
command -v clang++ >/dev/null || { echo "fuzz: clang++ is missing (apt-get install clang)" >&2; exit 1; }
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
CC=clang CXX=clang++ cmake -S . -B "$dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPAXCRON_FUZZ=ON >/dev/null
cmake --build "$dir" -j "${PAXCRON_FUZZ_JOBS:-$(nproc)}" --target frame_fuzz crontab_fuzz
mkdir -p "$dir/artifacts"
# Each target gets SECONDS: frames and handshakes (transport/), then crontab lines (cron/).
for target in frame crontab; do
  mkdir -p "$dir/corpus/$target"
  echo "fuzz: ${target}_fuzz for $seconds s"
  "$dir/fuzz/${target}_fuzz" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$dir/artifacts/" "$dir/corpus/$target" "fuzz/seeds/$target"
done
