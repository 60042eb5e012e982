#!/usr/bin/env bash
# Set-up, build, then run every test. What CI runs (.ci/run calls this):
#   1. the ASan + UBSan build of everything (library -O1, the command line and test code -O0,
#      executables not PIE: each of the suite's thousands of process starts costs half as much);
#   2. the whole suite under it (the README flow, the docs examples and the 200k-record aggregate
#      run in step 3 only), while the release binary, the integration tests and their tools
#      build beside it at a lower priority (on 2 cores the suite leaves them little CPU), eight
#      files to a compiler run as the sanitizer build (the per-file build is scripts/setup.sh's);
#   3. the end-to-end integration tests against the release binary, while each libFuzzer target
#      runs for a short budget from its committed corpus (scripts/fuzz.sh).
# Every phase runs even when an earlier one failed; the last line sums them up as
# "N passed, N failed" and the exit code is 1 when anything failed.
# Usage: scripts/test.sh [--release]   (--release: the release build of everything and the whole
#                                       suite once, no sanitizer, no fuzzing: the quick local run)
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
passed=0
failed=0
failed_phases=()
failures_log=$(mktemp)

# Runs ctest with the given arguments and adds its counts to the totals.
run_ctest() {
  local phase=$1
  shift
  local out
  out=$(mktemp)
  ctest --output-on-failure "$@" 2>&1 | tee "$out"
  local status=${PIPESTATUS[0]}
  # "100% tests passed, 0 tests failed out of 123"
  local line
  line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$out" | tail -n 1)
  failure_output "$phase" "$out" >>"$failures_log"
  rm -f "$out"
  if [[ -z $line ]]; then
    echo "test.sh: $phase: ctest printed no summary (exit $status)" >&2
    failed=$((failed + 1))
    failed_phases+=("$phase")
    return
  fi
  local nfail total
  nfail=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
  total=$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$line")
  passed=$((passed + total - nfail))
  failed=$((failed + nfail))
  if ((status != 0 || nfail != 0)); then failed_phases+=("$phase"); fi
}

# Prints, from ctest's --output-on-failure log $2 (phase $1), what each failed test printed: all
# of it when short, else its lines that name a failure or an error (at most 25) and its last 15.
# test.sh repeats them at the very end, where a CI excerpt still shows them.
failure_output() {
  awk -v phase="$1" '
    function flush(   i, from, m) {
      if (!n) return
      if (n > 40) {
        for (i = 1; i <= n - 15 && m < 25; i++)
          if (lines[i] ~ /(FAIL|Failure|[Ee]rror|Expected|Which is|Value of|[Aa]ctual)/) { print lines[i]; m++ }
        print "  [...]"
        from = n - 14
      } else from = 1
      for (i = from; i <= n; i++) print lines[i]
      n = 0
    }
    /^ *[0-9]+\/[0-9]+ Test +#/ {
      flush(); inside = $0 ~ /\*\*\*(Failed|Timeout|Exception|Not Run)/
      if (inside) print "---- " phase ": " $0
      next
    }
    /^[0-9]+% tests passed/ { flush(); inside = 0 }
    /^ +Start +[0-9]+: / { next }
    inside { lines[++n] = $0 }
    END { flush() }
  ' "$2"
}

# Runs a build step; a failed build counts as one failed test.
build() {
  local phase=$1
  shift
  local start=$SECONDS
  if ! "$@"; then
    echo "test.sh: $phase: the build failed" >&2
    failed=$((failed + 1))
    failed_phases+=("$phase build")
    return 1
  fi
  echo "test.sh: $phase built in $((SECONDS - start)) s"
}

timed() {
  local label=$1
  shift
  local start=$SECONDS
  "$@"
  echo "test.sh: $label took $((SECONDS - start)) s"
}

