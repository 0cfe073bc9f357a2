#!/usr/bin/env bash
# Peer benchmark: gpuaas next to Slurm (Debian's slurm-wlm 22.05, the
# single-node test Slurm of tests/slurm) on the same machine, in one run.
#
# A. gpuaas-web next to slurmrestd, both holding A_JOBS (1,000) jobs, wrk
#    over 32 keep-alive connections, 10 s a run, in 3 rounds of
#      GET /api/v1/jobs?all=1&limit=1000  (admin bearer token: every job)
#      GET /slurm/v0.0.38/jobs            (JWT from `scontrol token`: every job)
#    requests/s, p50, p99 of each run; their medians over the rounds, and the
#    median of the rounds' gateway/slurmrestd ratios of requests/s. Then
#      GET /api/v1/jobs?limit=50          (for reference, once)
#    Both replies are counted first (python3 json): each must hold every job.
# B. Whole processes, A and B in turn, pair by pair (gpuaas-bench --exec N
#    -- A --vs B: both medians and the median of the A/B ratios), at B_JOBS
#    (10,000) jobs in each:
#      gpuctl list --all -n 10000          vs  squeue -h
#      gpuctl --json list --all -n 10000   vs  squeue --json
#      gpuctl ping                         vs  scontrol ping
#      gpuctl submit --gpu T4 --time 1h -- /bin/true  vs  sbatch --hold --wrap true
#    (the list ratios are gpuctl/squeue: 0.1 is 10x faster).
#
# The jobs: Slurm's are `sbatch --hold --wrap true` (held, pending, one job
# each: no arrays, which squeue would show as one line); gpuaasd's are
# job.submit of T4 x 1 for 1h running `true`, pending (waiting for an
# approval). gpuaasd runs the simulated executor.
#
# Needs root (Slurm), wrk, python3, and the packages slurm-wlm, munge,
# slurmrestd, slurm-wlm-jwt-plugin (tests/slurm/start.sh installs what is
# missing). Exit 77, with the reason, when Slurm or slurmrestd cannot run.
# Takes about two minutes on a 2-core machine: 70 s of wrk, 25-45 s of
# sbatch calls to reach 10,000 jobs, 40 s of squeue --json. Every daemon it
# starts (slurmrestd, munged, slurmctld, slurmd, gpuaasd, gpuaas-web) is
# stopped on exit.
#
# Usage: tests/bench/peers.sh [--smoke]   (GPUAAS_BUILD: the build dir, default build/)
#   --smoke: 50 and 200 jobs, 1 s per wrk run, 3 pairs each (about 15 s).
set -euo pipefail
. "$(dirname "$0")/lib.sh"   # ROOT, BUILD and the programs; start_daemon, start_gateway
A_JOBS=1000; B_JOBS=10000; SECS=10; ROUNDS=3; LIST_RUNS=31; JSON_RUNS=11; ONESHOT_RUNS=101
if [ "${1:-}" = "--smoke" ]; then A_JOBS=50; B_JOBS=200; SECS=1; ROUNDS=1; LIST_RUNS=3; JSON_RUNS=3; ONESHOT_RUNS=3; fi

command -v wrk >/dev/null || { echo "peers: wrk is not installed (apt-get install wrk)"; exit 77; }
command -v python3 >/dev/null || { echo "peers: python3 is not installed"; exit 77; }
for b in "$GPUAASD" "$GPUCTL" "$WEB" "$BENCH"; do [ -x "$b" ] || { echo "peers: missing $b: build first"; exit 1; }; done

TMP=$(mktemp -d /tmp/gpuaas-peers.XXXXXX)
# Slurm's own: slurmrestd runs as nobody and must reach slurm.conf there.
SLURM_DIR=$(mktemp -d /tmp/gpuaas-peers-slurm.XXXXXX)
DPID=; WPID=
cleanup() {
  set +e # a daemon that already exited must not cut the cleanup short
  [ -n "$WPID" ] && kill "$WPID" 2>/dev/null
  [ -n "$DPID" ] && kill "$DPID" 2>/dev/null
  wait 2>/dev/null
  # slurmrestd, slurmd, slurmctld, munged: by their pid files.
  bash "$ROOT/tests/slurm/stop.sh" "$SLURM_DIR" >/dev/null 2>&1
  rm -rf "$TMP" "$SLURM_DIR"
}
trap cleanup EXIT

t0=$(date +%s)
rc=0
bash "$ROOT/tests/slurm/start.sh" "$SLURM_DIR" --max-jobs 30000 --rest >"$TMP/slurm-start.out" 2>&1 || rc=$?
if [ $rc -ne 0 ]; then
  echo "peers: $(tail -n 1 "$TMP/slurm-start.out")"
  [ $rc -eq 77 ] && exit 77
  exit 1
