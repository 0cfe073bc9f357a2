#!/usr/bin/env bash
# Installs what is missing, builds, and starts gpuaasd with the embedded
# defaults (simulated executor, inventory A100:2,V100:2,T4:4, SQLite in a
# local state dir), then prints how to log in.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
bash scripts/deps.sh
[ -f build/build.ninja ] || meson setup build -Dbuildtype=debugoptimized >/dev/null
ninja -C build >/dev/null

RUN=$ROOT/.gpuaas
mkdir -p "$RUN"
chmod 700 "$RUN"
SOCK=$RUN/gpuaasd.sock
if [ -f "$RUN/gpuaasd.pid" ] && kill -0 "$(cat "$RUN/gpuaasd.pid")" 2>/dev/null; then
  echo "gpuaasd is already running (pid $(cat "$RUN/gpuaasd.pid"))"
else
  setsid "$ROOT/build/gpuaasd/gpuaasd" --socket "$SOCK" --state-dir "$RUN/state" \
    >>"$RUN/gpuaasd.log" 2>&1 < /dev/null &
  echo $! >"$RUN/gpuaasd.pid"
  for _ in $(seq 100); do
    [ -S "$SOCK" ] && break
    kill -0 "$(cat "$RUN/gpuaasd.pid")" 2>/dev/null || { echo "gpuaasd failed to start:"; tail "$RUN/gpuaasd.log"; exit 1; }
    sleep 0.1
  done
  echo "gpuaasd started (pid $(cat "$RUN/gpuaasd.pid")); log: $RUN/gpuaasd.log"
fi
cat <<EOT

Log in as the initial admin:

  export GPUAAS_SOCKET=$SOCK PATH=$ROOT/build/gpuctl:\$PATH
  gpuctl login admin --password-stdin < $RUN/state/initial-admin-password
  gpuctl whoami

Stop it with: kill \$(cat $RUN/gpuaasd.pid)
EOT
