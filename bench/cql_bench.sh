#!/usr/bin/env bash
# The CQL figures with the endpoint in its own process, as a user runs it:
#   1. `dataforge cql-serve` over a fresh data dir;
#   2. cql_bench --endpoint: RocksDB direct vs the Cassandra store through that endpoint, then
#      point reads from the CQL client;
#   3. the whole default pipeline into that endpoint (pipeline_bench --store cassandra://).
# Usage: bench/cql_bench.sh [RECORDS]   (run from the repository root, after scripts/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-100000}
dir=$(mktemp -d /tmp/df_cql_bench_sh_XXXXXX)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
build/src/dataforge cql-serve --port 0 --data-dir "$dir/endpoint" >"$dir/serve.out" 2>&1 &
pid=$!
for _ in $(seq 100); do
  grep -q "listening on" "$dir/serve.out" && break
  sleep 0.1
done
port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/serve.out" | head -1)
[[ -n $port ]] || { cat "$dir/serve.out"; exit 1; }
build/bench/cql_bench --records "$records" --endpoint "127.0.0.1:$port"
build/bench/pipeline_bench --records "$records" --store "cassandra://127.0.0.1:$port/pipeline_bench"
echo "endpoint peak RSS: $(grep VmHWM /proc/$pid/status | awk '{print $2/1024 " MB"}')"