# Adds the counts of a "N passed, N failed" line in file $2 (from phase $1) to the totals.
add_plain_summary() {
  local phase=$1 file=$2 line p f
  line=$(grep -E '^([a-z]+: )?[0-9]+ passed, [0-9]+ failed' "$file" | tail -n 1)
  if [[ -z $line ]]; then
    echo "test.sh: $phase printed no summary" >&2
    failed=$((failed + 1))
    failed_phases+=("$phase")
    return
  fi
  p=$(sed -E 's/^([a-z]+: )?([0-9]+) passed, ([0-9]+) failed.*/\2/' <<<"$line")
  f=$(sed -E 's/^([a-z]+: )?([0-9]+) passed, ([0-9]+) failed.*/\3/' <<<"$line")
  passed=$((passed + p))
  failed=$((failed + f))
  ((f == 0)) || failed_phases+=("$phase")
}

# ccache when it is installed (scripts/fuzz.sh does the same): CI builds a fresh clone each time,
# and with paths taken relative to the clone (CCACHE_BASEDIR) its compiles hit what any earlier
# clone or checkout built from the same sources and flags; a cold cache costs next to nothing.
if command -v ccache >/dev/null; then
  export CMAKE_C_COMPILER_LAUNCHER=${CMAKE_C_COMPILER_LAUNCHER:-ccache}
  export CMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER:-ccache}
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
fi

# Most integration tests wait on servers and subprocesses rather than compute: running more of
# them than there are cores shortens the suite without starving any.
test_jobs=$((jobs * 2))

if [[ ${1:-} == --release || ${1:-} == --no-sanitize ]]; then
  build release scripts/setup.sh && timed "release tests" run_ctest release --test-dir build -j "$test_jobs"
else
  build "ASan+UBSan" scripts/setup.sh --sanitize
  asan_built=$?
  # While the sanitizer suite runs, the release binary and the fuzzers build at a lower priority
  # beside it, on the CPU the suite leaves.
  background_log=$(mktemp)
  (
    # A unity build, as the sanitizer's: from scratch it costs a third less compile time than
    # one file at a time (docs/benchmarks.md "The test suite's time").
    DATAFORGE_UNITY_BUILD=ON nice -n 10 scripts/setup.sh dataforge integration_tests kafka_mock_cluster \
      >"$background_log.release" 2>&1
    echo $? >"$background_log.release.rc"
    if [[ -x scripts/fuzz.sh ]]; then
      nice -n 10 scripts/fuzz.sh >"$background_log.fuzz" 2>&1
      echo $? >"$background_log.fuzz.rc"
    fi
  ) &
  background=$!
  if ((asan_built == 0)); then
    # quarantine_size_mb=64 (ASan's default is 256): a freed block waits behind 64 MB of other
    # frees before reuse, not 256, so a use after free later than that goes unseen; in exchange
    # each long test process touches less fresh memory. 15 ASan integration tests in a row
    # (docs/benchmarks.md "ASan's quarantine"): CPU 112.5 / 116.5 s -> 94.6 / 104.0 s, peak RSS of
    # the largest process 552 / 611 MB -> 363 / 323 MB.
    ASAN_OPTIONS=detect_leaks=1:quarantine_size_mb=64 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      timed "ASan+UBSan tests" run_ctest "ASan+UBSan" --test-dir build-asan -j "$test_jobs"
  fi
  # Release proves the optimised binary end to end; the unit tests ran above.
  while [[ ! -f $background_log.release.rc ]] && kill -0 "$background" 2>/dev/null; do sleep 1; done
  cat "$background_log.release"
  if [[ $(cat "$background_log.release.rc" 2>/dev/null) == 0 ]]; then
    timed "release integration tests" \
      run_ctest "release integration" --test-dir build -L integration -j "$test_jobs"
  else
    echo "test.sh: release: the build failed" >&2
    failed=$((failed + 1))
    failed_phases+=("release build")
  fi
  wait "$background"
  if [[ -f $background_log.fuzz ]]; then
    cat "$background_log.fuzz"
    add_plain_summary fuzzing "$background_log.fuzz"
  fi
  rm -f "$background_log" "$background_log".*
fi

if [[ -s $failures_log ]]; then
  echo "test.sh: what the failed tests printed:"
  cat "$failures_log"
fi
rm -f "$failures_log"
if ((${#failed_phases[@]})); then
  echo "test.sh: failed: ${failed_phases[*]}"
fi
echo "$passed passed, $failed failed"
((failed == 0 && ${#failed_phases[@]} == 0))