fi
# SLURM_CONF, SLURMRESTD_URL
set -a; . "$SLURM_DIR/env"; set +a
echo "Slurm $(sinfo -V | awk '{print $2}') at $SLURM_CONF, slurmrestd at $SLURMRESTD_URL"
echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) (others' load moves every figure: read the ratios)"

start_daemon
start_gateway

slurm_jobs() { squeue -h -o %i | wc -l; }
gpuaas_jobs() { "$GPUCTL" list --all -q -n 1000000 | wc -l; }

# Slurm up to N jobs: sbatch --hold in two loops at once (two cores).
fill_slurm() {
  local need=$(($1 - $(slurm_jobs)))
  [ "$need" -gt 0 ] || return 0
  local half=$((need / 2)) ts=$(date +%s%N)
  (for _ in $(seq "$half"); do sbatch -Q --hold --wrap true; done) &
  local p=$!
  for _ in $(seq $((need - half))); do sbatch -Q --hold --wrap true; done
  wait "$p"
  echo "  Slurm: $need x sbatch --hold in $(( ($(date +%s%N) - ts) / 1000000 )) ms, now $(slurm_jobs) jobs"
}
# gpuaasd up to N jobs: job.submit pipelined on one connection.
fill_gpuaas() {
  local need=$(($1 - $(gpuaas_jobs))) ts=$(date +%s%N)
  [ "$need" -gt 0 ] || return 0
  python3 - "$GPUAAS_SOCKET" "$TOKEN" "$need" <<'PY'
import json, socket, struct, sys
path, token, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
f = s.makefile("rb")
def send(i):
    req = {"v": 1, "id": i, "op": "job.submit", "token": token,
           "args": {"gpu_type": "T4", "time_limit": 3600, "name": "wrap", "command": ["true"]}}
    data = json.dumps(req).encode()
    s.sendall(struct.pack(">I", len(data)) + data)
sent = got = 0
while got < n:
    while sent < n and sent - got < 100:  # under the daemon's in-flight cap
        send(sent); sent += 1
    (size,) = struct.unpack(">I", f.read(4))
    reply = json.loads(f.read(size))
    if not reply.get("ok"):
        sys.exit("job.submit: %s" % reply)
    got += 1
PY
  echo "  gpuaasd: $need x job.submit (pipelined) in $(( ($(date +%s%N) - ts) / 1000000 )) ms, now $(gpuaas_jobs) jobs"
}

# The JSON reply's job count: a top-level list, or the list under "jobs".
count_jobs() {
  python3 -c 'import json, sys
d = json.load(sys.stdin)
print(len(d if isinstance(d, list) else d["jobs"]))'
}
# wrk's report as "req/s=N p50=X p99=Y" (milliseconds); non-2xx, errors and
# timeouts when there were any.
summary() {
  awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0;
                        if (v ~ /m$/) return v * 60000; if (v ~ /s$/) return v * 1000; return v }
       /Requests\/sec/ {rps=$2} /^ +50%/ {p50=ms($2)} /^ +99%/ {p99=ms($2)} / requests in / {n=$1}
       /Non-2xx/ {bad=$NF} /Socket errors/ {err=$0; sub(/^ +/, "", err)}
       END {printf "req/s=%s p50=%.2fms p99=%.2fms requests=%s%s%s\n", rps, p50, p99, n,
                   bad ? " non-2xx=" bad : "", err ? " (" err ")" : ""}'
}

echo "== A. gpuaas-web vs slurmrestd: wrk, 32 keep-alive connections, ${SECS}s a run, rounds: $ROUNDS, $A_JOBS jobs in each"
fill_slurm "$A_JOBS"
fill_gpuaas "$A_JOBS"
JWT=$(scontrol token lifespan=3600 | sed -n 's/^SLURM_JWT=//p')
[ -n "$JWT" ] || { echo "peers: scontrol token gave no SLURM_JWT"; exit 1; }
SLURM_HDR=(-H "X-SLURM-USER-NAME: root" -H "X-SLURM-USER-TOKEN: $JWT")
GW_HDR=(-H "Authorization: Bearer $TOKEN")
GW_ALL="$URL/api/v1/jobs?all=1&limit=$A_JOBS"
GW_50="$URL/api/v1/jobs?limit=50"
REST_ALL="$SLURMRESTD_URL/slurm/v0.0.38/jobs"
# What each side answers, before any timing: every job, in bytes.
curl -sf "${SLURM_HDR[@]}" "$REST_ALL" -o "$TMP/rest.json" || { echo "peers: slurmrestd: GET $REST_ALL failed"; exit 1; }
curl -sf "${GW_HDR[@]}" "$GW_ALL" -o "$TMP/gw.json" || { echo "peers: gpuaas-web: GET $GW_ALL failed"; exit 1; }
n_rest=$(count_jobs <"$TMP/rest.json"); n_gw=$(count_jobs <"$TMP/gw.json")
echo "  replies: slurmrestd $n_rest jobs in $(wc -c <"$TMP/rest.json") bytes (errors: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["errors"])' "$TMP/rest.json")); gateway $n_gw jobs in $(wc -c <"$TMP/gw.json") bytes"
[ "$n_rest" -eq "$A_JOBS" ] && [ "$n_gw" -eq "$A_JOBS" ] ||
  { echo "peers: a reply does not hold the $A_JOBS jobs (slurmrestd $n_rest, gateway $n_gw)"; exit 1; }
