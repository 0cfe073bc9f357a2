#!/usr/bin/env bash
# gpuaas-web benchmark (a benchmark, not a timed test). Starts a private
# gpuaasd and gpuaas-web and measures with wrk (Debian package wrk):
#   - GET /api/v1/jobs?limit=50 and POST /api/v1/jobs over 32 keep-alive
#     connections: requests/s, p50, p99;
#   - the gateway's added latency: the median of one connection's sequential
#     GET /api/v1/jobs?all=1&limit=50 through the gateway minus the same
#     job.list straight on the socket (gpuaas-bench --op list --conns 1),
#     in alternating rounds, median of the differences;
#   - the gateway's RSS with 2,000 idle connections open.
# Usage: tests/bench/web.sh [--smoke]   (GPUAAS_BUILD: the build dir, default build/)
set -euo pipefail
. "$(dirname "$0")/lib.sh"   # ROOT, BUILD and the programs; start_daemon, start_gateway
SECS=5; ROUNDS=5; SEED=0.5
if [ "${1:-}" = "--smoke" ]; then SECS=1; ROUNDS=1; SEED=0.1; fi
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 77; }
for b in "$GPUAASD" "$GPUCTL" "$WEB" "$BENCH"; do [ -x "$b" ] || { echo "missing $b: build first"; exit 1; }; done

TMP=$(mktemp -d /tmp/gpuaas-web-bench.XXXXXX)
DPID=; WPID=
cleanup() {
  [ -n "$WPID" ] && kill "$WPID" 2>/dev/null
  [ -n "$DPID" ] && kill "$DPID" 2>/dev/null
  wait 2>/dev/null; rm -rf "$TMP"
}
trap cleanup EXIT
start_daemon
"$BENCH" -s "$GPUAAS_SOCKET" -t "$TOKEN" --op submit --conns 4 --seconds "$SEED" >/dev/null  # jobs to list
start_gateway
echo "jobs in the database: $("$GPUCTL" list --all -q -n 1000000 | wc -l); gateway at $URL"

# wrk's summary as "req/s=N p50=X p99=Y".
summary() {
  awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} /Non-2xx/ {bad=$NF}
       END {printf "req/s=%s p50=%s p99=%s%s\n", rps, p50, p99, bad ? " non-2xx=" bad : ""}'
}
# wrk's median latency in microseconds.
p50_us() {
  awk '/^ +50%/ {v=$2; if (v ~ /us$/) {sub(/us/,"",v); print v+0} else if (v ~ /ms$/) {sub(/ms/,"",v); print v*1000}
       else if (v ~ /s$/) {sub(/s/,"",v); print v*1000000}}'
}
cat >"$TMP/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"gpu_type":"T4","time_limit":60,"name":"bench"}'
wrk.headers["Content-Type"] = "application/json"
LUA
AUTH="Authorization: Bearer $TOKEN"

echo "GET  /api/v1/jobs?limit=50, 32 connections, ${SECS}s: $(wrk -t2 -c32 -d"${SECS}s" --latency -H "$AUTH" \
  "$URL/api/v1/jobs?limit=50" | summary)"
echo "POST /api/v1/jobs,          32 connections, ${SECS}s: $(wrk -t2 -c32 -d"${SECS}s" --latency -H "$AUTH" \
  -s "$TMP/post.lua" "$URL/api/v1/jobs" | summary)"
echo "direct job.list (all, 50),  32 connections, ${SECS}s: $("$BENCH" -s "$GPUAAS_SOCKET" -t "$TOKEN" --op list \
  --conns 32 --seconds "$SECS")"

diffs=()
for r in $(seq "$ROUNDS"); do
  via=$(wrk -t1 -c1 -d"${SECS}s" --latency -H "$AUTH" "$URL/api/v1/jobs?all=1&limit=50" | p50_us)
  direct=$("$BENCH" -s "$GPUAAS_SOCKET" -t "$TOKEN" --op list --conns 1 --seconds "$SECS" |
    grep -o 'p50_ms=[0-9.]*' | cut -d= -f2)
  d=$(awk -v a="$via" -v b="$direct" 'BEGIN {printf "%.0f", a - b * 1000}')
  echo "  round $r: through the gateway p50 ${via}us, direct p50 $(awk -v b="$direct" 'BEGIN {printf "%.0f", b*1000}')us, added ${d}us"
  diffs+=("$d")
done
echo "added latency (median of $ROUNDS rounds): $(printf '%s\n' "${diffs[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')us"

# 2,000 idle connections, then the gateway's resident memory.
/usr/bin/env python3 - "$ADDR" "$WPID" <<'PY'
import http.client, re, resource, socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
def open_connections():
    c = http.client.HTTPConnection(host, int(port), timeout=5)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    c.close()
    return int(re.search(r"\ngpuaas_http_connections (\d+)\n", text).group(1))
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
def rss():
    with open("/proc/%s/status" % sys.argv[2]) as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS"))
before = rss()
socks = [socket.create_connection((host, int(port))) for _ in range(2000)]
deadline = time.monotonic() + 10
while open_connections() < 2000 and time.monotonic() < deadline:
    time.sleep(0.1)
print("gateway RSS: %d KiB before, %d KiB with %d connections open (2,000 idle)" % (before, rss(), open_connections()))
for s in socks:
    s.close()
PY
