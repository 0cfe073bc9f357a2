#!/usr/bin/env bash
# Benchmark driver: starts a real gpuaasd in a temporary dir and measures
#   - requests/s and p50/p99 latency for ping, whoami, submit, list (50 rows)
#     and approve over 32 concurrent connections;
#   - simulated job starts/s with many approved jobs waiting for GPUs;
#   - whole-process gpuctl submit, and gpuctl list --all -n 10000 (table, --json);
#   - each one-shot gpuctl command side by side with the floor: gpuaas-floor
#     (floor.c), the least a client process can do for the same request
#     (ratio_p50 = gpuctl / floor, pair by pair; the goal is at most 1.2);
#   - at 1,000,000 jobs: list p99, submit rate, daemon RSS.
# --smoke: a few seconds in all (CI runs this to keep it working).
# Figures are medians of several runs where that matters; the machines are
# shared and noisy, so compare ratios, not single numbers.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${GPUAAS_BUILD:-$ROOT/build}
BENCH=$BUILD/tests/bench/gpuaas-bench
GPUAASD=$BUILD/gpuaasd/gpuaasd
GPUCTL=$BUILD/gpuctl/gpuctl
FLOOR=$BUILD/tests/bench/gpuaas-floor
SMOKE=0; [ "${1:-}" = "--smoke" ] && SMOKE=1
SECS=3; CONNS=32; SCALE_ROWS=1000000; EXEC_RUNS=200
if [ $SMOKE = 1 ]; then SECS=0.3; CONNS=4; SCALE_ROWS=20000; EXEC_RUNS=10; fi