WRK=(wrk -t2 -c32 -d"${SECS}s" --timeout 60s --latency)
# Rounds, gateway then slurmrestd in each; the ratio is taken round by round
# (as the pairs below: drift in the machine's speed cancels).
field() { sed -n "s|.*$1=\([0-9.]*\).*|\1|p"; }
median() { sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
gw_rps=(); gw_p50=(); gw_p99=(); re_rps=(); re_p50=(); re_p99=(); ratios=()
for r in $(seq "$ROUNDS"); do
  gw=$("${WRK[@]}" "${GW_HDR[@]}" "$GW_ALL" | summary)
  re=$("${WRK[@]}" "${SLURM_HDR[@]}" "$REST_ALL" | summary)
  ratio=$(awk -v a="$(field 'req/s' <<<"$gw")" -v b="$(field 'req/s' <<<"$re")" \
    'BEGIN {if (b > 0) printf "%.1f", a / b; else print 0}')
  echo "  round $r: gateway $gw"
  echo "           slurmrestd $re"
  echo "           ratio ${ratio}x"
  gw_rps+=("$(field 'req/s' <<<"$gw")"); gw_p50+=("$(field p50 <<<"$gw")"); gw_p99+=("$(field p99 <<<"$gw")")
  re_rps+=("$(field 'req/s' <<<"$re")"); re_p50+=("$(field p50 <<<"$re")"); re_p99+=("$(field p99 <<<"$re")")
  ratios+=("$ratio")
done
med() { printf '%s\n' "$@" | median; }
echo "  gateway    GET /api/v1/jobs?all=1&limit=$A_JOBS, median of the rounds: req/s=$(med "${gw_rps[@]}") p50=$(med "${gw_p50[@]}")ms p99=$(med "${gw_p99[@]}")ms"
echo "  slurmrestd GET /slurm/v0.0.38/jobs,             median of the rounds: req/s=$(med "${re_rps[@]}") p50=$(med "${re_p50[@]}")ms p99=$(med "${re_p99[@]}")ms"
echo "  ratio gateway/slurmrestd req/s (median of the rounds' ratios): $(med "${ratios[@]}")x (goal: at least 20x; p99 under 10 ms)"
echo "  gateway    GET /api/v1/jobs?limit=50 (reference): $("${WRK[@]}" "${GW_HDR[@]}" "$GW_50" | summary)"

echo "== B. whole processes, in turn, pair by pair, $B_JOBS jobs in each"
fill_slurm "$B_JOBS"
fill_gpuaas "$B_JOBS"
rows_ctl=$("$GPUCTL" list --all -n "$B_JOBS" | wc -l); rows_sq=$(squeue -h | wc -l)
json_ctl=$("$GPUCTL" --json list --all -n "$B_JOBS" | count_jobs); json_sq=$(squeue --json | count_jobs)
echo "  rows: gpuctl list $rows_ctl lines (a header and $B_JOBS jobs), squeue -h $rows_sq; --json: gpuctl $json_ctl jobs, squeue $json_sq jobs"
[ "$json_ctl" -eq "$B_JOBS" ] && [ "$json_sq" -eq "$B_JOBS" ] ||
  { echo "peers: a --json list does not hold the $B_JOBS jobs (gpuctl $json_ctl, squeue $json_sq)"; exit 1; }
# "exec=A ... a_p50_ms=X b_p50_ms=Y ratio_p50=R" -> "gpuctl X ms, Slurm Y ms, ratio R (1/R x faster)".
pair() { # label runs A... --vs B...
  local label=$1 runs=$2; shift 2
  "$BENCH" --exec "$runs" -- "$@" | awk -v l="$label" -v runs="$runs" '{
    for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "  %-44s gpuctl p50 %8.2f ms   Slurm p50 %8.2f ms   ratio p50 %.3f (%.1fx faster)  runs=%d failures=%s\n",
      l, v["a_p50_ms"], v["b_p50_ms"], v["ratio_p50"], (v["ratio_p50"] > 0 ? 1 / v["ratio_p50"] : 0), runs, v["failures"] }'
}
pair "list --all -n $B_JOBS vs squeue -h" "$LIST_RUNS" \
  "$GPUCTL" list --all -n "$B_JOBS" --vs squeue -h
pair "--json list --all -n $B_JOBS vs squeue --json" "$JSON_RUNS" \
  "$GPUCTL" --json list --all -n "$B_JOBS" --vs squeue --json
pair "ping vs scontrol ping" "$ONESHOT_RUNS" \
  "$GPUCTL" ping --vs scontrol ping
pair "submit --gpu T4 --time 1h vs sbatch --hold" "$ONESHOT_RUNS" \
  "$GPUCTL" submit --gpu T4 --time 1h -- /bin/true --vs sbatch --hold --wrap true
echo "  (goal: list and --json list at least 10x faster than squeue)"
echo "done in $(($(date +%s) - t0)) s, load average $(cut -d' ' -f1-3 /proc/loadavg)"
