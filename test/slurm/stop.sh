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

# Jobs first (slurmd ends the job steps it runs), then the controller, then authentication.
stop "$dir/slurmd.pid" slurmd
stop "$dir/slurmctld.pid" slurmctld
stop "$dir/munged.pid" munged
