# Shared by the real-cluster tests (sourced): a fresh directory for a local cluster, stopped and
# removed on any exit (KEEP=1 keeps the directory), and `fail`, which prints the nodes' last log
# lines. Expects $bin (the paxcron binary) and $test_name.
dir=$(mktemp -d "/tmp/paxcron-$test_name.XXXXXX")
cleanup() {
  "$bin" cluster down --dir "$dir" >/dev/null 2>&1 || true
  if [[ ${KEEP:-0} == 1 ]]; then echo "kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT
fail() {
  echo "$test_name: FAIL: $*" >&2
  tail -n 20 "$dir"/node*.log >&2 || true
  exit 1
}
