#!/usr/bin/env bash
# A single-node Slurm for the tests: munged, slurmctld and slurmd from
# Debian's slurm-wlm, running as root, with typed GPU gres (gpu:a100:4,
# gpu:t4:4) backed by placeholder device files. Everything lives in DIR:
# slurm.conf, gres.conf, state, spool, pid files, logs and munge's socket.
#
#   tests/slurm/start.sh DIR [OPTIONS]   start; DIR/env then holds SLURM_CONF=...
#   tests/slurm/stop.sh DIR              stop (by pid files)
#
# Options (for benchmarks; the tests use none):
#   --max-jobs N   MaxJobCount=N (Slurm's default is 10,000 jobs in all)
#   --jwt          also accept JWTs (AuthAltTypes=auth/jwt, a random HS256
#                  key in DIR/jwt.key, 0600); `scontrol token` then works
#                  (package slurm-wlm-jwt-plugin)
#   --rest         --jwt, and slurmrestd (package slurmrestd) on 127.0.0.1,
#                  as nobody:nogroup (it refuses root), with rest_auth/jwt
#                  and the openapi/v0.0.38 plugin (/slurm/v0.0.38/...);
#                  DIR/env then also holds SLURMRESTD_URL=http://127.0.0.1:PORT
#
# Exit 0 when `sinfo` shows the node idle; 77 when Slurm cannot run here
# (not root, packages missing and not installable, a daemon that will not
# start), with the reason on the last line of stderr.
set -uo pipefail

skip() { echo "slurm: cannot start: $*" >&2; exit 77; }

DIR=${1:?usage: start.sh DIR [--max-jobs N] [--jwt] [--rest]}
shift
MAX_JOBS=; JWT=0; REST=0
while [ $# -gt 0 ]; do
  case "$1" in
    --max-jobs) [ $# -ge 2 ] || { echo "start.sh: --max-jobs needs a number" >&2; exit 2; }
                MAX_JOBS=$2; shift ;;
    --jwt) JWT=1 ;;
    --rest) JWT=1; REST=1 ;;
    *) echo "start.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
case "$MAX_JOBS" in *[!0-9]* | 0*) echo "start.sh: --max-jobs needs a number" >&2; exit 2 ;; esac
mkdir -p "$DIR" || skip "cannot create $DIR"
DIR=$(cd "$DIR" && pwd)
[ "$(id -u)" -eq 0 ] || skip "needs root (slurmd runs jobs as their users)"

PLUGINS=/usr/lib/x86_64-linux-gnu/slurm-wlm
command -v dpkg-architecture >/dev/null &&
  PLUGINS=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null)/slurm-wlm
