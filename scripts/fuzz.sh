#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) in build-fuzz/ with clang and runs each for a short
# fixed budget from its committed corpus (tests/fuzz/corpus/<target>, copied to a temporary
# directory first so that the committed corpus is never changed). Fails on a crash, a sanitizer
# report, a broken invariant or an input slower than 25 s, naming the target and the reproducer.
# Prints each target's executions and coverage (cov/ft from libFuzzer's final stats) and ends
# with "N passed, N failed". docs/fuzzing.md describes the targets.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default 20 s, every target)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-20}
shift || true
[[ $seconds =~ ^[0-9]+$ ]] || { echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2; exit 2; }
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(cql_frame http_response pgoutput log_batch pipeline_yaml schedule)
fi

# What the fuzz build needs (Debian 12 packages; quick when everything is present): clang and
# its sanitizer/libFuzzer runtimes, and the libraries the CMake configure step looks for.
PACKAGES=(
  clang libclang-rt-14-dev cmake ninja-build pkg-config
  libsimdjson-dev librocksdb-dev libsqlite3-dev libcurl4-openssl-dev libyaml-cpp-dev
  libcli11-dev libspdlog-dev libfmt-dev libcpp-httplib-dev libssl-dev librdkafka-dev libpq-dev
  libhowardhinnant-date-dev libre2-dev tzdata
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "fuzz: installing ${missing[*]}"
  SUDO=""
  if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null || { echo "fuzz: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Only the fuzz targets: df_common, df_schedule, df_config and the parsers (39 files, 9 links),
# not the project. -O1 -g1 as in the sanitizer build; asserts stay on. A unity build as the
# sanitizer build's (scripts/setup.sh): on a quiet 2-vCPU VM 121 s one file at a time, 57 s joined.
start=$(date +%s)
if command -v ccache >/dev/null; then
  export CMAKE_C_COMPILER_LAUNCHER=${CMAKE_C_COMPILER_LAUNCHER:-ccache}
  export CMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER:-ccache}
fi
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Fuzz \
  -DCMAKE_C_FLAGS_FUZZ="-O1 -g1" -DCMAKE_CXX_FLAGS_FUZZ="-O1 -g1" \
  -DDATAFORGE_FUZZ=ON -DDATAFORGE_TESTS=OFF -DDATAFORGE_BENCH=OFF \
  -DCMAKE_UNITY_BUILD="${DATAFORGE_UNITY_BUILD:-ON}" >/dev/null
build_targets=()
for t in "${targets[@]}"; do build_targets+=(--target "${t}_fuzz"); done
if ! cmake --build build-fuzz -j "$(nproc 2>/dev/null || echo 2)" "${build_targets[@]}" \
  >build-fuzz/build.log 2>&1; then
  cat build-fuzz/build.log
  echo "fuzz: the build failed"
  echo "0 passed, ${#targets[@]} failed"
  exit 1
fi
built=$(date +%s)
echo "fuzz: built ${#targets[@]} targets in $((built - start)) s; running each for ${seconds} s"

work=$(mktemp -d /tmp/dataforge-fuzz.XXXXXX)
crashes=build-fuzz/crashes
passed=0
failed=0
for t in "${targets[@]}"; do
  bin=build-fuzz/tests/fuzz/${t}_fuzz
  corpus=tests/fuzz/corpus/$t
  if [[ ! -x $bin || ! -d $corpus ]]; then
    echo "FAIL $t: no binary $bin or no corpus $corpus"
    failed=$((failed + 1))
    continue
  fi
  mkdir -p "$work/$t/corpus" "$work/$t/artifacts"
  cp "$corpus"/* "$work/$t/corpus/"
  log=$work/$t/log
  rc=0
  "$bin" "$work/$t/corpus" -max_total_time="$seconds" -timeout=25 -print_final_stats=1 \
    -artifact_prefix="$work/$t/artifacts/" >"$log" 2>&1 || rc=$?
  # The last "#N ... cov: C ft: F" line (DONE, or the last progress line before a crash).
  execs=$( (grep -a '^stat::number_of_executed_units:' "$log" || true) | awk '{print $2}' | tail -n1)
  if [[ -z $execs ]]; then
    execs=$( (grep -a -o '^#[0-9]*' "$log" || true) | tail -n1 | tr -d '#')
  fi
  stats=$( (grep -a -o 'cov: [0-9]* ft: [0-9]*' "$log" || true) | tail -n1)
  reproducer=$(find "$work/$t/artifacts" -type f | head -n1)
  if ((rc == 0)) && [[ -z $reproducer ]]; then
    echo "ok   $t: ${execs:-?} executions, ${stats:-no coverage line} in ${seconds} s"
    passed=$((passed + 1))
  else
    mkdir -p "$crashes/$t"
    kept=""
    if [[ -n $reproducer ]]; then
      cp "$reproducer" "$crashes/$t/"
      kept=$crashes/$t/$(basename "$reproducer")
    fi
    echo "FAIL $t: exit $rc after ${execs:-?} executions; reproducer: ${kept:-none}"
    echo "     rerun: $bin ${kept:-<input>}"
    grep -a -m 12 -E 'invariant broken|exception escaped|ERROR:|runtime error|SUMMARY|#[0-9]+ 0x' \
      "$log" | sed 's/^/     /' || true
    failed=$((failed + 1))
  fi
done
rm -rf "$work"
echo "fuzz: $(($(date +%s) - start)) s in all (build $((built - start)) s)"
echo "$passed passed, $failed failed"
((failed == 0))
