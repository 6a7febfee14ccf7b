#!/usr/bin/env bash
# Brings up a single-node Slurm on this machine for the slurm tests (issue 8, section 2): munged
# (as the munge user), slurmctld and slurmd, started by hand (no systemd), with their own config
# in $PAXCRON_SLURM_DIR (default /tmp/paxcron-slurm): clients find it through
# SLURM_CONF=$PAXCRON_SLURM_DIR/slurm.conf. Waits (bounded) until the node is idle and a probe
# job completes. Idempotent: daemons already up from an earlier call are kept. Records in
# $dir/started the daemons it started, so that slurm_down.sh stops exactly those.
# Exit 0: up; 1: cannot start (the reason is printed). Must run as root.
# For tests in network namespaces: PAXCRON_SLURM_CTLD_NS / PAXCRON_SLURM_NODE_NS name the
# namespaces slurmctld and slurmd (and the probe's clients) run in, PAXCRON_SLURM_CTLD_ADDR /
# PAXCRON_SLURM_NODE_ADDR their addresses (default 127.0.0.1), PAXCRON_SLURM_EXTRA_CONF more
# slurm.conf lines.
set -euo pipefail
dir=${PAXCRON_SLURM_DIR:-/tmp/paxcron-slurm}
ctld_addr=${PAXCRON_SLURM_CTLD_ADDR:-127.0.0.1}
node_addr=${PAXCRON_SLURM_NODE_ADDR:-127.0.0.1}
in_ctld=() in_node=()
[[ -n ${PAXCRON_SLURM_CTLD_NS:-} ]] && in_ctld=(nsenter --net=/run/netns/"$PAXCRON_SLURM_CTLD_NS")
[[ -n ${PAXCRON_SLURM_NODE_NS:-} ]] && in_node=(nsenter --net=/run/netns/"$PAXCRON_SLURM_NODE_NS")
export SLURM_CONF=$dir/slurm.conf
say() { echo "slurm_up: $*" >&2; }
[[ $(id -u) -eq 0 ]] || { say "needs root"; exit 1; }
for b in munged slurmctld slurmd sbatch squeue scontrol; do
  command -v "$b" >/dev/null || [[ -x /usr/sbin/$b ]] || { say "$b is not installed"; exit 1; }
done
export PATH=$PATH:/usr/sbin
mkdir -p "$dir"/{state,spool,log}
touch "$dir/started"
host=$(hostname -s)
cpus=$(nproc)
if [[ ! -f $dir/slurm.conf ]]; then
  cat >"$dir/slurm.conf" <<CONF
# Written by scripts/slurm_up.sh: a single-node Slurm for paxcron's tests.
ClusterName=paxcron
SlurmctldHost=$host($ctld_addr)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SwitchType=switch/none
MpiDefault=none
ReturnToService=2
# Tuned for quick starts (submit-to-start ~0.5 s instead of ~2.3 s).
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_interval=5,bf_interval=5
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
# Finished jobs stay visible to squeue --states=all for an hour; after that, the jobcomp file.
MinJobAge=3600
MaxJobCount=100000
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
NodeName=$host NodeAddr=$node_addr CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:64
${PAXCRON_SLURM_EXTRA_CONF:-}
CONF
fi
alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# munged, as the munge user.
if ! pgrep -x munged >/dev/null; then
  mkdir -p /run/munge && chown munge:munge /run/munge && chmod 0755 /run/munge
  if [[ ! -f /etc/munge/munge.key ]]; then  # normally made by the package's postinst
    mkdir -p /etc/munge
    { command -v mungekey >/dev/null && mungekey --create --keyfile=/etc/munge/munge.key; } ||
      dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
  fi
  runuser -u munge -- /usr/sbin/munged || { say "munged did not start"; exit 1; }
  for _ in $(seq 50); do [[ -f /run/munge/munged.pid ]] && break; sleep 0.1; done
  echo "munged $(cat /run/munge/munged.pid)" >>"$dir/started"
fi
if ! alive "$dir/slurmctld.pid"; then
  "${in_ctld[@]}" /usr/sbin/slurmctld -f "$SLURM_CONF" || { say "slurmctld did not start"; tail "$dir/log/slurmctld.log" >&2; exit 1; }
  for _ in $(seq 50); do alive "$dir/slurmctld.pid" && break; sleep 0.1; done
  alive "$dir/slurmctld.pid" || { say "slurmctld exited"; tail "$dir/log/slurmctld.log" >&2; exit 1; }
  echo "slurmctld $(cat "$dir/slurmctld.pid")" >>"$dir/started"
fi
if ! alive "$dir/slurmd.pid"; then
  "${in_node[@]}" /usr/sbin/slurmd -f "$SLURM_CONF" || { say "slurmd did not start"; tail "$dir/log/slurmd.log" >&2; exit 1; }
  for _ in $(seq 50); do alive "$dir/slurmd.pid" && break; sleep 0.1; done
  alive "$dir/slurmd.pid" || { say "slurmd exited"; tail "$dir/log/slurmd.log" >&2; exit 1; }
  echo "slurmd $(cat "$dir/slurmd.pid")" >>"$dir/started"
fi
# The node idle (bounded: 30 s).
state=""
for _ in $(seq 60); do
  state=$("${in_node[@]}" timeout 5 sinfo -h -N -o '%t' 2>/dev/null | head -1 || true)
  [[ $state == idle* || $state == mix* || $state == alloc* ]] && break
  [[ $state == down* || $state == drain* ]] && "${in_node[@]}" scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true
  sleep 0.5
done
[[ $state == idle* || $state == mix* || $state == alloc* ]] || { say "node not idle (state '$state')"; tail -5 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2; exit 1; }
# A probe job completes (bounded: 30 s).
id=$("${in_node[@]}" timeout 10 sbatch --parsable --job-name=paxcron-probe -o /dev/null --wrap true) || { say "sbatch of the probe failed"; exit 1; }
id=${id%%;*}
for _ in $(seq 60); do
  s=$("${in_node[@]}" timeout 5 squeue -h --states=all -j "$id" -o '%T' 2>/dev/null || true)
  [[ $s == COMPLETED ]] && { say "up (node $host idle, probe job $id completed; SLURM_CONF=$SLURM_CONF)"; exit 0; }
  sleep 0.5
done
say "probe job $id did not complete (state '$s')"
exit 1
