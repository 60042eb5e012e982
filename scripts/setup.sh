#!/usr/bin/env bash
# Installs what is missing (Debian 12 packages only; quick when everything is present) and
# builds DataForge into build/ (release) or, with --sanitize, build-asan/ (ASan + UBSan).
# Usage: scripts/setup.sh [--sanitize] [TARGET...]   (no target: everything, tests included)
#        DATAFORGE_UNITY_BUILD=OFF scripts/setup.sh --sanitize: one translation unit per file
#        (a quicker rebuild after editing one file)
#        DATAFORGE_UNITY_BUILD=ON scripts/setup.sh: the release build eight files to a unit
#        (what scripts/test.sh builds: a third less compile time from scratch)
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  g++ cmake ninja-build pkg-config
  libre2-dev libsimdjson-dev librocksdb-dev libsqlite3-dev libcurl4-openssl-dev libyaml-cpp-dev
  libcli11-dev libspdlog-dev libfmt-dev libcpp-httplib-dev libssl-dev
  librdkafka-dev kcat
  libpq-dev postgresql-15 postgresql-client-15
  libjwt-dev libargon2-dev    # REST API auth: JWTs, argon2id hashes of passwords and API keys
  curl wrk                    # independent HTTP clients for the serving tests and benchmark
  prometheus-cpp-dev          # GET /metrics: the registry and the text format
  libvalijson-dev libavro-dev # the schema registry: JSON Schema validation, Apache Avro C
  python3-confluent-kafka python3-requests python3-avro   # Confluent's own clients and an Avro oracle for the registry tests
  prometheus                  # promtool and a real Prometheus server for the metrics tests
  python3-jsonschema python3-yaml   # the Grafana dashboard checked against its schema; alert rules read
  chromium chromium-driver python3-selenium   # the web console tested in a real browser
  libhowardhinnant-date-dev tzdata
  libgtest-dev libgmock-dev libbenchmark-dev
  python3-cassandra openssl   # an independent CQL driver and certificates for the endpoint tests
  systemd util-linux          # systemd-analyze checks deploy/systemd; setpriv runs their ExecStart unprivileged
  docker-compose              # `docker-compose config` checks deploy/compose.yaml (no daemon needed)
  buildah umoci skopeo ca-certificates binutils  # the container image (scripts/image.sh) and its test
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

build_dir=build
flags=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_UNITY_BUILD=${DATAFORGE_UNITY_BUILD:-OFF})
if [[ ${1:-} == --sanitize ]]; then
  build_dir=build-asan
  # A unity build (CMake joins each target's files eight at a time): the headers (gtest, fmt,
  # RocksDB, the standard library) are parsed and their templates instantiated once per eight
  # files instead of once per file. 40 of the library's files: their compile jobs took 344 s
  # one file at a time, 161 s joined (ninja -j2, docs/benchmarks.md "unity builds").
  # The release build (build/) keeps one translation unit per file unless DATAFORGE_UNITY_BUILD=ON
  # (scripts/test.sh sets it): per file it is the incremental build of daily work and proves that
  # each file includes what it uses.
  flags=(-DCMAKE_BUILD_TYPE=Debug -DDATAFORGE_SANITIZE=ON -DDATAFORGE_BENCH=OFF
    -DCMAKE_UNITY_BUILD=${DATAFORGE_UNITY_BUILD:-ON})
  shift
fi
targets=()
for t in "$@"; do targets+=(--target "$t"); done
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B "$build_dir" -G Ninja "${flags[@]}" >/dev/null
cmake --build "$build_dir" -j "$jobs" "${targets[@]}"
