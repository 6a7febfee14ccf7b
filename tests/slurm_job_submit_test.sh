#!/usr/bin/env bash
# The example server-side deduplication, docs/slurm/job_submit.lua (issue 8, section 1): with it
# installed (JobSubmitPlugins=lua, `scontrol reconfigure`), 10 identical concurrent submissions of
# one run name leave exactly 1 job, and the 9 refused print "paxcron-duplicate" (which the launcher
# maps to "already existed"). The plugin is removed again at the end (and on any exit), so the
# other slurm tests see Slurm's own behaviour: no deduplication by name.
# SKIP (77) when Slurm cannot start. usage: slurm_job_submit_test.sh PAXCRON
set -euo pipefail
bin=$1
test_name=slurm_job_submit_test
source "$(dirname "$0")/slurm_lib.sh"

conf=$PAXCRON_SLURM_DIR/slurm.conf
lua=$PAXCRON_SLURM_DIR/job_submit.lua
uninstall() {
  sed -i '/^JobSubmitPlugins=lua$/d' "$conf"
  rm -f "$lua"
  timeout 10 scontrol reconfigure >/dev/null 2>&1 || true
}
trap 'uninstall; slurm_cleanup' EXIT
sed "s|^local jobcomp_file = .*|local jobcomp_file = \"$jobcomp\"|" \
  "$repo/docs/slurm/job_submit.lua" >"$lua"
grep -q '^JobSubmitPlugins=lua$' "$conf" || echo 'JobSubmitPlugins=lua' >>"$conf"
timeout 10 scontrol reconfigure || fail "scontrol reconfigure"
sleep 1

name="dedup-$$-$RANDOM@2026-11-27T03:00:00Z"
for i in $(seq 10); do
  (timeout 10 sbatch --parsable --job-name="$name" --output=/dev/null --wrap true \
     >"$dir/sub.$i.out" 2>"$dir/sub.$i.err"; echo $? >"$dir/sub.$i.rc") &
done
wait
accepted=$(grep -lx 0 "$dir"/sub.*.rc | wc -l)
refused=$(grep -l paxcron-duplicate "$dir"/sub.*.err | wc -l)
jobs=$(squeue --noheader --states=all --name="$name" | wc -l)
echo "of 10 identical concurrent submissions: $accepted accepted, $refused refused as duplicates," \
  "$jobs job in Slurm"
[[ $accepted == 1 && $refused == 9 && $jobs == 1 ]] || fail "expected 1 accepted, 9 refused, 1 job"

# Uninstalled: Slurm accepts a second job of a name again (what the other tests rely on).
uninstall
name2="dedup-$$-$RANDOM@2026-11-27T03:00:01Z"
for _ in 1 2; do
  timeout 10 sbatch --parsable --job-name="$name2" --output=/dev/null --wrap true >/dev/null ||
    fail "sbatch without the plugin"
done
echo "$test_name: ok"
