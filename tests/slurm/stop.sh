#!/usr/bin/env bash
# Stops the Slurm that tests/slurm/start.sh DIR started: slurmrestd (when
# --rest started one), then cancels its jobs (waiting up to 10 s for them to
# go), then stops slurmd, slurmctld and munged; each daemon by its pid file
# (never by process name), waiting up to 10 s for each before killing it.
# Job steps that outlived slurmd are found by this cluster's own SLURM_CONF
# in their environment and killed.
set -uo pipefail
DIR=${1:?usage: stop.sh DIR}
DIR=$(cd "$DIR" 2>/dev/null && pwd) || exit 0
export SLURM_CONF=$DIR/slurm.conf

alive() { [ -f "$1" ] && kill -0 "$(cat "$1" 2>/dev/null)" 2>/dev/null; }

stop_pid() { # pid file
  [ -f "$1" ] || return 0
  local pid
  pid=$(cat "$1" 2>/dev/null)
  case "$pid" in '' | *[!0-9]*) return 0 ;; esac
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
  return 0
}

stop_pid "$DIR/slurmrestd.pid"

if alive "$DIR/slurmctld.pid" && [ -f "$SLURM_CONF" ]; then
  timeout 20 scancel --partition=debug >/dev/null 2>&1
  for _ in $(seq 100); do
    [ -z "$(timeout 10 squeue -h -t RUNNING,COMPLETING,CONFIGURING -o %i 2>/dev/null)" ] && break
    sleep 0.1
  done
fi

stop_pid "$DIR/slurmd.pid"
stop_pid "$DIR/slurmctld.pid"
stop_pid "$DIR/munge/munged.pid"

for env in /proc/[0-9]*/environ; do
  pid=${env#/proc/}; pid=${pid%/environ}
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = slurmstepd ] || continue
  tr '\0' '\n' <"$env" 2>/dev/null | grep -qxF "SLURM_CONF=$SLURM_CONF" && kill -KILL "$pid" 2>/dev/null
done
exit 0
