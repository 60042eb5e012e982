#!/usr/bin/python3
"""Reads a process.outputs topic of a DataForge pipeline with Confluent's Python client, as the
seed's Spark job read the flattened users from Kafka, and compares it with the store's table
(tests/integration/outputs_test.cc).

usage: outputs_consume.py BOOTSTRAP TOPIC ROWS_FILE EXPECTED

ROWS_FILE holds the table's rows as `dataforge table scan` prints them (one JSON object a line).
The topic is read from the beginning until EXPECTED records came (or 60 s passed); each value is
parsed as JSON with the Spark job's schema (id, first_name, last_name, gender, address,
post_code, email, username, dob, registered_date, phone, picture) and its key must be the id.
A record with a null value (a tombstone: the row was deleted) removes its key, as an upsert
consumer or a compacted topic would.
Prints one line: records N, keys K, matching M, key is id I, spark fields F, tombstones T.
"""
import json
import os
import sys
import time

from confluent_kafka import Consumer

bootstrap, topic, rows_file, expected = sys.argv[1:5]
expected = int(expected)

SPARK_FIELDS = ["id", "first_name", "last_name", "gender", "address", "post_code", "email",
                "username", "dob", "registered_date", "phone", "picture"]

rows = {}
with open(rows_file) as f:
    for line in f:
        if line.strip():
            row = json.loads(line)
            rows[row["id"]] = row

consumer = Consumer({
    "bootstrap.servers": bootstrap,
    # A group of its own per run: a second run joining the first's group would wait for the
    # mock broker to let the first member go.
    "group.id": f"outputs-python-check-{os.getpid()}",
    "auto.offset.reset": "earliest",
    "enable.auto.commit": False,
})
consumer.subscribe([topic])
values = {}
records = 0
tombstones = 0
key_is_id = 0
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
    if msg.value() is None:
        tombstones += 1
        values.pop(key, None)
        continue
    value = json.loads(msg.value().decode("utf-8"))
    if value.get("id") == key:
        key_is_id += 1
    values[key] = value  # the last version of each key, as an upsert into a table
consumer.close()

matching = sum(1 for k, v in values.items() if rows.get(k) == v)
spark = sum(1 for v in values.values() if all(f in v for f in SPARK_FIELDS))
for k, v in list(values.items())[:3]:
    if rows.get(k) != v:
        print("differs:", k, v, rows.get(k), file=sys.stderr)
missing = [k for k in rows if k not in values]
if missing:
    print("not on the topic:", missing[:5], file=sys.stderr)
print(f"records {records}, keys {len(values)}, matching {matching}, key is id {key_is_id}, "
      f"spark fields {spark}, tombstones {tombstones}")
