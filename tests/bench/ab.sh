#!/usr/bin/env bash
# Two builds side by side, alternating A, B, A, B... in one run, so that the
# machine's noise falls on both (a benchmark, not a test):
#   - durable job.submit over 32 connections on an empty database: requests/s
#     and the daemon's CPU time (user + system) per submit;
#   - at ROWS jobs (default 1,000,000, filled straight into SQLite, as in
#     run.sh): job.list (50 rows) p50/p99 and job.submit requests/s over 32
#     connections, and the daemon's RSS.
# Prints each round, then the medians of A and B and the ratio B/A.
# Usage: tests/bench/ab.sh BUILD_A BUILD_B [PAIRS] [ROWS]
#   e.g. git worktree add /tmp/base <commit> && meson setup /tmp/base/build
#   -Dbuildtype=debugoptimized /tmp/base && ninja -C /tmp/base/build, then
#   tests/bench/ab.sh /tmp/base/build build
set -euo pipefail
A=$(cd "${1:?usage: ab.sh BUILD_A BUILD_B [PAIRS] [ROWS]}" && pwd)
B=$(cd "${2:?usage: ab.sh BUILD_A BUILD_B [PAIRS] [ROWS]}" && pwd)
PAIRS=${3:-5}; ROWS=${4:-1000000}; SECS=3; CONNS=32
BENCH=$B/tests/bench/gpuaas-bench   # one client for both sides
for b in "$A" "$B"; do [ -x "$b/gpuaasd/gpuaasd" ] || { echo "missing $b/gpuaasd/gpuaasd: build first"; exit 1; }; done

TMP=$(mktemp -d /tmp/gpuaas-ab.XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
export GPUAAS_INITIAL_ADMIN_PASSWORD=ab-admin-pw

start() { # build, dir
  export GPUAAS_SOCKET=$2/s.sock GPUAAS_TOKEN_FILE=$2/admin.token XDG_STATE_HOME=$2/xdg
  "$1/gpuaasd/gpuaasd" --socket "$GPUAAS_SOCKET" --state-dir "$2/state" --log-level warn --bcrypt-cost 4 \
    --gpus T4:4,A100:2 >>"$2/daemon.log" 2>&1 &
  PID=$!
  for _ in $(seq 400); do "$1/gpuctl/gpuctl" ping >/dev/null 2>&1 && return; sleep 0.05; done
  echo "daemon did not start"; cat "$2/daemon.log"; exit 1
}
stop() { kill "$PID"; wait "$PID" || true; PID=; }
login() { # build
  "$1/gpuctl/gpuctl" login admin --password-stdin <<<"$GPUAAS_INITIAL_ADMIN_PASSWORD" >/dev/null
  "$1/gpuctl/gpuctl" admin quota admin --set 800000h >/dev/null
}
field() { grep -o "$1=[0-9.]*" | cut -d= -f2; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }

submit_round() { # build, label
  local d=$TMP/submit-$2; rm -rf "$d"; mkdir -p "$d"
  start "$1" "$d"; login "$1"
  local c0 out c1 n
  c0=$(cpu_ticks)
  out=$("$BENCH" -s "$GPUAAS_SOCKET" -t "$(cat "$GPUAAS_TOKEN_FILE")" --op submit --conns $CONNS --seconds $SECS)
  c1=$(cpu_ticks)
  n=$(sqlite3 "file:$d/state/gpuaas.db?mode=ro" "SELECT count(*) FROM jobs")
  stop
  echo "$2 submit rps=$(field rps <<<"$out") cpu_us_per_submit=$(( (c1 - c0) * 1000000 / $(getconf CLK_TCK) / n ))"
}

scale_prepare() { # build, label
  local d=$TMP/scale-$2; mkdir -p "$d"
  start "$1" "$d"; login "$1"; stop
  sqlite3 "$d/state/gpuaas.db" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS)
INSERT INTO jobs(owner_id, name, gpu_type, gpu_count, time_limit, status, reason, created_at, finished_at,
                 charged_seconds)
SELECT 1, 'filler', 'T4', 1, 60, 'CANCELLED', 'cancelled by admin', 1790000000 + i, 1790000000 + i, 0 FROM n;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
  cp -a "$d/state" "$d/state.filled"
}

scale_round() { # build, label
  local d=$TMP/scale-$2
  rm -rf "$d/state"; cp -a "$d/state.filled" "$d/state"
  start "$1" "$d"
  local tok l s
  tok=$(cat "$GPUAAS_TOKEN_FILE")
  l=$("$BENCH" -s "$GPUAAS_SOCKET" -t "$tok" --op list --conns $CONNS --seconds $SECS)
  s=$("$BENCH" -s "$GPUAAS_SOCKET" -t "$tok" --op submit --conns $CONNS --seconds $SECS)
  echo "$2 scale list_p50_ms=$(field p50_ms <<<"$l") list_p99_ms=$(field p99_ms <<<"$l")" \
    "submit_rps=$(field rps <<<"$s") rss_kib=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")"
  stop
}

median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
summary() { # file, kind, field
  local a b
  a=$(grep "^A $2 " "$1" | field "$3" | median); b=$(grep "^B $2 " "$1" | field "$3" | median)
  awk -v k="$2 $3" -v a="$a" -v b="$b" 'BEGIN {printf "median %-28s A=%-10s B=%-10s B/A=%.2f\n", k, a, b, (a > 0 ? b / a : 0)}'
}

echo "A=$A"; echo "B=$B"; echo "pairs=$PAIRS rows=$ROWS seconds=$SECS conns=$CONNS"
for _ in $(seq "$PAIRS"); do submit_round "$A" A; submit_round "$B" B; done | tee "$TMP/rounds"
echo "filling both databases to $ROWS jobs..."
scale_prepare "$A" A; scale_prepare "$B" B
for _ in $(seq "$PAIRS"); do scale_round "$A" A; scale_round "$B" B; done | tee -a "$TMP/rounds"
summary "$TMP/rounds" submit rps
summary "$TMP/rounds" submit cpu_us_per_submit
summary "$TMP/rounds" scale list_p50_ms
summary "$TMP/rounds" scale list_p99_ms
summary "$TMP/rounds" scale submit_rps
summary "$TMP/rounds" scale rss_kib
