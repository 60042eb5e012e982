#!/usr/bin/env bash
# DataForge against the seed's own Python path, on the same mock API in the same run.
#
#   bench/seed_compare.sh [--records N] [--page P] [--runs R] [--build DIR]
#
# Starts `dataforge mock-api` on a free loopback port, then R times (alternating):
#   - bench/seed_python.py: the seed's get_data/format_data into SQLite, Python's standard
#     library only (/usr/bin/python3), one fsynced transaction per page (synchronous=FULL);
#   - `dataforge run --source-url http://127.0.0.1:PORT/api/?results=P&seed=bench
#      --max-records N` into a fresh data dir (default pipeline: durable batches in staging, log
#     and store).
# Both fetch the same pages (seed bench, pages 1..N/P) from the same server. The rate is N over
# the wall time of the whole process (start to exit), for both. Prints each run, then
# `seed_compare: python R1/R2.. dataforge D1/D2.. records/s, ratio (median) X.XX`, and the CPU
# (user + system, /usr/bin/time) per record of each process and their ratio, the figure that
# holds when other work shares the machine.
# Exit: 0 ok, 1 a run failed, 2 usage. Needs the release build (scripts/setup.sh or build-bench).
set -euo pipefail
usage() { sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; }
cd "$(dirname "$0")/.."
N=100000 PAGE=500 RUNS=3 BUILD=
while [ $# -gt 0 ]; do
  case "$1" in
    --records) N=${2:?--records needs a value}; shift 2 ;;
    --page) PAGE=${2:?--page needs a value}; shift 2 ;;
    --runs) RUNS=${2:?--runs needs a value}; shift 2 ;;
    --build) BUILD=${2:?--build needs a value}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "seed_compare: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for v in "$N" "$PAGE" "$RUNS"; do
  [[ "$v" =~ ^[1-9][0-9]*$ ]] || { echo "seed_compare: '$v' is not a positive whole number" >&2; exit 2; }
done
if [ -z "$BUILD" ]; then
  for d in build-bench build; do [ -x "$d/src/dataforge" ] && { BUILD=$d; break; }; done
fi
DF=${BUILD:-build}/src/dataforge
[ -x "$DF" ] || { echo "seed_compare: no $DF; build it (scripts/setup.sh) or pass --build DIR" >&2; exit 2; }
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "seed_compare: $PY not found" >&2; exit 2; }

work=$(mktemp -d /tmp/df_seedcmp_XXXXXX)
mock_pid= child=
cleanup() {
  set +e  # every step runs, whatever the one before returned
  # The running child (/usr/bin/time and the process it times), then the mock API, by pid.
  if [ -n "$child" ]; then
    pkill -TERM -P "$child" 2>/dev/null
    kill "$child" 2>/dev/null
    wait "$child" 2>/dev/null
  fi
  if [ -n "$mock_pid" ]; then kill "$mock_pid" 2>/dev/null && wait "$mock_pid" 2>/dev/null; fi
  rm -rf "$work"
}
# Runs a child in the background and waits for it, so that a signal's trap runs at once.
run_child() {
  "$@" &
  child=$!
  local rc=0
  wait "$child" || rc=$?
  child=
  return $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$DF" mock-api --port 0 >"$work/mock.out" 2>&1 &
mock_pid=$!
port=
for _ in $(seq 200); do
  port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/api/.*|\1|p' "$work/mock.out")
  [ -n "$port" ] && break
  kill -0 "$mock_pid" 2>/dev/null || break
  sleep 0.05
done
[ -n "$port" ] || { echo "seed_compare: mock-api did not start: $(cat "$work/mock.out")" >&2; exit 1; }
base="http://127.0.0.1:$port/api/"
echo "seed_compare: $N records, pages of $PAGE (seed bench) from $base, $RUNS runs, $DF," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)"

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }
# CPU (user + system) per record of the whole process, from /usr/bin/time; the mock API is a
# separate process and counted for neither.
cpu_us() { awk -v n="$N" '{ printf "%.1f", ($1 + $2) * 1e6 / n }' "$1"; }
py_rates=() df_rates=() py_cpus=() df_cpus=()
for r in $(seq "$RUNS"); do
  t0=$(now)
  if ! run_child /usr/bin/time -f '%U %S' -o "$work/py.cpu" "$PY" bench/seed_python.py --url "$base" --records "$N" --page "$PAGE" --seed bench \
    --db "$work/seed_$r.db" >"$work/py.out" 2>&1; then
    echo "seed_compare: run $r: seed_python failed: $(cat "$work/py.out")" >&2; exit 1
  fi
  t1=$(now)
  py_rates+=("$(rate "$N" "$t0" "$t1")")
  py_cpus+=("$(cpu_us "$work/py.cpu")")
  echo "  run $r python     ${py_rates[-1]} records/s, ${py_cpus[-1]} us CPU/record  ($(cat "$work/py.out"))"
  rm -f "$work/seed_$r".db*

  t0=$(now)
  if ! run_child /usr/bin/time -f '%U %S' -o "$work/df.cpu" "$DF" --data-dir "$work/df_$r" run --no-progress --max-records "$N" \
    --source-url "${base}?results=$PAGE&seed=bench" >"$work/df.out" 2>&1; then
    echo "seed_compare: run $r: dataforge run failed:" >&2; tail -5 "$work/df.out" >&2; exit 1
  fi
  t1=$(now)
  df_rates+=("$(rate "$N" "$t0" "$t1")")
  stored=$(awk '$1 == "stored" { print $2; exit }' "$work/df.out")
  inner=$(awk '$1 == "records/s" { print $2; exit }' "$work/df.out")
  if [ "$stored" != "$N" ]; then
    echo "seed_compare: run $r: dataforge stored '${stored}' of $N records" >&2; exit 1
  fi
  df_cpus+=("$(cpu_us "$work/df.cpu")")
  echo "  run $r dataforge  ${df_rates[-1]} records/s, ${df_cpus[-1]} us CPU/record  ($stored stored; its own summary: $inner records/s)"
  rm -rf "$work/df_$r"
done

median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
pm=$(median "${py_rates[@]}") dm=$(median "${df_rates[@]}")
ratio=$(awk -v d="$dm" -v p="$pm" 'BEGIN { printf "%.2f", d / p }')
pc=$(median "${py_cpus[@]}") dc=$(median "${df_cpus[@]}")
cratio=$(awk -v d="$dc" -v p="$pc" 'BEGIN { printf "%.2f", p / d }')
echo "seed_compare: python $(IFS=/; echo "${py_rates[*]}") dataforge $(IFS=/; echo "${df_rates[*]}")" \
  "records/s, ratio (median) ${ratio}x (target >= 3x); CPU per record (median) python ${pc} us," \
  "dataforge ${dc} us: ${cratio}x less CPU"