pkgs=()
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  pkgs+=(slurm-wlm munge)
fi
[ $JWT = 1 ] && [ ! -e "$PLUGINS/auth_jwt.so" ] && pkgs+=(slurm-wlm-jwt-plugin)
[ $REST = 1 ] && ! command -v slurmrestd >/dev/null && pkgs+=(slurmrestd)
if [ ${#pkgs[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  command -v apt-get >/dev/null || skip "${pkgs[*]} not installed and there is no apt-get"
  apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "${pkgs[@]}" >"$DIR/apt.log" 2>&1 ||
    { apt-get update -qq >>"$DIR/apt.log" 2>&1 &&
      apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "${pkgs[@]}" >>"$DIR/apt.log" 2>&1; } ||
    skip "apt-get install ${pkgs[*]} failed (see $DIR/apt.log)"
fi

wait_until() { # seconds, command...
  local n=$(($1 * 10)); shift
  while [ "$n" -gt 0 ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1; n=$((n - 1))
  done
  return 1
}

# A port pair nobody listens on, below Linux's ephemeral range (32768 up),
# where the local end of some outgoing connection could hold it unseen (and
# slurmd fail "Unable to bind listen port").
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for _ in $(seq 50); do
  PORT=$((10000 + RANDOM % 22000))
  port_free "$PORT" && port_free $((PORT + 1)) && break
done

# munge: a private munged with its own socket. The socket's directory is
# searchable (0755) so that non-root submitters reach it; the key is 0400.
mkdir -p "$DIR/munge" "$DIR/state" "$DIR/spool" "$DIR/dev" || skip "cannot create directories in $DIR"
chmod 0755 "$DIR" "$DIR/munge"
KEY=$DIR/munge/munge.key
if [ -r /etc/munge/munge.key ]; then
  cp /etc/munge/munge.key "$KEY"
else
  dd if=/dev/urandom of="$KEY" bs=1024 count=1 status=none
fi
chmod 0400 "$KEY"
MSOCK=$DIR/munge/munge.socket
munged --force --socket="$MSOCK" --key-file="$KEY" --pid-file="$DIR/munge/munged.pid" \
  --log-file="$DIR/munge/munged.log" --seed-file="$DIR/munge/seed" >"$DIR/munged.out" 2>&1 ||
  skip "munged did not start: $(tail -n 2 "$DIR/munged.out" "$DIR/munge/munged.log" 2>/dev/null | tr '\n' ' ')"
wait_until 10 bash -c "munge -S '$MSOCK' -n | unmunge -S '$MSOCK'" || skip "munge does not answer on $MSOCK"

# Placeholder GPU device files: /dev/null's numbers, or plain files.
for i in 0 1 2 3 4 5 6 7; do
  [ -e "$DIR/dev/nvidia$i" ] || mknod "$DIR/dev/nvidia$i" c 1 3 2>/dev/null || touch "$DIR/dev/nvidia$i"
done

# More CPUs than the machine has (config_overrides): jobs hold one each and
# the tests run several at once.
cat >"$DIR/slurm.conf" <<EOF
ClusterName=gpuaastest
SlurmctldHost=localhost
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MSOCK
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
GresTypes=gpu
KillWait=2
MinJobAge=600
InactiveLimit=0
NodeName=localhost NodeAddr=127.0.0.1 CPUs=16 RealMemory=1000 Gres=gpu:a100:4,gpu:t4:4 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
cat >"$DIR/gres.conf" <<EOF
Name=gpu Type=a100 File=$DIR/dev/nvidia[0-3]
Name=gpu Type=t4 File=$DIR/dev/nvidia[4-7]
EOF
[ -n "$MAX_JOBS" ] && echo "MaxJobCount=$MAX_JOBS" >>"$DIR/slurm.conf"
if [ $JWT = 1 ]; then
  # The HS256 key slurmctld signs and checks tokens with: readable by the
  # SlurmUser (root) only.
  (umask 077 && dd if=/dev/urandom of="$DIR/jwt.key" bs=64 count=1 status=none) || skip "cannot write $DIR/jwt.key"
  chown root:root "$DIR/jwt.key" && chmod 0600 "$DIR/jwt.key" || skip "cannot set up $DIR/jwt.key"
  printf 'AuthAltTypes=auth/jwt\nAuthAltParameters=jwt_key=%s\n' "$DIR/jwt.key" >>"$DIR/slurm.conf"
fi
chmod 0644 "$DIR/slurm.conf" "$DIR/gres.conf"
export SLURM_CONF=$DIR/slurm.conf
echo "SLURM_CONF=$SLURM_CONF" >"$DIR/env"

slurmctld -c -f "$SLURM_CONF" >"$DIR/slurmctld.out" 2>&1 ||
  skip "slurmctld did not start: $(tail -n 3 "$DIR/slurmctld.log" 2>/dev/null | tr '\n' ' ')"
wait_until 30 bash -c 'scontrol ping | grep -q UP' ||
  skip "slurmctld does not answer: $(tail -n 3 "$DIR/slurmctld.log" 2>/dev/null | tr '\n' ' ')"
slurmd -f "$SLURM_CONF" -N localhost >"$DIR/slurmd.out" 2>&1 ||
  skip "slurmd did not start: $(tail -n 3 "$DIR/slurmd.log" 2>/dev/null | tr '\n' ' ')"
wait_until 60 bash -c 'sinfo -h -N -o %T | grep -qx idle' ||
  skip "the node did not become idle ($(sinfo -h -N -o %T 2>&1)): $(tail -n 3 "$DIR/slurmd.log" 2>/dev/null | tr '\n' ' ')"
if [ $REST = 1 ]; then
  # slurmrestd refuses root and its group; it only needs to read slurm.conf
  # and reach munge's socket and slurmctld. Only the openapi/v0.0.38 plugin:
  # the dbv0.0.* ones need slurmdbd (there is none). SLURM_JWT=daemon: its
  # own auth plugin is then auth/jwt, which takes the callers' tokens (under
  # auth/munge every request fails "Rejecting thread config token"). It
  # stays in the foreground: it runs in the background here, its pid in
  # DIR/slurmrestd.pid (for stop.sh).
  command -v setpriv >/dev/null || skip "no setpriv (util-linux) to run slurmrestd as nobody"
  getent passwd nobody >/dev/null && getent group nogroup >/dev/null || skip "no user nobody or group nogroup for slurmrestd"
  setpriv --reuid=nobody --regid=nogroup --clear-groups -- test -r "$SLURM_CONF" ||
    skip "slurmrestd runs as nobody, who cannot read $SLURM_CONF (a directory above $DIR closed to others?)"
  # A port as above; a few tries, should one be taken anyway.
  up=0
  for _ in 1 2 3 4 5; do
    RPORT=$((10000 + RANDOM % 22000))
    port_free "$RPORT" || continue
    SLURM_JWT=daemon setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
      slurmrestd -f "$SLURM_CONF" -a rest_auth/jwt -s openapi/v0.0.38 "127.0.0.1:$RPORT" \
      </dev/null >"$DIR/slurmrestd.log" 2>&1 &
    rpid=$!
    echo "$rpid" >"$DIR/slurmrestd.pid"
    for _ in $(seq 300); do
      kill -0 "$rpid" 2>/dev/null || break
      (exec 3<>"/dev/tcp/127.0.0.1/$RPORT") 2>/dev/null && { up=1; break; }
      sleep 0.1
    done
    [ $up = 1 ] && break
    kill -0 "$rpid" 2>/dev/null && break  # running, yet not listening: not a port clash
    grep -q 'Address already in use' "$DIR/slurmrestd.log" || break
  done
  [ $up = 1 ] || skip "slurmrestd does not listen on 127.0.0.1:$RPORT: $(tail -n 3 "$DIR/slurmrestd.log" 2>/dev/null | tr '\n' ' ')"
  echo "SLURMRESTD_URL=http://127.0.0.1:$RPORT" >>"$DIR/env"
  echo "slurm: slurmrestd at http://127.0.0.1:$RPORT"
fi
echo "slurm: up, SLURM_CONF=$SLURM_CONF"
