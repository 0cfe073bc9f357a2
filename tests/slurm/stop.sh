#!/usr/bin/env bash
# Stops the Slurm that tests/slurm/start.sh DIR started: slurmd, slurmctld,
# then munged, each by its pid file (never by process name), waiting up to
# 10 s for each and then killing it.
set -uo pipefail
DIR=${1:?usage: stop.sh DIR}

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

stop_pid "$DIR/slurmd.pid"
stop_pid "$DIR/slurmctld.pid"
stop_pid "$DIR/munge/munged.pid"
