#!/usr/bin/env bash
# The pipeline over Kafka (librdkafka's mock brokers on loopback, 3 brokers) beside kcat, the
# reference client, in the same run: DataForge's relay against kcat producing the same records,
# DataForge's process role against kcat consuming the same topic, with the ratios.
#   bench/kafka_bench.sh [RECORDS]        (default 100000; build first: scripts/setup.sh)
# Environment: RUNS (default 3; each run has a fresh mock cluster), BUILD (build dir, default
# build), PARTS (subset of "erp", default "rp": e = the whole pipeline over Kafka and the
# ingest role (fetch -> acknowledged), r = the relay alone vs kcat produce, p = the process role
# vs kcat consume), PROCESS_ARGS (more pipeline_bench options for the process role, e.g.
# "--log-property queued.max.messages.kbytes=131072").
#
# kcat is the Debian package `kcat` (install it: apt-get install kcat). No Kafka broker is
# packaged for Debian 12, so the brokers are librdkafka's mock cluster (tests/tools/
# kafka_mock_cluster.cc), the same the tests use; it keeps at most ~5 MB per partition, so the
# topics have 32 partitions.
#
# The comparison is kept fair:
#  - produce: kcat gets the relay's producer settings (acks=all, enable.idempotence=true,
#    linger.ms=2, the same queue limits, murmur2 partitioner) and the same records (key, value,
#    and two headers of the same sizes as the relay's `seq` and `origin`), exported from the
#    relay's topic; both are timed from process start (DataForge: Run(), after the relay's
#    recovery; kcat: the whole command, connecting included).
#  - consume: kcat (assign, no group: -C -e) and the process role read the same topic, the one
#    the relay wrote; the process role is timed from its first record to the last (after
#    joining the group) and maps and durably stores every record, kcat prints them to /dev/null.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
RUNS=${RUNS:-3}
BUILD=${BUILD:-build}
PARTS=${PARTS:-rp}
P=32
BENCH=$BUILD/bench/pipeline_bench
MOCK=${MOCK:-$BUILD/tests/kafka_mock_cluster}
command -v kcat >/dev/null || { echo "kafka_bench: kcat missing: apt-get install kcat" >&2; exit 1; }
for b in $BENCH $MOCK; do [[ -x $b ]] || { echo "kafka_bench: $b missing: build first" >&2; exit 1; }; done
has() { [[ $PARTS == *$1* ]]; }
work=$(mktemp -d /tmp/df_kbench_XXXXXX)
mock_pid=""
stop_mock() {
  if [[ -n $mock_pid ]]; then kill "$mock_pid" 2>/dev/null || true; wait "$mock_pid" 2>/dev/null || true; fi
  mock_pid=""
}
trap 'stop_mock; rm -rf "$work"' EXIT
now() { date +%s.%N; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
# The Kafka settings of DataForge's producer (src/log/kafka/kafka_log.cc), for kcat.
KCAT_PRODUCER=(-X acks=all -X enable.idempotence=true -X linger.ms=2
  -X queue.buffering.max.messages=1000000 -X queue.buffering.max.kbytes=1048576
  -X topic.partitioner=murmur2)

start_mock() {
  $MOCK --brokers 3 --topic e2e:$P --topic relay:$P --topic relayonly:$P --topic ceiling:$P \
    >"$work/mock.out" 2>&1 &
  mock_pid=$!
  for _ in $(seq 100); do grep -q bootstrap "$work/mock.out" 2>/dev/null && break; sleep 0.05; done
  B=$(sed -n 's/bootstrap.servers=//p' "$work/mock.out")
}

echo "kafka_bench: $N records, $P partitions, $RUNS runs, mock cluster (3 brokers), $(nproc) cores," \
  "load $(load)"
if has r || has p; then
  echo "== filling an outbox: the embedded pipeline, $N records (the relay's input in every run)"
  $BENCH --records "$N" --dir "$work/filled" | grep -E "records/s|duration"
fi

declare -a R_OURS R_KCAT R_RATIO C_OURS C_KCAT C_RATIO C_KCAT_OWN
for run in $(seq 1 "$RUNS"); do
  start_mock
  echo "== run $run: mock cluster $B, load $(load)"
  if has e; then
    echo "-- Kafka, end to end (one process: source, staging, relay, Kafka, processor, store)"
    $BENCH --records "$N" --log "kafka://$B" --topic e2e --partitions $P | grep -E "records/s|latency p"
    echo "-- Kafka, ingest role (source, staging, relay into Kafka; fetch -> acknowledged)"
    $BENCH --records "$N" --log "kafka://$B" --topic relay --partitions $P --role ingest |
      grep -E "records/s|relayed"
  fi
  if has r || has p; then
    # The relay alone: the filled outbox (staged, not in this topic) streamed into Kafka; the
    # source fetches 1 record. (One "streaming rows again" warning per batch: expected here.)
    rm -rf "$work/dir"
    cp -a "$work/filled" "$work/dir"
    $BENCH --records 1 --dir "$work/dir" --log "kafka://$B" --topic relayonly --partitions $P \
      --role ingest 2>/dev/null >"$work/relay.out"
    ours=$(awk '/^  relayed/ {print $2; exit}' "$work/relay.out")
    echo "  DataForge relay    $(printf '%10.0f' "$ours") records/s (outbox -> acknowledged," \
      "$(awk '/^  relayed/ {print $4}' "$work/relay.out" | tr -d '(') rows)"
  fi
  if has r; then
    if [[ ! -s $work/records.tsv ]]; then
      # The relay's records with their headers' sizes: key<TAB>value, and one header pair.
      kcat -b "$B" -C -t relayonly -o beginning -e -q -f '%k\t%s\n' >"$work/records.tsv"
      hdr=$(kcat -b "$B" -C -t relayonly -p 0 -o beginning -c 1 -q -f '%h')
      echo "  records exported  $(wc -l <"$work/records.tsv") ($(du -m "$work/records.tsv" | cut -f1) MB); headers $hdr"
      IFS=, read -r h1 h2 <<<"$hdr"
      # seq: the same length as the relay's largest; origin: the relay's own value.
      KCAT_HEADERS=(-H "seq=$N" -H "$h2")
      [[ $h1 == seq=* ]] || KCAT_HEADERS=(-H "$h1" -H "seq=$N")
    fi
    t0=$(now)
    kcat -b "$B" -P -t ceiling -K $'\t' "${KCAT_PRODUCER[@]}" "${KCAT_HEADERS[@]}" -l "$work/records.tsv"
    t1=$(now)
    kc=$(awk -v n="$N" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", n / (b - a)}')
    ratio=$(awk -v a="$ours" -v b="$kc" 'BEGIN {printf "%.0f", 100 * a / b}')
    echo "  kcat produce       $(printf '%10.0f' "$kc") records/s (same records and headers, acks=all, idempotent, linger.ms=2)"
    echo "  relay / kcat produce = $ratio% (target >= 90%)"
    R_OURS+=("$ours") R_KCAT+=("$kc") R_RATIO+=("$ratio")
  fi
  if has p; then
    # shellcheck disable=SC2086 # PROCESS_ARGS: words for pipeline_bench
    $BENCH --records "$N" --log "kafka://$B" --topic relayonly --partitions $P --role process \
      ${PROCESS_ARGS:-} >"$work/process.out"
    ours=$(awk '/^  records\/s/ {print $2; exit}' "$work/process.out")
    echo "  DataForge process  $(printf '%10.0f' "$ours") records/s (first record -> $N stored in RocksDB;" \
      "$(awk '/process busy/ {print $3}' "$work/process.out") us/record busy)"
    t0=$(now)
    kcat -b "$B" -C -t relayonly -o beginning -e -q -f '%k %s\n' >/dev/null
    t1=$(now)
    kc=$(awk -v n="$N" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", n / (b - a)}')
    ratio=$(awk -v a="$ours" -v b="$kc" 'BEGIN {printf "%.0f", 100 * a / b}')
    echo "  kcat consume       $(printf '%10.0f' "$kc") records/s (the same topic, the relay's records)"
    own=""
    if has r; then
      t0=$(now)
      kcat -b "$B" -C -t ceiling -o beginning -e -q -f '%k %s\n' >/dev/null
      t1=$(now)
      own=$(awk -v n="$N" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", n / (b - a)}')
      echo "  kcat consume       $(printf '%10.0f' "$own") records/s (kcat's own topic: its batches)"
    fi
    echo "  process / kcat consume = $ratio% (target >= 80%)"
    C_OURS+=("$ours") C_KCAT+=("$kc") C_RATIO+=("$ratio") C_KCAT_OWN+=("$own")
  fi
  stop_mock
done

mmm() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {if (NR) printf "%s / %s / %s", v[1], v[int((NR + 1) / 2)], v[NR]}'; }
echo "== $RUNS runs, min / median / max; load at the end $(load)"
if has r; then
  echo "  relay              $(mmm "${R_OURS[@]}") records/s"
  echo "  kcat produce       $(mmm "${R_KCAT[@]}") records/s"
  echo "  relay / kcat       $(mmm "${R_RATIO[@]}") %  (per run: ${R_RATIO[*]})"
fi
if has p; then
  echo "  process role       $(mmm "${C_OURS[@]}") records/s"
  echo "  kcat consume       $(mmm "${C_KCAT[@]}") records/s"
  echo "  process / kcat     $(mmm "${C_RATIO[@]}") %  (per run: ${C_RATIO[*]})"
fi
