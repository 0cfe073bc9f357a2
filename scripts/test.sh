#!/usr/bin/env bash
# The whole test suite: installs missing packages, builds a normal and an
# ASan+UBSan build, runs the cmocka unit tests and the end-to-end tests
# against both, and ends with one line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
bash scripts/deps.sh || { echo "dependency install failed"; echo "0 passed, 1 failed"; exit 1; }

PY=/usr/bin/python3   # Debian's python3 with python3-pytest, whatever else is on PATH
OUT=$ROOT/build-test-results
rm -rf "$OUT"; mkdir -p "$OUT"
passed=0; failed=0; skipped=0

build() { # dir, extra meson args...
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >"$OUT/$(basename "$dir")-setup.log" 2>&1 || return 1
  fi
  ninja -C "$dir" >"$OUT/$(basename "$dir")-build.log" 2>&1
}

unit() { # build dir, label
  local dir=$1 label=$2 t
  for t in "$dir"/tests/unit/test_*; do
    [ -x "$t" ] && [ -f "$t" ] || continue
    local log="$OUT/$label-$(basename "$t").tap"
    CMOCKA_MESSAGE_OUTPUT=TAP "$t" >"$log" 2>&1
    local rc=$? ok nok
    ok=$(grep -c '^ok ' "$log"); nok=$(grep -c '^not ok ' "$log")
    if [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ]; then nok=1; fi   # crashed before reporting
    passed=$((passed + ok)); failed=$((failed + nok))
    [ "$nok" -gt 0 ] && { echo "FAILED unit ($label): $(basename "$t")"; grep -A3 '^not ok' "$log" | head -20; }
  done
}

e2e() { # build dir, label, extra pytest args...
  local dir=$1 label=$2; shift 2
  local xml="$OUT/$label-e2e.xml"
  GPUAAS_SCREENSHOTS="$OUT/$label-screenshots" GPUAAS_BUILD="$ROOT/$dir" timeout 1800 $PY -m pytest -q -p no:cacheprovider --junitxml="$xml" "$@" \
    tests/e2e >"$OUT/$label-e2e.log" 2>&1
  local rc=$?
  if [ ! -f "$xml" ]; then
    echo "FAILED e2e ($label): pytest produced no report (rc=$rc)"; tail -30 "$OUT/$label-e2e.log"
    failed=$((failed + 1)); return
  fi
  read -r t f e s < <($PY - "$xml" <<'PYEOF'
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
suites = [r] if r.tag == "testsuite" else list(r)
g = lambda k: sum(int(x.get(k, 0)) for x in suites)
print(g("tests"), g("failures"), g("errors"), g("skipped"))
PYEOF
)
  passed=$((passed + t - f - e - s)); failed=$((failed + f + e)); skipped=$((skipped + s))
  if [ $((f + e)) -gt 0 ] || { [ "$rc" -ne 0 ] && [ "$rc" -ne 5 ]; }; then
    echo "FAILED e2e ($label): $f failures, $e errors (rc=$rc)"; grep -E '^(FAILED|ERROR) ' "$OUT/$label-e2e.log" | head -40
    [ $((f + e)) -eq 0 ] && failed=$((failed + 1))
  fi
  echo "e2e ($label): $t tests, $f failed, $e errors, $s skipped"
}

if build build -Dbuildtype=debugoptimized; then
  unit build release
  e2e build release
else
  echo "FAILED: build (see $OUT/build-build.log)"; tail -30 "$OUT/build-build.log"; failed=$((failed + 1))
fi

# The same suites against AddressSanitizer + UndefinedBehaviorSanitizer: any
# report fails the test that triggered it (the e2e harness reads the daemon's log).
if build build-asan -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false; then
  export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  unit build-asan asan
  e2e build-asan asan
else
  echo "FAILED: ASan build (see $OUT/build-asan-build.log)"; tail -30 "$OUT/build-asan-build.log"; failed=$((failed + 1))
fi

# libFuzzer targets, each for FUZZ_SECONDS (default 60): a crash, leak or
# sanitizer report fails.
while read -r line; do
  echo "$line"
  case "$line" in
    "fuzz "*": ok"*) passed=$((passed + 1)) ;;
    "fuzz "*) failed=$((failed + 1)) ;;
  esac
done < <(FUZZ_OUT="$OUT" bash scripts/fuzz.sh 2>&1)

# The Docker image, for real (an engine is started by hand when none runs;
# when none can start, the test says so and counts as skipped, not passed).
bash tests/docker/run.sh >"$OUT/docker.log" 2>&1
rc=$?
last=$(tail -n 1 "$OUT/docker.log")
echo "$last"
case $rc in
  0) passed=$((passed + 1)) ;;
  77) skipped=$((skipped + 1)) ;;
  *) failed=$((failed + 1)); tail -n 30 "$OUT/docker.log" ;;
esac

# Benchmark smoke run (a benchmark, not a timed test: it only has to work).
if [ -x build/tests/bench/gpuaas-bench ]; then
  if GPUAAS_BUILD="$ROOT/build" bash tests/bench/run.sh --smoke >"$OUT/bench-smoke.log" 2>&1; then
    passed=$((passed + 1)); echo "bench smoke: ok"
  else
    failed=$((failed + 1)); echo "FAILED bench smoke"; tail -20 "$OUT/bench-smoke.log"
  fi
fi

echo "logs: $OUT"
[ "$skipped" -gt 0 ] && echo "($skipped skipped)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
