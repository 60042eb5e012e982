#!/usr/bin/env bash
# PostgreSQL staging and CDC (issue 4), on a throwaway PostgreSQL 15 (tests/tools/pg_throwaway.sh)
# sharing the machine with DataForge:
#   (a) staging_bench into SQLite (a temp file)
#   (b) staging_bench into PostgreSQL staging (the same records)
#   (c) the ceiling: psql \copy of the same records (COPY text file from staging_bench --dump)
#       into raw_copy(key text PRIMARY KEY, raw text) in one transaction, into a table without
#       the primary key, and into raw_copy in transactions of 1,000 records (staging's
#       durability granularity); ratio staging / ceiling
#   (d) the whole pipeline (pipeline_bench) with PostgreSQL staging, and with SQLite for reference
#   (e) CDC lag: pgbench makes 10,000 row changes/s for 20 s (1,000 transactions/s of 10 rows)
#       on public.accounts while `dataforge run` streams them (postgres_cdc source) into its
#       store; commit -> queryable lag percentiles, whether it kept up, peak RSS. Once with the
#       default SQLite staging, once with PostgreSQL staging on the same server.
#
#   bench/postgres_bench.sh [RECORDS]      (default 200000; build first: scripts/setup.sh)
# Environment: RUNS (repetitions of (a)-(c), default 3; a min / median / max summary of the
# ratio follows them), BUILD (build dir, default build), SB (the staging_bench binary, default
# $BUILD/bench/staging_bench: point it at an older build to compare two versions in one run),
# PARTS (a subset of "abcde", default all), CDC_RATE (transactions/s, default 1000), CDC_SECONDS (default 20), CDC_STAGING
# ("sqlite postgresql", default both), CDC_CLIENTS (pgbench clients, default 8: each client
# waits for its commit's flush, and when the disk takes ~2.5 ms per fdatasync — as this VM's
# did at times — 4 clients top out at 760-880 transactions/s; with 8, pgbench offers 1,000/s),
# PROFILE=1: log every statement's server-side duration during (b)
# (log_min_duration_statement=0) and print where the staging writer's time went: COPY into
# the outbox, the upsert of dataforge.records, COMMIT (the WAL flush), the rest.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}
RUNS=${RUNS:-3}
BUILD=${BUILD:-build}
PARTS=${PARTS:-abcde}
CDC_RATE=${CDC_RATE:-1000}
CDC_SECONDS=${CDC_SECONDS:-20}
CDC_STAGING=${CDC_STAGING:-sqlite postgresql}
CDC_CLIENTS=${CDC_CLIENTS:-8}
PROFILE=${PROFILE:-0}
ROWS_PER_TXN=10
PGT=tests/tools/pg_throwaway.sh
SB=${SB:-$BUILD/bench/staging_bench}
PB=$BUILD/bench/pipeline_bench
DF=$BUILD/src/dataforge
need=()
if [[ $PARTS == *[abc]* ]]; then need+=("$SB"); fi
if [[ $PARTS == *d* ]]; then need+=("$PB"); fi
if [[ $PARTS == *e* ]]; then need+=("$DF"); fi
for b in "${need[@]}"; do [[ -x $b ]] || { echo "postgres_bench: $b missing: build first" >&2; exit 1; }; done
load() { cut -d' ' -f1-3 /proc/loadavg; }
ratios=() pg_rates=() ceil_rates=() before_rates=() before_ratios=() pg_cpus=() before_cpus=() ceil_cpus=()

work=$(mktemp -d /tmp/df_pgbench_XXXXXX)
chmod 0755 "$work" # the server runs as the postgres user and must reach $work/pg
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
PORT=$(cat "$work/pg/port")
pq() { PGOPTIONS='-c client_min_messages=warning' "$PGT" psql "$work/pg" "$@"; }
export PGPASSWORD=secret
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -d dataforge)
has() { [[ $PARTS == *$1* ]]; }
# CPU seconds the PostgreSQL server used so far: the postmaster, its live children and the
# children it reaped (cutime/cstime: the backends of connections that closed).
pgcpu() {
  local pm
  pm=$(head -1 "$work/pg/data/postmaster.pid")
  {
    awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat"
    for c in $(cat "/proc/$pm/task/$pm/children" 2>/dev/null); do
      awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || true
    done
  } | awk -v hz="$(getconf CLK_TCK)" '{t += $1} END {printf "%.2f", t / hz}'
}
cpu_line() { # server CPU since $1, client CPU $2, records $3
  awk -v a="$1" -v b="$(pgcpu)" -v c="$2" -v n="$3" 'BEGIN {
    printf "  CPU: server %.2f s + client %.2f s = %.1f us/record\n", b - a, c, (b - a + c) * 1e6 / n }'
}
rate_of() { awk '/^  records\/s/ {print $2; exit}' "$1"; }
now() { date +%s.%N; }

