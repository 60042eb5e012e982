#!/usr/bin/env bash
# The schema registry's hot read with wrk (Debian), keep-alive, as a Confluent deserializer does it:
#   1. `dataforge serve` on a fresh data dir (loopback);
#   2. registers SCHEMAS Avro schemas (default 100) under as many subjects with curl;
#   3. wrk: GET /registry/schemas/ids/{id} rotating over their ids (a Lua script);
#   4. prints requests/s, latency p50/p90/p99 (wrk --latency), non-2xx answers and the server's
#      peak RSS.
# Target (issue 17): >= 20,000 requests/s on 2 cores.
# Usage: bench/registry_bench.sh [SECONDS] [CONNECTIONS] [SCHEMAS]
#   BIN=build-asan/src/dataforge bench/registry_bench.sh ...   (another binary; default build/)
#   AUTH=on: a user `bench` with role reader and an API key; every request carries it (the id is
#   then also checked against the subjects the caller may read). Default off.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-16}
schemas=${3:-100}
bin=${BIN:-build/src/dataforge}
dir=$(mktemp -d /tmp/df_registry_bench_XXXXXX)
pid=
trap '[[ -n $pid ]] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }; rm -rf "$dir"' EXIT

auth_header=()
if [[ ${AUTH:-off} == on ]]; then
  "$bin" users add bench --role reader --data-dir "$dir/data" >/dev/null
  key=$("$bin" keys create bench --data-dir "$dir/data" 2>/dev/null)
  auth_header=(-H "Authorization: Bearer $key")
  # Registering needs a writer: a second key of an operator.
  "$bin" users add loader --role operator --data-dir "$dir/data" >/dev/null
  writer_key=$("$bin" keys create loader --data-dir "$dir/data" 2>/dev/null)
fi

"$bin" serve --http-port 0 --data-dir "$dir/data" ${SERVE_FLAGS:-} >"$dir/serve.out" 2>&1 &
pid=$!
for _ in $(seq 300); do
  grep -q "listening on" "$dir/serve.out" && break
  sleep 0.1
done
port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/serve.out" | head -1)
[[ -n $port ]] || { cat "$dir/serve.out"; exit 1; }
base="http://127.0.0.1:$port/registry"

ids=()
for i in $(seq "$schemas"); do
  body="{\"schema\":\"{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"R$i\\\",\\\"fields\\\":[{\\\"name\\\":\\\"f$i\\\",\\\"type\\\":\\\"string\\\"}]}\"}"
  out=$(curl -sS -X POST -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
    ${writer_key:+-H "Authorization: Bearer $writer_key"} --data "$body" \
    "$base/subjects/bench-$i-value/versions")
  id=$(sed -n 's/^{"id":\([0-9]*\)}$/\1/p' <<<"$out")
  [[ -n $id ]] || { echo "registry_bench: register failed: $out"; exit 1; }
  ids+=("$id")
done

cat >"$dir/ids.lua" <<LUA
local ids = { $(IFS=,; echo "${ids[*]}") }
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/registry/schemas/ids/" .. ids[(i % #ids) + 1])
end
LUA

echo "== GET /registry/schemas/ids/{id} over ${#ids[@]} ids, $connections connections, ${seconds}s, auth ${AUTH:-off}"
wrk -t 2 -c "$connections" -d "${seconds}s" --latency "${auth_header[@]}" -s "$dir/ids.lua" \
  "http://127.0.0.1:$port" | tee "$dir/wrk.out" |
  grep -E "Requests/sec|Non-2xx|Socket errors|^ +(50|90|99)%" || true
echo "serve peak RSS: $(grep VmHWM /proc/$pid/status | awk '{print $2/1024 " MB"}')"
kill -TERM "$pid"
wait "$pid" || true
pid=
tail -1 "$dir/serve.out"
