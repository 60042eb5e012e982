#!/usr/bin/env bash
# The postgres_cdc source's initial snapshot (docs/postgresql.md): rows/s of the copy, end to end.
# A throwaway PostgreSQL 15 (tests/tools/pg_throwaway.sh) gets public.accounts(id bigint primary
# key, email text, balance numeric, created timestamptz) with N rows; `dataforge run` with the
# postgres_cdc source (snapshot: initial, the default) copies them as "read" events through
# staging and the log into its store. Printed: the source's own summary line (rows of the copy /
# seconds from slot creation to the last batch handed to staging), the time until the store held
# all N rows (status polled), and the peak RSS (VmHWM) of the dataforge process.
#
#   bench/cdc_snapshot_bench.sh [ROWS]      (default 200000; needs build/src/dataforge:
#                                            scripts/setup.sh dataforge)
# Environment: BATCH (tuning.batch_records, default 1000), DF (the binary, default
# build/src/dataforge).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}
BATCH=${BATCH:-1000}
DF=${DF:-build/src/dataforge}
PGT=tests/tools/pg_throwaway.sh
[[ -x $DF ]] || { echo "cdc_snapshot_bench: $DF missing: build first" >&2; exit 1; }

work=$(mktemp -d /tmp/df_snapbench_XXXXXX)
chmod 0755 "$work"
df_pid=""
cleanup() {
  if [[ -n $df_pid ]] && kill -0 "$df_pid" 2>/dev/null; then
    kill -TERM "$df_pid" 2>/dev/null || true
    wait "$df_pid" 2>/dev/null || true
  fi
  "$PGT" stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

URL=$("$PGT" start "$work/pg")
pq() { PGOPTIONS='-c client_min_messages=warning' "$PGT" psql "$work/pg" "$@"; }
pq "CREATE TABLE accounts(id bigint PRIMARY KEY, email text, balance numeric, created timestamptz)" \
  "INSERT INTO accounts SELECT g, 'user' || g || '@example.com', g * 1.25, '2026-01-01'::timestamptz + g * interval '1 second' FROM generate_series(1, $N) g" \
  "VACUUM ANALYZE accounts" >/dev/null
echo "cdc_snapshot_bench: $N rows, table $(pq "SELECT pg_size_pretty(pg_table_size('accounts'))"), PostgreSQL $(pq 'SHOW server_version'), $(nproc) cores, batch_records $BATCH"

cat >"$work/cdc.yaml" <<YAML
source:
  name: accounts
  type: postgres_cdc
  url: $URL
  tables: [public.accounts]
log: {topic: accounts_changes, partitions: 2}
process:
  table: app.accounts
  key_column: id
  delete_when: {path: op, equals: delete}
  columns:
    - {name: id, type: bigint, path: data.id, required: true}
    - {name: email, path: data.email}
    - {name: balance, type: double, path: data.balance}
    - {name: created, path: data.created}
tuning: {batch_records: $BATCH}
YAML

start=$(date +%s.%N)
"$DF" run --config "$work/cdc.yaml" --data-dir "$work/data" 2>"$work/run.log" &
df_pid=$!
stored=0
while ((stored < N)); do
  sleep 0.5
  kill -0 "$df_pid" 2>/dev/null || { echo "dataforge exited:" >&2; cat "$work/run.log" >&2; exit 1; }
  stored=$("$DF" status --json --config "$work/cdc.yaml" --data-dir "$work/data" 2>/dev/null |
    sed -n 's/.*"stored": *\([0-9]*\).*/\1/p' | head -1)
  stored=${stored:-0}
done
end=$(date +%s.%N)
rss=$(awk '/VmHWM/ {printf "%.1f MB", $2 / 1024}' "/proc/$df_pid/status")
kill -TERM "$df_pid"
wait "$df_pid" || true
df_pid=""
grep -E "postgres_cdc: (snapshot|created)" "$work/run.log" | sed 's/^/  /'
echo "  all $N rows stored after $(echo "$end - $start" | bc) s (status polled every 0.5 s)" \
  "= $(echo "$N / ($end - $start)" | bc) rows/s end to end"
echo "  peak RSS (VmHWM) $rss"
