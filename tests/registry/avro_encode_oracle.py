#!/usr/bin/python3
"""The oracle for Avro binary encoding: python3-avro's DatumWriter (what Confluent's Avro
serializers write after the magic byte and schema id).

Reads {"schema": <Avro schema>, "records": [<plain JSON record>, ...]} on stdin and prints
the hex of each record's binary encoding, one line per record. Records must not hold bytes or
fixed values (python wants bytes objects for those). Run with Debian's /usr/bin/python3.
"""
import io
import json
import sys

import avro.io
import avro.schema


def main():
    doc = json.load(sys.stdin)
    schema = avro.schema.parse(json.dumps(doc["schema"]))
    writer = avro.io.DatumWriter(schema)
    for record in doc["records"]:
        buf = io.BytesIO()
        writer.write(record, avro.io.BinaryEncoder(buf))
        print(buf.getvalue().hex())


if __name__ == "__main__":
    main()