echo "postgres_bench: $N records, PostgreSQL $(pq 'SHOW server_version'), $(nproc) cores," \
  "synchronous_commit=$(pq 'SHOW synchronous_commit'), shared_buffers=$(pq 'SHOW shared_buffers')"
# The disk's flush rate moves a lot on this (shared, virtual) machine and every durable commit
# waits for one: print it beside the figures.
fsync_rate() {
  /usr/lib/postgresql/15/bin/pg_test_fsync -s 1 -f "$work/fsync.test" 2>/dev/null |
    awk '/^ +fdatasync / {printf "%s/s (%s us each)", $2, $4; exit}'
  rm -f "$work/fsync.test"
}
echo "  disk: fdatasync of 8 kB $(fsync_rate) (pg_test_fsync)"

if has a || has b || has c; then
  $SB --records "$N" --dump "$work/records.copy" | sed 's/^/  /'
  echo "  dump size         $(du -m "$work/records.copy" | cut -f1) MB"
  # The same records in files of 1,000 lines, for a ceiling with staging's commit granularity.
  mkdir "$work/chunks"
  split -l 1000 -a 4 "$work/records.copy" "$work/chunks/c"
  for f in "$work"/chunks/c*; do echo "\\copy raw_copy_batches(key, raw) FROM '$f'"; done >"$work/chunks.sql"
fi

# Sums the server-side durations (parse + bind + execute) of the staging writer's statements
# in the server log since line $log_from; the writer is the backend that ran the outbox COPY.
profile() {
  local inside
  inside=$(sed -n 's/.*; \([0-9.]*\) s inside Commit.*/\1/p' "$work/b.out")
  tail -n +"$log_from" "$work/pg/server.log" >"$work/profile.log"
  local pid
  pid=$(sed -n 's/.*\[\([0-9]*\)\] LOG:  duration: .*COPY dataforge.outbox.*/\1/p' "$work/profile.log" | head -1)
  awk -v pid="[$pid]" -v n="$N" -v inside="$inside" '
    index($0, pid) && /duration: / {
      match($0, /duration: [0-9.]+ ms/); d = substr($0, RSTART + 10, RLENGTH - 13) / 1000
      rest = substr($0, RSTART + RLENGTH)
      c = "other (BEGIN, source position, counters)"
      if (rest ~ /COPY dataforge.outbox/) c = "COPY into dataforge.outbox"
      else if (rest ~ /WITH up AS/) c = "upsert of dataforge.records"
      else if (rest ~ /statement: COMMIT/) c = "COMMIT (WAL flush)"
      t[c] += d; all += d }
    END {
      for (c in t) printf "    %-50s %6.2f s  %5.1f us/record\n", c, t[c], t[c] * 1e6 / n
      printf "    %-50s %6.2f s  %5.1f us/record\n", "client, libpq, loopback (inside Commit - server)",
        inside - all, (inside - all) * 1e6 / n }' "$work/profile.log" >"$work/profile.txt"
  echo "  where the writer's time went (server-side durations, log_min_duration_statement=0):"
  sort -t'|' -k1,1 "$work/profile.txt"
}

before_run() { # (b) with the SB_BEFORE binary, for a before/after comparison in the same run
  echo "== run $run (b') the same with SB_BEFORE=$SB_BEFORE (the version to compare with)"
  pq "DROP SCHEMA IF EXISTS dataforge CASCADE" "CHECKPOINT"
  local s0 c0
  s0=$(pgcpu)
  "$SB_BEFORE" --records "$N" --staging "$URL" --instance bench | tee "$work/b0.out"
  before_rates+=("$(rate_of "$work/b0.out")")
  c0=$(awk '/client CPU/ {print $3}' "$work/b0.out")
  if [[ -n $c0 ]]; then
    cpu_line "$s0" "$c0" "$N" | tee "$work/b0.cpu"
    before_cpus+=("$(awk '{print $(NF-1)}' "$work/b0.cpu")")
  fi
}

