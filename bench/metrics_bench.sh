#!/usr/bin/env bash
# What GET /metrics costs (docs/metrics.md; the issue's targets: <= 2% of end-to-end throughput
# with a scraper every second, a scrape of 64 partitions and 100 DAGs in <= 20 ms):
#   1. throughput: `dataforge run --max-records RECORDS --no-progress` into a fresh data dir,
#      ROUNDS rounds of three runs each, in turn: (a) no HTTP server, (b) --http-port 0 and
#      nobody scraping, (c) --http-port 0 and `curl /metrics` every second while it runs;
#      prints each run's records/s (the run summary's) and the medians per kind;
#   2. scrape time: a pipeline file with a 64-partition log and 100 DAGs (@daily, one shell
#      task each); `dataforge run --http-port 0` (unbounded, the built-in API) until each DAG's
#      run has finished, then SCRAPES scrapes one after another while the pipeline keeps
#      running, at full speed and paced; prints curl's time_total p50 / p99 / max, GET
#      /health's p50 beside it (what the machine adds) and the exposition's size.
# Usage: bench/metrics_bench.sh [RECORDS] [ROUNDS] [SCRAPES]
#   BIN=build-asan/src/dataforge bench/metrics_bench.sh ...   (another binary; default build/)
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-200000}
rounds=${2:-3}
scrapes=${3:-200}
bin=${BIN:-build/src/dataforge}
dir=$(mktemp -d /tmp/df_metrics_bench_XXXXXX)
pid=
trap '[[ -n $pid ]] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }; rm -rf "$dir"' EXIT

port_of() {  # the port of the ready line in file $1 (waits up to 30 s)
  for _ in $(seq 300); do
    grep -q "serve: listening on" "$1" && break
    sleep 0.1
  done
  sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$1" | head -1
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# 1. Throughput.
: >"$dir/plain" && : >"$dir/idle" && : >"$dir/scraped"
for round in $(seq "$rounds"); do
  for kind in plain idle scraped; do
    rm -rf "$dir/data"
    args=(run --no-progress --max-records "$records" --data-dir "$dir/data")
    [[ $kind != plain ]] && args+=(--http-port 0)
    "$bin" "${args[@]}" >"$dir/run.out" 2>&1 &
    pid=$!
    scraped=0
    if [[ $kind == scraped ]]; then
      port=$(port_of "$dir/run.out")
      while kill -0 "$pid" 2>/dev/null; do
        curl -sf "http://127.0.0.1:$port/metrics" -o /dev/null && scraped=$((scraped + 1))
        sleep 1
      done
    fi
    wait "$pid"
    pid=
    rate=$(sed -n 's/^  records\/s *\([0-9]*\).*/\1/p' "$dir/run.out" | head -1)
    echo "$rate" >>"$dir/$kind"
    echo "round $round $kind: $rate records/s${scraped:+ ($scraped scrapes)}"
  done
done
for kind in plain idle scraped; do
  echo "median $kind: $(median <"$dir/$kind") records/s"
done

# 2. A scrape of 64 partitions and 100 DAGs: once with the pipeline at full speed (its stages
#    compete with the scrape for the CPU), once paced (source.rate_limit_per_sec: 2 pages of 50:
#    about 100 records/s) so that the time is the scrape's own work.
scrape_bench() {  # $1: label, $2: extra source settings
  {
    printf 'source:\n'
    printf "$2"  # its \n are newlines
    printf 'log:\n  partitions: 64\ndags:\n'
    for i in $(seq -w 1 100); do
      printf '  dag_%s:\n    schedule: "@daily"\n    start_date: 2026-01-01\n' "$i"
      printf '    tasks:\n      - {id: extract, type: shell, command: "true"}\n'
    done
  } >"$dir/pipeline.yaml"
  rm -rf "$dir/data"
  "$bin" run --no-progress --http-port 0 --config "$dir/pipeline.yaml" --data-dir "$dir/data" \
    >"$dir/run.out" 2>&1 &
  pid=$!
  port=$(port_of "$dir/run.out")
  [[ -n $port ]] || { cat "$dir/run.out"; exit 1; }
  url="http://127.0.0.1:$port/metrics"
  for _ in $(seq 600); do  # every DAG's run done (success or failed)
    done_runs=$(curl -sf "$url" | grep -cE '^dataforge_dag_runs\{.*state="(success|failed)"\} 1$' || true)
    [[ $done_runs -ge 100 ]] && break
    sleep 0.5
  done
  curl -sf "$url" >"$dir/scrape.txt"
  echo "$1: DAG runs finished $done_runs of 100; exposition $(wc -c <"$dir/scrape.txt") bytes," \
    "$(grep -vc '^#' "$dir/scrape.txt") samples, $(grep -c '^dataforge_log_end_offset{' "$dir/scrape.txt")" \
    "partitions, stored so far $(sed -n 's/^dataforge_records_total{stage="stored"} //p' "$dir/scrape.txt")"
  for _ in $(seq "$scrapes"); do
    curl -sf -o /dev/null -w '%{time_total}\n' "$url"
  done | sort -n >"$dir/times"
  for _ in $(seq 20); do
    curl -sf -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port/health"
  done | sort -n >"$dir/health"
  awk -v n="$(wc -l <"$dir/times")" -v label="$1" -v health="$(sed -n 10p "$dir/health")" '
    {t[NR] = $1 * 1000}
    END {
      printf "%s: %d scrapes: p50 %.1f ms, p99 %.1f ms, max %.1f ms (GET /health p50 %.1f ms)\n",
        label, n, t[int(n * 0.50 + 0.5)], t[int(n * 0.99 + 0.5)], t[n], health * 1000
    }' "$dir/times"
  kill -INT "$pid"
  wait "$pid" || true
  pid=
}
scrape_bench "full speed" "  name: randomuser\n"
scrape_bench "paced" "  rate_limit_per_sec: 2\n  results_per_page: 50\n"