TMP=$(mktemp -d /tmp/gpuaas-bench.XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
export GPUAAS_SOCKET=$TMP/s.sock GPUAAS_TOKEN_FILE=$TMP/admin.token XDG_STATE_HOME=$TMP/xdg
export GPUAAS_INITIAL_ADMIN_PASSWORD=bench-admin

start() { # extra daemon args...
  "$GPUAASD" --socket "$GPUAAS_SOCKET" --state-dir "$TMP/state" --log-level warn "$@" >>"$TMP/daemon.log" 2>&1 &
  PID=$!
  for _ in $(seq 200); do "$GPUCTL" gpus >/dev/null 2>&1 && return; \
    [ -S "$GPUAAS_SOCKET" ] && "$BENCH" -s "$GPUAAS_SOCKET" --op ping --conns 1 --seconds 0.01 >/dev/null 2>&1 && return; sleep 0.05; done
  echo "daemon did not start"; cat "$TMP/daemon.log"; exit 1
}
stop() { kill "$PID"; wait "$PID" || true; PID=; }
rss_kib() { awk '/VmRSS/ {print $2}' /proc/$PID/status; }
ms() { echo "$(( ($2 - $1) / 1000000 ))"; }

start --gpus T4:4,A100:2 --sim-time-scale 0.000001
t0=$(date +%s%N)
"$GPUCTL" login admin --password-stdin <<<"bench-admin" >/dev/null
t1=$(date +%s%N)
echo "login (bcrypt cost 12, whole gpuctl process): $(ms $t0 $t1) ms"
"$GPUCTL" admin quota admin --set 800000h >/dev/null
TOKEN=$(cat "$GPUAAS_TOKEN_FILE")

for op in ping whoami submit list; do
  "$BENCH" -s "$GPUAAS_SOCKET" -t "$TOKEN" --op "$op" --conns "$CONNS" --seconds "$SECS"
done
sqlite3 "file:$TMP/state/gpuaas.db?mode=ro" "SELECT id FROM jobs WHERE status = 'PENDING' ORDER BY id LIMIT 20000" >"$TMP/pending"
"$BENCH" -s "$GPUAAS_SOCKET" -t "$TOKEN" --op approve --conns "$CONNS" --seconds 60 --ids "$TMP/pending"
# Let those drain, then the scheduler figure: many approved jobs, few GPUs.
"$GPUCTL" wait "$(tail -n1 "$TMP/pending")" --timeout 120s >/dev/null || true
N=$([ $SMOKE = 1 ] && echo 500 || echo 20000)
sqlite3 "file:$TMP/state/gpuaas.db?mode=ro" "SELECT id FROM jobs WHERE status = 'PENDING' ORDER BY id LIMIT $N" >"$TMP/starts"
"$BENCH" -s "$GPUAAS_SOCKET" -t "$TOKEN" --op starts --ids "$TMP/starts"
stop

# 10,000 jobs in the database: whole-process gpuctl figures.
rm -rf "$TMP/state"
start --sim-time-scale 1
"$GPUCTL" login admin --password-stdin <<<"bench-admin" >/dev/null
"$GPUCTL" admin quota admin --set 800000h >/dev/null
TOKEN=$(cat "$GPUAAS_TOKEN_FILE")
"$BENCH" -s "$GPUAAS_SOCKET" -t "$TOKEN" --op submit --conns 8 --seconds 2 >/dev/null
"$BENCH" --exec "$EXEC_RUNS" -- "$GPUCTL" submit --gpu T4 --time 60s
"$BENCH" --exec "$EXEC_RUNS" -- "$GPUCTL" list --all -n 10000
"$BENCH" --exec "$EXEC_RUNS" -- "$GPUCTL" --json list --all -n 10000
# One-shot commands against the floor client doing the same request.
S=$GPUAAS_SOCKET
JOB=$("$GPUCTL" submit --gpu T4 --time 60s)
"$BENCH" --exec "$EXEC_RUNS" -- "$GPUCTL" ping --vs "$FLOOR" "$S" sys.ping
"$BENCH" --exec "$EXEC_RUNS" -- "$GPUCTL" whoami --vs "$FLOOR" "$S" auth.whoami
"$BENCH" --exec "$EXEC_RUNS" -- "$GPUCTL" quota --vs "$FLOOR" "$S" quota.get
"$BENCH" --exec "$EXEC_RUNS" -- "$GPUCTL" show "$JOB" --vs "$FLOOR" "$S" job.get "{\"id\":$JOB}"
"$BENCH" --exec "$EXEC_RUNS" -- "$GPUCTL" gpus --vs "$FLOOR" "$S" gpu.list
"$BENCH" --exec "$EXEC_RUNS" -- "$GPUCTL" submit --gpu T4 --time 60s \
  --vs "$FLOOR" "$S" job.submit '{"gpu_type":"T4","time_limit":60}'
"$BENCH" --exec "$EXEC_RUNS" -- "$GPUCTL" list -n 20 --vs "$FLOOR" "$S" job.list '{"limit":21,"brief":true}'
stop

# Scale: fill to SCALE_ROWS jobs directly in SQLite (the protocol path was
# measured above), restart, and measure list/submit at that size.
echo "filling the database to $SCALE_ROWS jobs..."
sqlite3 "$TMP/state/gpuaas.db" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $SCALE_ROWS - (SELECT count(*) FROM jobs))
INSERT INTO jobs(owner_id, name, gpu_type, gpu_count, time_limit, status, reason, created_at, finished_at,
                 charged_seconds)
SELECT 1, 'filler', 'T4', 1, 60, 'CANCELLED', 'cancelled by admin', 1790000000 + i, 1790000000 + i, 0 FROM n;
SQL
start --sim-time-scale 1
echo "jobs in database: $(sqlite3 "file:$TMP/state/gpuaas.db?mode=ro" 'SELECT count(*) FROM jobs')"
"$BENCH" -s "$GPUAAS_SOCKET" -t "$TOKEN" --op list --conns "$CONNS" --seconds "$SECS"
"$BENCH" -s "$GPUAAS_SOCKET" -t "$TOKEN" --op submit --conns "$CONNS" --seconds "$SECS"
"$BENCH" -s "$GPUAAS_SOCKET" -t "$TOKEN" --op list --conns 1 --seconds "$SECS"
echo "daemon RSS at $SCALE_ROWS+ jobs: $(rss_kib) KiB"
stop
