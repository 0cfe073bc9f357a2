#!/usr/bin/env bash
# Installs what is missing, builds, and starts gpuaasd with the embedded
# defaults (simulated executor, inventory A100:2,V100:2,T4:4, SQLite in a
# local state dir) and the web gateway in front of it, then prints the
# gateway's URL and how to log in.
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
WEB_LOG=$RUN/gpuaas-web.log
if [ -f "$RUN/gpuaas-web.pid" ] && kill -0 "$(cat "$RUN/gpuaas-web.pid")" 2>/dev/null; then
  echo "gpuaas-web is already running (pid $(cat "$RUN/gpuaas-web.pid"))"
else
  : >"$WEB_LOG"
  for listen in "127.0.0.1:${GPUAAS_WEB_PORT:-8080}" 127.0.0.1:0; do # 8080, or any free port when it is taken
    setsid "$ROOT/build/gpuaas-web/gpuaas-web" --listen "$listen" --socket "$SOCK" --web-root "$ROOT/web" >>"$WEB_LOG" 2>&1 </dev/null &
    echo $! >"$RUN/gpuaas-web.pid"
    for _ in $(seq 50); do
      grep -q 'event=web.listening' "$WEB_LOG" && break 2
      kill -0 "$(cat "$RUN/gpuaas-web.pid")" 2>/dev/null || break
      sleep 0.1
    done
  done
  grep -q 'event=web.listening' "$WEB_LOG" || { echo "gpuaas-web failed to start:"; tail "$WEB_LOG"; exit 1; }
fi
WEB_URL=http://$(grep -o 'event=web.listening addr=[^ ]*' "$WEB_LOG" | tail -1 | cut -d= -f3)
echo "gpuaas-web: $WEB_URL (REST API under $WEB_URL/api/v1, metrics $WEB_URL/metrics); log: $WEB_LOG"
cat <<EOT

Log in as the initial admin:

  export GPUAAS_SOCKET=$SOCK PATH=$ROOT/build/gpuctl:\$PATH
  gpuctl login admin --password-stdin < $RUN/state/initial-admin-password
  gpuctl whoami

The web gateway: $WEB_URL

Stop it with: kill \$(cat $RUN/gpuaas-web.pid) \$(cat $RUN/gpuaasd.pid)
EOT
