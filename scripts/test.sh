#!/usr/bin/env bash
# Set-up, build, then run every test: the release build, then the whole suite again under
# AddressSanitizer + UndefinedBehaviorSanitizer. Ends with ctest's summary line.
# Usage: scripts/test.sh [--no-sanitize]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
scripts/setup.sh
ctest --test-dir build --output-on-failure -j "$jobs"
if [[ ${1:-} != --no-sanitize ]]; then
  scripts/setup.sh --sanitize
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs"
fi
