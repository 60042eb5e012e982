#!/usr/bin/env bash
# The pipeline over Kafka (librdkafka's mock brokers on loopback, 3 brokers) beside the embedded
# log, and a plain kcat produce / consume of the same records as the ceiling.
#   bench/kafka_bench.sh [RECORDS]        (default 100000; build first: scripts/setup.sh)
# The mock brokers keep at most ~5 MB per partition, so the topics have 32 partitions.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
P=32
BENCH=build/bench/pipeline_bench
MOCK=build/tests/kafka_mock_cluster
work=$(mktemp -d /tmp/df_kbench_XXXXXX)
trap 'kill $mock_pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

$MOCK --brokers 3 --topic e2e:$P --topic relay:$P --topic relayonly:$P --topic ceiling:$P >"$work/mock.out" 2>&1 &
mock_pid=$!
for _ in $(seq 100); do grep -q bootstrap "$work/mock.out" && break; sleep 0.05; done
B=$(sed -n 's/bootstrap.servers=//p' "$work/mock.out")
echo "kafka_bench: $N records, $P partitions, mock cluster $B"

echo "== embedded log, end to end"
$BENCH --records "$N"
echo "== Kafka, end to end (one process: source, staging, relay, Kafka, processor, store)"
$BENCH --records "$N" --log "kafka://$B" --topic e2e --partitions $P
echo "== Kafka, relay (role ingest: source, staging, relay into Kafka)"
$BENCH --records "$N" --log "kafka://$B" --topic relay --partitions $P --role ingest
echo "== Kafka, relay alone: the outbox of the embedded run above (staged, not yet in this"
echo "   topic) streamed into Kafka; the source fetches 1 record"
$BENCH --records "$N" --dir "$work/filled" >/dev/null
$BENCH --records 1 --dir "$work/filled" --log "kafka://$B" --topic relayonly --partitions $P \
  --role ingest 2>/dev/null  # (one "streaming rows again" warning per batch: expected here)
echo "== Kafka, consumer (role process: Kafka -> mapping -> RocksDB, the records relayed above)"
$BENCH --records "$N" --log "kafka://$B" --topic relay --partitions $P --role process

echo "== kcat ceiling: the same records (key<TAB>value), produced and consumed by kcat"
kcat -b "$B" -C -t relay -o beginning -e -q -f '%k\t%s\n' >"$work/records.tsv"
echo "  records exported  $(wc -l <"$work/records.tsv") ($(du -m "$work/records.tsv" | cut -f1) MB)"
t0=$(date +%s.%N)
kcat -b "$B" -P -t ceiling -K $'\t' -X acks=all -X enable.idempotence=true \
  -X topic.partitioner=murmur2 -l "$work/records.tsv"
t1=$(date +%s.%N)
kcat -b "$B" -C -t ceiling -o beginning -e -q -f '%k %s\n' >/dev/null
t2=$(date +%s.%N)
kcat -b "$B" -C -t relay -o beginning -e -q -f '%k %s\n' >/dev/null
t3=$(date +%s.%N)
awk -v n="$N" -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN {
  printf "  kcat produce      %10.0f records/s (%.2f s, acks=all, idempotent)\n", n / (b - a), b - a
  printf "  kcat consume      %10.0f records/s (%.2f s, the records kcat produced)\n", n / (c - b), c - b
  printf "  kcat consume      %10.0f records/s (%.2f s, the records DataForge relayed: its batches)\n", n / (d - c), d - c }'
