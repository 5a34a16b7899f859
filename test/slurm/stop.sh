#!/usr/bin/env bash
# Stops the test cluster that start.sh started: only the processes whose pids it recorded under
# $PIPELINE_SLURM_DIR (default /tmp/pipeline-slurm), never anything found by name. Safe to run
# when nothing is up.
set -uo pipefail

dir=${PIPELINE_SLURM_DIR:-/tmp/pipeline-slurm}

stop() {
  local pidfile=$1 pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  # A recycled pid must not be killed: the recorded pid has to still be the daemon we started.
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && grep -q "$2" "/proc/$pid/comm" 2>/dev/null; then
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

# Jobs first: a job step (slurmstepd and the job's processes) outlives a stopped slurmd, so the
# jobs still in this cluster's queue (a test run that was interrupted leaves some) are cancelled
# and waited for while the daemons can still end them. SLURM_CONF names this cluster only.
if [ -f "$dir/slurmctld.pid" ] && [ -f "$dir/slurm.conf" ] && command -v scancel >/dev/null 2>&1; then
  export SLURM_CONF=$dir/slurm.conf
  if [ -n "$(timeout 10 squeue --noheader --format=%i 2>/dev/null)" ]; then
    timeout 10 scancel --user="$(id -un)" 2>/dev/null
    # KillWait=5 in start.sh: a job that ignores SIGTERM is killed 5 s after it.
    for _ in $(seq 1 150); do
      [ -z "$(timeout 10 squeue --noheader --format=%i 2>/dev/null)" ] && break
      sleep 0.1
    done
  fi
fi
# Then the node daemon, the controller, and authentication.
stop "$dir/slurmd.pid" slurmd
stop "$dir/slurmctld.pid" slurmctld
stop "$dir/munged.pid" munged
