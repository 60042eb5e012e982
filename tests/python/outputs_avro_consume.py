#!/usr/bin/python3
"""Reads a confluent-avro process.outputs topic of a DataForge pipeline with Confluent's Python
client and python3-avro, and compares every value with the store's table
(tests/integration/outputs_test.cc).

usage: outputs_avro_consume.py BOOTSTRAP TOPIC REGISTRY_URL SUBJECT ROWS_FILE EXPECTED

The schema is the subject's latest version from the registry `dataforge serve` serves
(SchemaRegistryClient.get_latest_version). Each value must start with Confluent's header (magic
byte 0, then that version's id, 4 bytes big-endian); the rest is read with avro.io.BinaryDecoder
(Confluent's AvroDeserializer needs fastavro, which Debian 12 lacks). ROWS_FILE holds the table's
rows as `dataforge table scan` prints them; a decoded value matches its row when every field of
the schema is equal (a column the row lacks is null).
Prints one line: records N, keys K, matching M, key is id I, schema ids [..], header ok H.
"""
import io
import json
import sys
import time

import avro.io
import avro.schema
from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient

bootstrap, topic, registry_url, subject, rows_file, expected = sys.argv[1:7]
expected = int(expected)

latest = SchemaRegistryClient({"url": registry_url}).get_latest_version(subject)
schema = avro.schema.parse(latest.schema.schema_str)
fields = [f.name for f in schema.fields]

rows = {}
with open(rows_file) as f:
    for line in f:
        if line.strip():
            row = json.loads(line)
            rows[row["id"]] = row

consumer = Consumer({
    "bootstrap.servers": bootstrap,
    "group.id": "outputs-avro-check",
    "auto.offset.reset": "earliest",
    "enable.auto.commit": False,
})
consumer.subscribe([topic])
values = {}
records = 0
key_is_id = 0
header_ok = 0
ids = set()
deadline = time.time() + 60
while records < expected and time.time() < deadline:
    msg = consumer.poll(0.5)
    if msg is None:
        continue
    if msg.error():
        print("error:", msg.error(), file=sys.stderr)
        continue
    records += 1
    key = msg.key().decode("utf-8")
    raw = msg.value()
    if raw[0] == 0:
        header_ok += 1
    ids.add(int.from_bytes(raw[1:5], "big"))
    value = avro.io.DatumReader(schema).read(avro.io.BinaryDecoder(io.BytesIO(raw[5:])))
    if value.get("id") == key:
        key_is_id += 1
    values[key] = value  # the last version of each key, as an upsert into a table
consumer.close()

matching = 0
for key, value in values.items():
    row = rows.get(key)
    if row is not None and all(value.get(f) == row.get(f) for f in fields):
        matching += 1
print("records %d, keys %d, matching %d, key is id %d, schema ids %s, header ok %d" %
      (records, len(values), matching, key_is_id, sorted(ids), header_ok))
if ids != {latest.schema_id}:
    print("ids %s, the registry says %d" % (sorted(ids), latest.schema_id), file=sys.stderr)
for key, value in list(values.items())[:3]:
    row = rows.get(key)
    if row is None or any(value.get(f) != row.get(f) for f in fields):
        print("differs: %s: topic %r table %r" % (key, value, row), file=sys.stderr)
