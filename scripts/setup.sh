#!/usr/bin/env bash
# Installs the Debian packages paxcron builds with, if any is missing. Safe to run repeatedly.
set -euo pipefail
packages=(build-essential cmake ninja-build pkg-config libuv1-dev libprotobuf-dev protobuf-compiler
  libfmt-dev librapidcheck-dev libjemalloc-dev googletest libgtest-dev libgmock-dev clang-format)
# The schedule language: the IANA tz database (tz/ reads its TZif files) and schedule_bench.
packages+=(tzdata libbenchmark-dev)
# clang for the libFuzzer target of frame decoding and the handshake (scripts/fuzz.sh).
packages+=(clang)
# The real node: HMAC authentication (OpenSSL libcrypto), the CLI's argument parser, the HTTP
# server of /metrics and the status page.
packages+=(libssl-dev libcli11-dev libcpp-httplib-dev)
# The cluster tests' checks (tests/cluster_test.sh, cluster_abuse_test.sh), and the browser that
# renders the status page in tests/status_page_test.sh.
packages+=(python3 chromium)
# The slurm tests' single-node Slurm (scripts/slurm_up.sh; tests/slurm_*_test.sh).
# tests/slurm_netns_ambiguous_test.sh: network namespaces, veth pairs and nft rules in them.
packages+=(slurmctld slurmd slurm-client munge iproute2 nftables)
# The nemesis tests (tests/nemesis_test.sh): network namespaces and nft rules (above), a wall
# clock skewed with libfaketime, a monotonic offset with `unshare --time` (util-linux).
packages+=(faketime libfaketime util-linux)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
