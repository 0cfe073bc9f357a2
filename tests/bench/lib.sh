# Sourced by web.sh and peers.sh: where the build and its programs are
# (GPUAAS_BUILD, default build/), and the start of a private daemon and gateway.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${GPUAAS_BUILD:-$ROOT/build}
GPUAASD=$BUILD/gpuaasd/gpuaasd
GPUCTL=$BUILD/gpuctl/gpuctl
WEB=$BUILD/gpuaas-web/gpuaas-web
BENCH=$BUILD/tests/bench/gpuaas-bench

# start_daemon (needs TMP): a private gpuaasd in TMP with the admin logged in and a large
# quota; sets DPID and TOKEN (and exports what gpuctl needs to reach it).
# start_gateway: gpuaas-web in front of it on a free port; sets WPID, ADDR, URL.

start_daemon() {
  export GPUAAS_SOCKET=$TMP/d.sock GPUAAS_TOKEN_FILE=$TMP/admin.token XDG_STATE_HOME=$TMP/xdg
  export GPUAAS_INITIAL_ADMIN_PASSWORD=bench-admin-pw
  "$GPUAASD" --socket "$GPUAAS_SOCKET" --state-dir "$TMP/state" --log-level warn --bcrypt-cost 4 \
    --gpus T4:4,A100:2 >"$TMP/daemon.log" 2>&1 &
  DPID=$!
  for _ in $(seq 200); do "$GPUCTL" ping >/dev/null 2>&1 && break; sleep 0.05; done
  "$GPUCTL" login admin --password-stdin <<<"$GPUAAS_INITIAL_ADMIN_PASSWORD" >/dev/null
  "$GPUCTL" admin quota admin --set 800000h >/dev/null
  TOKEN=$(cat "$GPUAAS_TOKEN_FILE")
}

start_gateway() {
  "$WEB" --listen 127.0.0.1:0 --socket "$GPUAAS_SOCKET" >"$TMP/web.log" 2>&1 &
  WPID=$!
  for _ in $(seq 100); do grep -q 'event=web.listening' "$TMP/web.log" 2>/dev/null && break; sleep 0.05; done
  ADDR=$(grep -o 'event=web.listening addr=[^ ]*' "$TMP/web.log" | cut -d= -f3)
  URL=http://$ADDR
}
