#!/usr/bin/env bash
# Set-up, build, then run every test. What CI runs (.ci/run calls this):
#   1. the ASan + UBSan build (-O1) of everything, and the whole suite under it;
#   2. the release build of what release must prove (the binary, the integration tests and their
#      tools), and the end-to-end integration tests against the release binary;
#   3. each libFuzzer target for a short budget from its committed corpus (scripts/fuzz.sh).
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

# Runs ctest with the given arguments and adds its counts to the totals.
run_ctest() {
  local phase=$1
  shift
  local out
  out=$(mktemp)
  ctest --output-on-failure -j "$jobs" "$@" 2>&1 | tee "$out"
  local status=${PIPESTATUS[0]}
  # "100% tests passed, 0 tests failed out of 123"
  local line
  line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$out" | tail -n 1)
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

if [[ ${1:-} == --release || ${1:-} == --no-sanitize ]]; then
  build release scripts/setup.sh && timed "release tests" run_ctest release --test-dir build
else
  build "ASan+UBSan" scripts/setup.sh --sanitize &&
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      timed "ASan+UBSan tests" run_ctest "ASan+UBSan" --test-dir build-asan
  # Release proves the optimised binary end to end; the unit tests ran above.
  build release scripts/setup.sh dataforge integration_tests kafka_mock_cluster &&
    timed "release integration tests" run_ctest "release integration" --test-dir build -L integration
  if [[ -x scripts/fuzz.sh ]]; then
    fuzz_out=$(mktemp)
    timed fuzzing scripts/fuzz.sh 2>&1 | tee "$fuzz_out"
    fuzz_line=$(grep -E '^(fuzz: )?[0-9]+ passed, [0-9]+ failed' "$fuzz_out" | tail -n 1)
    rm -f "$fuzz_out"
    if [[ -n $fuzz_line ]]; then
      p=$(sed -E 's/^(fuzz: )?([0-9]+) passed, ([0-9]+) failed.*/\2/' <<<"$fuzz_line")
      f=$(sed -E 's/^(fuzz: )?([0-9]+) passed, ([0-9]+) failed.*/\3/' <<<"$fuzz_line")
      passed=$((passed + p))
      failed=$((failed + f))
      ((f == 0)) || failed_phases+=(fuzzing)
    else
      echo "test.sh: fuzzing printed no summary" >&2
      failed=$((failed + 1))
      failed_phases+=(fuzzing)
    fi
  fi
fi

if ((${#failed_phases[@]})); then
  echo "test.sh: failed: ${failed_phases[*]}"
fi
echo "$passed passed, $failed failed"
((failed == 0 && ${#failed_phases[@]} == 0))
