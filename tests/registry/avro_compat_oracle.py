#!/usr/bin/python3
"""The oracle for Avro compatibility: python3-avro's ReaderWriterCompatibilityChecker.

Reads the pairs file (tests/registry/avro_compat_pairs.json: {"pairs": [{"name", "old", "new"}]})
and prints one JSON object: {"verdicts": [{"backward": bool, "forward": bool}, ...]} in the
pairs' order. backward: the new schema (reader) reads what the old one (writer) wrote; forward:
the old schema reads the new one's data. Run with Debian's /usr/bin/python3 (python3-avro).
"""
import json
import sys

import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType


def compatible(reader, writer):
    result = ReaderWriterCompatibilityChecker().get_compatibility(reader, writer)
    return result.compatibility is SchemaCompatibilityType.compatible


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        pairs = json.load(f)["pairs"]
    verdicts = []
    for pair in pairs:
        old = avro.schema.parse(json.dumps(pair["old"]))
        new = avro.schema.parse(json.dumps(pair["new"]))
        verdicts.append({"backward": compatible(new, old), "forward": compatible(old, new)})
    json.dump({"verdicts": verdicts}, sys.stdout)


if __name__ == "__main__":
    main()