for run in $(seq 1 "$RUNS"); do
  if has a || has b || has c; then echo "== run $run: disk fdatasync $(fsync_rate), load $(load)"; fi
  sqlite_rate="" pg_rate="" pk_rate="" nopk_rate="" batches_rate=""
  if has a; then
    echo "== run $run (a) staging_bench into SQLite (temp file), batch 1000, fsync per commit"
    $SB --records "$N" --staging "sqlite://$work/staging.db" | tee "$work/a.out"
    sqlite_rate=$(rate_of "$work/a.out")
    rm -f "$work"/staging.db*
  fi
  if has b; then
    # With SB_BEFORE, the two binaries take turns at going first (odd runs: SB_BEFORE first):
    # on this machine the first of the two staging runs is often the slower one.
    if [[ -n ${SB_BEFORE:-} ]] && ((run % 2 == 1)); then before_run; fi
    echo "== run $run (b) staging_bench into PostgreSQL staging, batch 1000, synchronous_commit=on"
    pq "DROP SCHEMA IF EXISTS dataforge CASCADE" "CHECKPOINT"
    if [[ $PROFILE == 1 ]]; then
      pq "ALTER SYSTEM SET log_min_duration_statement = 0" "SELECT pg_reload_conf()" >/dev/null
      log_from=$(($(wc -l <"$work/pg/server.log") + 1))
    fi
    s0=$(pgcpu)
    $SB --records "$N" --staging "$URL" --instance bench | tee "$work/b.out"
    pg_rate=$(rate_of "$work/b.out")
    cpu_line "$s0" "$(awk '/client CPU/ {print $3}' "$work/b.out")" "$N" | tee "$work/b.cpu"
    pg_cpus+=("$(awk '{print $(NF-1)}' "$work/b.cpu")")
    if [[ $PROFILE == 1 ]]; then
      pq "ALTER SYSTEM SET log_min_duration_statement = -1" "SELECT pg_reload_conf()" >/dev/null
      profile
    fi
    echo "  sizes: outbox $(pq "SELECT pg_size_pretty(pg_total_relation_size('dataforge.outbox'))")," \
      "records $(pq "SELECT pg_size_pretty(pg_total_relation_size('dataforge.records'))")"
    if [[ -n ${SB_BEFORE:-} ]] && ((run % 2 == 0)); then before_run; fi
  fi
  if has c; then
    echo "== run $run (c) ceiling: psql \\copy of the same records (raw_copy: one transaction;"
    echo "   raw_copy_nopk: the same without the primary key; raw_copy_batches: with the primary"
    echo "   key, one transaction per 1,000 records like staging's batches)"
    for table in raw_copy raw_copy_nopk raw_copy_batches; do
      pq "DROP TABLE IF EXISTS $table" "CHECKPOINT"
      if [[ $table == raw_copy_nopk ]]; then
        pq "CREATE TABLE $table(key text, raw text)"
      else
        pq "CREATE TABLE $table(key text PRIMARY KEY, raw text)"
      fi
      t0=$(now)
      s0=$(pgcpu)
      TIMEFORMAT='%3U %3S'
      if [[ $table == raw_copy_batches ]]; then
        { time "${PSQL[@]}" -f "$work/chunks.sql"; } 2>"$work/c.time"
      else
        { time "${PSQL[@]}" -1 -c "\\copy $table(key, raw) FROM '$work/records.copy'"; } 2>"$work/c.time"
      fi
      t1=$(now)
      rows=$(pq "SELECT count(*) FROM $table")
      r=$(awk -v n="$rows" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", n / (b - a)}')
      awk -v n="$rows" -v a="$t0" -v b="$t1" -v t="$table" 'BEGIN {
        printf "  %-17s %10.0f records/s (%d rows in %.2f s)\n", t, n / (b - a), n, b - a }'
      cpu_line "$s0" "$(awk '{print $1 + $2}' "$work/c.time")" "$rows" | tee "$work/c.cpu"
      if [[ $table == raw_copy ]]; then ceil_cpus+=("$(awk '{print $(NF-1)}' "$work/c.cpu")"); fi
      if [[ $table == raw_copy ]]; then pk_rate=$r; elif [[ $table == raw_copy_nopk ]]; then nopk_rate=$r; else batches_rate=$r; fi
      pq "DROP TABLE $table"
    done
  fi
  if [[ -n $pg_rate && -n $pk_rate ]]; then
    awk -v s="$pg_rate" -v c="$pk_rate" -v d="$nopk_rate" -v b="$batches_rate" -v q="$sqlite_rate" 'BEGIN {
      printf "  ratio: PostgreSQL staging / \\copy with PK = %.0f%% (target: >= 70%%)", 100 * s / c
      if (d != "") printf ", / without PK = %.0f%%", 100 * s / d
      if (b != "") printf ", / in batches of 1,000 = %.0f%%", 100 * s / b
      if (q != "") printf "; SQLite staging / \\copy with PK = %.0f%%", 100 * q / c
      printf "\n" }'
    ratios+=("$(awk -v s="$pg_rate" -v c="$pk_rate" 'BEGIN {printf "%.0f", 100 * s / c}')")
    pg_rates+=("$pg_rate") ceil_rates+=("$pk_rate")
    if [[ -n ${SB_BEFORE:-} ]]; then
      before_ratios+=("$(awk -v s="${before_rates[-1]}" -v c="$pk_rate" 'BEGIN {printf "%.0f", 100 * s / c}')")
      echo "  ratio: SB_BEFORE's PostgreSQL staging / \\copy with PK = ${before_ratios[-1]}%"
    fi
  fi
