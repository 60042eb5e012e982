#!/usr/bin/env bash
# The HTTP server's figures with wrk (Debian), keep-alive, as a user runs it:
#   1. `dataforge run --max-records N` fills a data dir (the default pipeline,
#      dataforge.created_users);
#   2. `dataforge serve` on it;
#   3. wrk: GET /health (the server alone: parse, route, respond), point reads
#      GET /v1/tables/{t}/rows/{key} rotating over 1,000 stored keys (a Lua script), and paging
#      GET /v1/tables/{t}/rows?limit=$PAGE (default 1000) following next_cursor (a Lua script);
#   4. prints requests/s, latency p50/p99 (wrk --latency), non-2xx answers and the server's
#      peak RSS.
# Usage: bench/http_bench.sh [RECORDS] [SECONDS] [CONNECTIONS]
#   BIN=build-asan/src/dataforge bench/http_bench.sh ...   (another binary; default build/)
#   SERVE_FLAGS="--workers 8" ...                          (extra `serve` flags)
# Authentication: on (AUTH=on, the default): a user `bench` with role reader and an API key
# (`dataforge users add`, `dataforge keys create`); every wrk request carries
# `Authorization: Bearer <key>` (verified once with argon2id, then from the cache).
# AUTH=off: a fresh data dir with no user.
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-100000}
seconds=${2:-10}
connections=${3:-16}
page=${PAGE:-1000}
bin=${BIN:-build/src/dataforge}
table=dataforge.created_users
dir=$(mktemp -d /tmp/df_http_bench_XXXXXX)
pid=
trap '[[ -n $pid ]] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }; rm -rf "$dir"' EXIT

"$bin" run --no-progress --max-records "$records" --data-dir "$dir/data" >"$dir/run.out" 2>&1
# 1,000 keys to read, in a Lua table.
"$bin" table scan "$table" --limit 1000 --data-dir "$dir/data" |
  sed -n 's/.*"id":"\([^"]*\)".*/"\1",/p' >"$dir/keys.txt"
[[ -s $dir/keys.txt ]] || { echo "http_bench: no keys stored"; cat "$dir/run.out"; exit 1; }

auth_header=()
if [[ ${AUTH:-on} == on ]]; then
  "$bin" users add bench --role reader --data-dir "$dir/data" >/dev/null
  key=$("$bin" keys create bench --data-dir "$dir/data" 2>/dev/null)
  auth_header=(-H "Authorization: Bearer $key")
fi

"$bin" serve --http-port 0 --data-dir "$dir/data" ${SERVE_FLAGS:-} >"$dir/serve.out" 2>&1 &
pid=$!
for _ in $(seq 100); do
  grep -q "listening on" "$dir/serve.out" && break
  sleep 0.1
done
port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/serve.out" | head -1)
[[ -n $port ]] || { cat "$dir/serve.out"; exit 1; }
base="http://127.0.0.1:$port"

cat >"$dir/point.lua" <<LUA
local keys = { $(tr -d '\n' <"$dir/keys.txt") }
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/v1/tables/$table/rows/" .. keys[(i % #keys) + 1])
end
LUA
cat >"$dir/paging.lua" <<'LUA'
-- Pages through the table, 1,000 rows a request, following next_cursor; starts over at the end.
local threads = {}
setup = function(thread) table.insert(threads, thread) end
cursor = nil
rows = 0
request = function()
  local path = "/v1/tables/TABLE/rows?limit=PAGE"
  if cursor then path = path .. "&cursor=" .. cursor end
  return wrk.format("GET", path)
end
response = function(status, headers, body)
  -- next_cursor ends the answer: match it in the tail, not across the whole page.
  cursor = body:sub(-512):match('"next_cursor":"([^"]*)"')
  -- Rows counted one by one (plain find: C speed; gsub would copy the page and time the client).
  local n, at = 0, 1
  while true do
    at = body:find('{"id":', at, true)
    if not at then break end
    n, at = n + 1, at + 6
  end
  rows = rows + n
end
done = function(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("rows") end
  io.write(string.format("paging: %d rows in %.1f s = %.0f rows/s\n",
                         total, summary.duration / 1e6, total / (summary.duration / 1e6)))
end
LUA
sed -i "s/TABLE/$table/; s/PAGE/$page/" "$dir/paging.lua"

run_wrk() {  # NAME ARGS...
  local name=$1
  shift
  echo "== $name"
  wrk -t 2 -c "$connections" -d "${seconds}s" --latency "${auth_header[@]}" "$@" | tee "$dir/wrk.out" |
    grep -E "Requests/sec|Non-2xx|Socket errors|paging:|^ +(50|99)%" || true
}
run_wrk "GET /health" "$base/health"
run_wrk "point reads GET /v1/tables/$table/rows/{key}" -s "$dir/point.lua" "$base"
run_wrk "paging GET /v1/tables/$table/rows?limit=$page" -c 1 -t 1 -s "$dir/paging.lua" "$base"
echo "auth: ${AUTH:-on}"
echo "serve peak RSS: $(grep VmHWM /proc/$pid/status | awk '{print $2/1024 " MB"}')"
kill -TERM "$pid"
wait "$pid" || true
pid=
tail -1 "$dir/serve.out"
