#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each for
# FUZZ_SECONDS (default 60) on a copy of its seed corpus in tests/fuzz/corpus.
# Any crash, leak or sanitizer report fails. Prints one line per target:
# "fuzz TARGET: ok, N executions" or "fuzz TARGET: FAILED".
set -uo pipefail
cd "$(dirname "$0")/.."
SECS=${FUZZ_SECONDS:-60}
OUT=${FUZZ_OUT:-build-test-results}
mkdir -p "$OUT"
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang meson setup build-fuzz -Dfuzz=true -Dtests=false -Db_sanitize=address,undefined -Db_lundef=false \
    -Dbuildtype=debugoptimized >"$OUT/fuzz-setup.log" 2>&1 || { echo "fuzz setup: FAILED"; tail "$OUT/fuzz-setup.log"; exit 1; }
fi
ninja -C build-fuzz >"$OUT/fuzz-build.log" 2>&1 || { echo "fuzz build: FAILED"; tail -20 "$OUT/fuzz-build.log"; exit 1; }
rc=0
for t in frame duration config dispatch web; do
  work=$(mktemp -d)
  cp tests/fuzz/corpus/$t/* "$work/"
  log="$OUT/fuzz-$t.log"
  (cd "$work" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    timeout $((SECS + 120)) "$OLDPWD/build-fuzz/tests/fuzz/fuzz_$t" -max_total_time="$SECS" -print_final_stats=1 \
    -rss_limit_mb=2048 -timeout=20 "$work" >"$log" 2>&1)
  r=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
  if [ $r -eq 0 ] && ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log"; then
    echo "fuzz $t: ok, ${execs:-?} executions in ${SECS}s"
  else
    echo "fuzz $t: FAILED (rc=$r)"; grep -E 'ERROR|runtime error|SUMMARY' "$log" | head -5
    cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$OUT/" 2>/dev/null
    rc=1
  fi
  rm -rf "$work"
done
exit $rc
