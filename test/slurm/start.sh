#!/usr/bin/env bash
# Brings up a one-node Slurm cluster on 127.0.0.1 for the tests: munged, slurmctld and slurmd,
# each with its state, logs and pid under one directory ($PIPELINE_SLURM_DIR, /tmp/pipeline-slurm
# by default), so nothing in /etc or /run is touched and stop.sh can end exactly what this
# started. Idempotent: when the cluster it started earlier still answers, it does nothing.
#
# Needs Debian's slurmctld, slurmd, slurm-client and munge (Slurm 22.05); installs nothing.
# Prints the lines to eval for clients: export SLURM_CONF=..., and PIPELINE_SLURM_STARTED=1 when
# this call started the daemons (0 when they were up already), so a caller knows whether to stop
# them.
#
# Settings chosen for a test machine, not a cluster:
# - no cgroups (proctrack/linuxproc, task/none): works in containers without a cgroup mount;
# - no accounting daemon (sacct does not work): job outcomes come from `scontrol show job` and
#   the jobcomp file;
# - OverTimeLimit=0 and KillWait=5, so a job over its time limit is stopped at once and killed
#   five seconds later (the time-limit test stays short);
# - memory is not a consumable resource (CR_CPU): `--mem` is checked against the node's size but
#   jobs without it do not each claim the whole node;
# - each CPU may be shared by up to 4 jobs (OverSubscribe=FORCE:4): the test jobs mostly sleep,
#   and the suite runs its tests side by side, so a one-minute time-limit test holding a CPU
#   must not hold up the others' jobs.
set -euo pipefail

dir=${PIPELINE_SLURM_DIR:-/tmp/pipeline-slurm}
ctld_port=${PIPELINE_SLURM_CTLD_PORT:-16817}
slurmd_port=${PIPELINE_SLURM_SLURMD_PORT:-16818}
conf=$dir/slurm.conf
export SLURM_CONF=$conf

for tool in munged slurmctld slurmd scontrol sinfo; do
  if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
    echo "start.sh: $tool is missing; install Debian's slurmctld slurmd slurm-client munge" >&2
    exit 1
  fi
done
PATH=$PATH:/usr/sbin

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

ready() {
  scontrol ping 2>/dev/null | grep -q 'is UP' &&
    sinfo --noheader --nodes=localhost --format=%t 2>/dev/null | grep -Eq '^(idle|mix|alloc)'
}

if alive "$dir/munged.pid" && alive "$dir/slurmctld.pid" && alive "$dir/slurmd.pid" && ready; then
  echo "export SLURM_CONF=$conf"
  echo "PIPELINE_SLURM_STARTED=0"
  exit 0
fi

# Something is half up (a crashed daemon, a reboot that kept /tmp): start again from clean.
if [ -x "$(dirname "$0")/stop.sh" ]; then "$(dirname "$0")/stop.sh" >/dev/null 2>&1 || true; fi

mkdir -p "$dir"/{munge-key,munge-run,munge-lib,state,spool,log}
# munged refuses a key directory that others can read, and a socket directory others cannot enter.
chmod 700 "$dir/munge-key" "$dir/munge-lib"
chmod 755 "$dir/munge-run"
if [ ! -s "$dir/munge-key/munge.key" ]; then
  head -c 1024 /dev/urandom >"$dir/munge-key/munge.key"
fi
chmod 600 "$dir/munge-key/munge.key"

user=$(id -un)
mem_mb=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)

cat >"$conf" <<EOF
# Written by test/slurm/start.sh: a one-node test cluster; see the comments there.
ClusterName=pipeline-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
CommunicationParameters=NoInAddrAny,NoCtldInAddrAny
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge-run/munge.socket
SlurmUser=$user
SlurmdUser=$user
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.log
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
MpiDefault=none
ReturnToService=2
OverTimeLimit=0
KillWait=5
InactiveLimit=0
MinJobAge=600
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF

munged --key-file="$dir/munge-key/munge.key" --socket="$dir/munge-run/munge.socket" \
  --pid-file="$dir/munged.pid" --seed-file="$dir/munge-lib/munged.seed" \
  --log-file="$dir/log/munged.log" --force
# -i: ignore state saved by an earlier cluster in this directory (jobs of a previous test run).
slurmctld -i -f "$conf"
slurmd -N localhost -f "$conf"

for _ in $(seq 1 100); do
  if ready; then
    echo "export SLURM_CONF=$conf"
    echo "PIPELINE_SLURM_STARTED=1"
    exit 0
  fi
  sleep 0.1
done
echo "start.sh: the cluster did not come up within 10 s; logs in $dir/log:" >&2
tail -n 5 "$dir"/log/*.log >&2 || true
exit 1
