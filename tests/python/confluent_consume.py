#!/usr/bin/python3
"""Reads a DataForge pipeline's Kafka topic with Confluent's own Python client and checks every
record against the staged JSON (tests/integration/log_format_kafka_test.cc).

usage: confluent_consume.py BOOTSTRAP TOPIC SUBJECT SCHEMA_SOURCE STAGING_DB EXPECTED [avro]

SCHEMA_SOURCE is the registry URL (http://.../registry: the schema comes from
SchemaRegistryClient.get_latest_version(SUBJECT)) or a schema file. JSON: the values go through
DeserializingConsumer + JSONDeserializer (magic byte, id, jsonschema validation). Avro
(python3-avro; Confluent's AvroDeserializer needs fastavro, which Debian 12 lacks): a plain
Consumer, the 5-byte header stripped, the payload read with avro.io.BinaryDecoder.
Prints one line: records N, matching M, schema ids [..], header ok K.
"""
import io
import json
import sqlite3
import sys

from confluent_kafka import Consumer, DeserializingConsumer
from confluent_kafka.serialization import StringDeserializer

bootstrap, topic, subject, schema_source, staging_db, expected = sys.argv[1:7]
avro_mode = len(sys.argv) > 7 and sys.argv[7] == "avro"
expected = int(expected)

if schema_source.startswith("http"):
    from confluent_kafka.schema_registry import SchemaRegistryClient
    client = SchemaRegistryClient({"url": schema_source})
    latest = client.get_latest_version(subject)
    schema_str = latest.schema.schema_str
    registry_id = latest.schema_id
else:
    schema_str = open(schema_source).read()
    registry_id = None

common = {
    "bootstrap.servers": bootstrap,
    "group.id": "confluent-python-check",
    "auto.offset.reset": "earliest",
    "enable.auto.commit": False,
}
if avro_mode:
    import avro.io
    import avro.schema
    schema = avro.schema.parse(schema_str)
    consumer = Consumer(common)
else:
    from confluent_kafka.schema_registry.json_schema import JSONDeserializer
    consumer = DeserializingConsumer(dict(common, **{
        "key.deserializer": StringDeserializer("utf_8"),
        "value.deserializer": JSONDeserializer(schema_str),
    }))
consumer.subscribe([topic])

raw_consumer = Consumer(dict(common, **{"group.id": "confluent-python-raw"}))
raw_consumer.subscribe([topic])

values = {}
ids = set()
header_ok = 0
idle = 0
while len(values) < expected and idle < 30:
    msg = consumer.poll(1.0)
    if msg is None:
        idle += 1
        continue
    idle = 0
    if msg.error():
        raise SystemExit("consumer error: %s" % msg.error())
    if avro_mode:
        raw = msg.value()
        key = msg.key().decode()
        if raw[0] != 0:
            raise SystemExit("record %s: magic byte %d" % (key, raw[0]))
        ids.add(int.from_bytes(raw[1:5], "big"))
        header_ok += 1
        reader = avro.io.DatumReader(schema)
        values[key] = reader.read(avro.io.BinaryDecoder(io.BytesIO(raw[5:])))
    else:
        values[msg.key()] = msg.value()
consumer.close()

if not avro_mode:  # the header as bytes, from a plain consumer of the same topic
    seen = 0
    idle = 0
    while seen < expected and idle < 30:
        msg = raw_consumer.poll(1.0)
        if msg is None:
            idle += 1
            continue
        idle = 0
        raw = msg.value()
        seen += 1
        if raw[0] == 0:
            header_ok += 1
        ids.add(int.from_bytes(raw[1:5], "big"))
raw_consumer.close()

db = sqlite3.connect("file:%s?mode=ro" % staging_db, uri=True)
staged = {k: json.loads(r) for k, r in db.execute("SELECT key, raw FROM outbox")}
matching = sum(1 for k, v in values.items() if staged.get(k) == v)
if registry_id is not None and ids != {registry_id}:
    raise SystemExit("ids %s, the registry says %d" % (sorted(ids), registry_id))
print("records %d, matching %d, schema ids %s, header ok %d" %
      (len(values), matching, sorted(ids), header_ok))