done
if ((${#ratios[@]} > 0)); then
  mmm() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {printf "%s / %s / %s", v[1], v[int((NR + 1) / 2)], v[NR]}'; }
  echo "== $RUNS runs, min / median / max (load at the end $(load)):"
  echo "  PostgreSQL staging          $(mmm "${pg_rates[@]}") records/s"
  echo "  \\copy, PK, 1 transaction   $(mmm "${ceil_rates[@]}") records/s"
  echo "  staging / \\copy             $(mmm "${ratios[@]}") %  (per run: ${ratios[*]}; target >= 70%)"
  if ((${#pg_cpus[@]} > 0 && ${#ceil_cpus[@]} > 0)); then
    echo "  CPU per record (server + client; the machine's load inflates it less than wall time):"
    echo "    PostgreSQL staging        $(mmm "${pg_cpus[@]}") us"
    echo "    \\copy, PK, 1 transaction $(mmm "${ceil_cpus[@]}") us"
    if ((${#before_cpus[@]} > 0)); then echo "    SB_BEFORE's staging       $(mmm "${before_cpus[@]}") us"; fi
  fi
  if ((${#before_ratios[@]} > 0)); then
    echo "  SB_BEFORE's staging         $(mmm "${before_rates[@]}") records/s"
    echo "  SB_BEFORE's staging / \\copy $(mmm "${before_ratios[@]}") %  (per run: ${before_ratios[*]})"
  fi
fi

if has d; then
  echo "== (d) the whole pipeline, PostgreSQL staging (built-in API -> PostgreSQL -> embedded log -> RocksDB)"
  pq "DROP SCHEMA IF EXISTS dataforge CASCADE" "CHECKPOINT"
  $PB --records "$N" --staging "$URL"
  echo "== (d) the same with SQLite staging, for reference"
  $PB --records "$N"
fi

if has e; then
  echo "== (e) disk fdatasync $(fsync_rate)"
  pq "CREATE TABLE IF NOT EXISTS accounts(id bigint PRIMARY KEY, note text)"
  # 10 rows per transaction, inserted or updated: 10 change events. The ids of one statement are
  # distinct (ON CONFLICT cannot touch a row twice) and each client has its own id range.
  cat >"$work/changes.sql" <<'EOF'
\set r random(0, 9999)
INSERT INTO accounts(id, note)
  SELECT :client_id * 1000000 + :r * 10 + g, md5(random()::text) FROM generate_series(0, 9) g
  ON CONFLICT (id) DO UPDATE SET note = excluded.note;
EOF
  cat >"$work/cdc.yaml" <<EOF
source: {name: accounts, type: postgres_cdc, url: "$URL", tables: [public.accounts]}
log: {topic: accounts_changes, partitions: 2}
process:
  table: app.accounts
  key_column: id
  delete_when: {path: op, equals: delete}
  columns:
    - {name: id, path: data.id, required: true}
    - {name: note, path: data.note}
EOF
  for staging in $CDC_STAGING; do
    data="$work/cdc-$staging"
    extra=()
    if [[ $staging == postgresql ]]; then
      pq "DROP SCHEMA IF EXISTS dataforge CASCADE"
      extra=(--staging "$URL")
    fi
    echo "== (e) CDC: pgbench $((CDC_RATE * ROWS_PER_TXN)) row changes/s ($CDC_RATE transactions/s of" \
      "$ROWS_PER_TXN rows, $CDC_CLIENTS clients) for $CDC_SECONDS s; staging $staging"
    # A fresh slot per run (the last run's slot would replay this TRUNCATE).
    pq "SELECT count(pg_drop_replication_slot(slot_name)) FROM pg_replication_slots WHERE slot_name='dataforge_accounts'" >/dev/null
    pq "TRUNCATE accounts" "CHECKPOINT"
    $DF --config "$work/cdc.yaml" --data-dir "$data" "${extra[@]}" --log-level warn \
      run --no-progress >"$work/cdc.out" 2>"$work/cdc.err" &
    df_pid=$!
    for i in $(seq 1 600); do
      [[ $(pq "SELECT count(*) FROM pg_replication_slots WHERE slot_name='dataforge_accounts' AND active") == 1 ]] && break
      kill -0 "$df_pid" 2>/dev/null || { cat "$work/cdc.err" >&2; exit 1; }
      sleep 0.1
    done
    pgbench -n -f "$work/changes.sql" -R "$CDC_RATE" -T "$CDC_SECONDS" -c "$CDC_CLIENTS" -j 2 \
      -h 127.0.0.1 -p "$PORT" -U postgres dataforge >"$work/pgbench.log" 2>&1
    t_end=$(now)
    txns=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$work/pgbench.log")
    changes=$((txns * ROWS_PER_TXN))
    sed -n 's/^\(tps\|latency average\|rate limit schedule lag\|number of failed\).*/  pgbench: &/p' "$work/pgbench.log"
    awk -v t="$txns" -v c="$changes" -v s="$CDC_SECONDS" -v want="$((CDC_RATE * ROWS_PER_TXN))" 'BEGIN {
      printf "  pgbench: %d transactions, %d row changes in %d s = %.0f changes/s%s\n", t, c, s,
        c / s, c / s < 0.95 * want ? " (the generator fell short of the target rate)" : "" }'
    stored=0
    t_caught="" polls=0
    deadline=$(($(date +%s) + 120))
    for ((i = 1; $(date +%s) < deadline; i++)); do
      tp=$(now)
      stored=$($DF --config "$work/cdc.yaml" --data-dir "$data" "${extra[@]}" status --json 2>/dev/null |
        sed -n 's/.*"stored":\([0-9]*\).*/\1/p')
      stored=${stored:-0}
      if ((stored >= changes)); then t_caught=$(now) polls=$i poll_s=$(awk -v a="$tp" -v b="$t_caught" 'BEGIN {printf "%.2f", b - a}'); break; fi
      sleep 0.1
    done
    hwm=$(awk '/^VmHWM/ {printf "%.1f MB", $2 / 1024}' "/proc/$df_pid/status")
    kill -TERM "$df_pid"
    wait "$df_pid" || echo "  dataforge exited with $?"
    df_pid=""
    sed 's/^/  /' "$work/cdc.out"
    if [[ -n $t_caught ]]; then
      awk -v a="$t_end" -v b="$t_caught" -v s="$stored" -v c="$changes" -v p="$polls" -v q="$poll_s" 'BEGIN {
        d = b - a
        printf "  stored %d of %d changes %.2f s after pgbench ended (status poll %d, which took %.2f s): kept up: %s\n",
          s, c, d, p, q, d <= 3 ? "yes" : "no" }'
    else
      echo "  stored $stored of $changes changes, not all within 120 s: kept up: no"
    fi
    echo "  dataforge peak RSS (VmHWM) $hwm"
    if [[ -s $work/cdc.err ]]; then echo "  dataforge stderr:"; sed 's/^/    /' "$work/cdc.err" | tail -5; fi
  done
fi
