#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/seed_*): small valid
inputs of each format. Reproducers of fixed crashes (crash_*) sit beside them and are kept.
Run from the repository root: python3 tests/fuzz/make_seeds.py (cql_frame's seeds are
hand-made and not written here)."""
import json
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")
FIXTURES = os.path.join(ROOT, "..", "shared", "fixtures", "randomuser")


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed_" + name), "wb") as f:
        f.write(data)


# --- http_response: each randomuser fixture cut to its first two records, plus odd shapes.
def http_response():
    for name in sorted(os.listdir(FIXTURES)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
            doc = json.load(f)
        doc["results"] = doc["results"][:2]
        write("http_response", name[:-5], json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
    write("http_response", "api_error", '{"error":"Uh oh, something has gone wrong."}')
    write("http_response", "not_object_record", '{"results":[1,"x",null,{"login":{"uuid":""}}]}')
    write("http_response", "deleted", '{"results":[{"status":"deleted","login":{"uuid":'
          '"0b4e5d1c-9f0a-4b4e-8a3e-2d8f4c6b7a91"}}]}')


# --- pgoutput: byte 0 = mode (1: CopyData-wrapped), then [u16 length][message] chunks.
def be(fmt, *v):
    return struct.pack(">" + fmt, *v)


def cstr(s):
    return s.encode() + b"\0"


def relation(oid, schema, name, ident, cols):
    b = b"R" + be("I", oid) + cstr(schema) + cstr(name) + ident.encode() + be("H", len(cols))
    for flags, cname, typ in cols:
        b += be("B", flags) + cstr(cname) + be("I", typ) + be("i", -1)
    return b


def tuple_data(values):
    b = be("H", len(values))
    for v in values:
        if v is None:
            b += b"n"
        elif v == "<toast>":
            b += b"u"
        else:
            b += b"t" + be("I", len(v.encode())) + v.encode()
    return b


def chunks(mode, messages, copy_data):
    out = bytes([mode])
    lsn = 0x16B374D848
    for m in messages:
        if copy_data:
            m = b"w" + be("QQq", lsn, lsn + len(m), 848000000000000) + m
            lsn += len(m)
        out += be("H", len(m)) + m
    return out


def pgoutput():
    commit_pg_us = 1795575845123456 - 946684800000000
    begin = b"B" + be("Qqi", 0x16B374D848, commit_pg_us, 731)
    commit = b"C" + be("BQQq", 0, 0x16B374D848, 0x16B374D878, commit_pg_us)
    accounts = relation(16384, "public", "accounts", "d",
                        [(1, "id", 20), (0, "email", 25), (0, "balance", 1700),
                         (0, "flag", 16), (0, "meta", 3802), (0, "ref", 2950)])
    full = relation(16390, "", "events", "f", [(1, "id", 23), (1, "at", 1184)])
    ins = b"I" + be("I", 16384) + b"N" + tuple_data(
        ["1", "a@example.com", "10.50", "t", '{"k":[1,2]}', "0b4e5d1c-9f0a-4b4e-8a3e-2d8f4c6b7a91"])
    upd = b"U" + be("I", 16384) + b"K" + tuple_data(["1", None, None, None, None, None]) + b"N" + \
        tuple_data(["2", "b@example.com", "NaN", "f", "<toast>", None])
    upd_full = b"U" + be("I", 16390) + b"O" + tuple_data(["5", "2026-11-25 03:04:05+00"]) + b"N" + \
        tuple_data(["6", "2026-11-25 03:04:06+00"])
    dele = b"D" + be("I", 16384) + b"K" + tuple_data(["2", None, None, None, None, None])
    trunc = b"T" + be("I", 2) + be("B", 1) + be("II", 16384, 16390)
    origin = b"O" + be("Q", 0x10) + cstr("origin_a")
    typ = b"Y" + be("I", 90001) + cstr("public") + cstr("mood")
    msg = b"M" + be("B", 1) + be("Q", 0x20) + cstr("prefix") + be("I", 3) + b"abc"
    txn = [begin, accounts, ins, upd, dele, commit]
    write("pgoutput", "txn_bare", chunks(0, txn, False))
    write("pgoutput", "txn_copydata", chunks(1, txn, True))
    write("pgoutput", "full_identity", chunks(1, [begin, full, upd_full, commit], True))
    write("pgoutput", "other_messages", chunks(0, [origin, typ, msg, begin, accounts, trunc, commit], False))
    keepalive = b"k" + be("Qq", 0x16B374D848, 848000000000000) + b"\1"
    write("pgoutput", "keepalive", bytes([1]) + be("H", len(keepalive)) + keepalive)
    write("pgoutput", "lsn_text", bytes([0]) + be("H", 11) + b"16/B374D848")


# --- log_batch: byte 0 = mode (1: recompute CRCs), then one or more valid batches.
def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def varint(v):
    out = b""
    while v >= 0x80:
        out += bytes([(v & 0x7F) | 0x80])
        v >>= 7
    return out + bytes([v])


def lbytes(b):
    if isinstance(b, str):
        b = b.encode()
    return varint(len(b)) + b


def batch(base, records):
    # A value None is a tombstone: the batch is DFB2, its value lengths plus one (0 = null).
    nullable = any(value is None for _, value, _, _ in records)
    body = b""
    max_ts = 0
    for key, value, ts, headers in records:
        if not nullable:
            body += lbytes(key) + lbytes(value)
        elif value is None:
            body += lbytes(key) + varint(0)
        else:
            value = value.encode() if isinstance(value, str) else value
            body += lbytes(key) + varint(len(value) + 1) + value
        body += varint(((ts << 1) ^ (ts >> 63)) & (2**64 - 1))
        body += varint(len(headers))
        for k, v in headers:
            body += lbytes(k) + lbytes(v)
        max_ts = max(max_ts, ts)
    rest = struct.pack("<Iqq", len(records), base, max_ts) + body
    header = struct.pack("<II", 0x32424644 if nullable else 0x31424644, len(body))
    return header + struct.pack("<I", crc32c(rest)) + rest


def log_batch():
    user = '{"login":{"uuid":"0b4e5d1c-9f0a-4b4e-8a3e-2d8f4c6b7a91"},"name":{"first":"Ada"}}'
    b1 = batch(0, [("k1", user, 1795575845123456, [("seq", "1"), ("origin", "staging")])])
    b2 = batch(1, [("k2", "v2", 1795575845123457, []), ("", "", 0, []), ("k4", "x" * 40, -5, [("h", "")])])
    write("log_batch", "one_record", bytes([0]) + b1)
    write("log_batch", "segment", bytes([0]) + b1 + b2)
    write("log_batch", "fix_crc", bytes([1]) + b2)
    write("log_batch", "high_offset", bytes([1]) + batch(2**62, [("a", "b", 1, [])]))
    write("log_batch", "tombstones",
          bytes([0]) + batch(0, [("k1", None, 1, []), ("k2", "", 2, []), ("k3", user, 3, [])]))


# --- pipeline_yaml: the repository's pipelines, the docs' DAG example, small variants.
def pipeline_yaml():
    for name in sorted(os.listdir(os.path.join(ROOT, "pipelines"))):
        if name.endswith(".yaml"):
            with open(os.path.join(ROOT, "pipelines", name), "rb") as f:
                write("pipeline_yaml", name[:-5], f.read())
    write("pipeline_yaml", "dags_full", """dags:
  nightly_report:
    schedule: "30 2 * * *"
    timezone: Europe/Berlin
    start_date: 2026-01-01
    catchup: true
    max_active_runs: 2
    default_args: {retries: 2, retry_delay: 1m, max_retry_delay: 10m, timeout: 20m}
    tasks:
      - {id: ingest_more, type: ingest, pages: 2, results_per_page: 100, seed: "report-{{ ds_nodash }}"}
      - id: daily_counts
        type: sql
        depends_on: [ingest_more]
        sql: "INSERT OR REPLACE INTO daily_counts SELECT '{{ ds }}', count(*) FROM staged"
      - id: users_ok
        type: check
        depends_on: [ingest_more]
        table: dataforge.created_users
        row_count: {min: 1}
        not_null: [id, email]
        unique: [id]
      - id: export
        type: shell
        depends_on: [users_ok, daily_counts]
        command: 'echo "exporting {{ ds }} to $OUT_DIR"'
        env: {OUT_DIR: "/tmp/exports/{{ ds }}"}
        timeout: 5m
        depends_on_past: true
      - {id: tidy, type: compact, depends_on: [export], log: true, store: false}
""")
    write("pipeline_yaml", "env_and_kafka", """source: {url: "${DF_URL:-file:///tmp/users.json}", seed: "$$5"}
log: {url: "kafka://localhost:9092", topic: t, partitions: 2, properties: {acks: all}}
store: {url: "cassandra://h1:9042,h2:9042/ks", table_consistency: {ks.t: QUORUM}}
scheduler: {parallelism: 4, lease: 10s, poll: 100ms}
dags:
""")
    write("pipeline_yaml", "bad_line", "log:\n  partitions: 0\n")
    write("pipeline_yaml", "auth", """auth:
  required: true
  max_failed_logins_per_minute: 5
  jwt: {hs256_secret: "${DF_JWT:-0123456789abcdef0123456789abcdef}", audience: dataforge, leeway_s: 10}
  roles:
    analyst: {tables: {"sales.*": [read, write], "hr.?": [read]}, pipeline: [read]}
    ops: {dags: {"etl_[ab]*": [read, trigger, clear]}, deadletters: replay}
    nobody: {}
""")


# --- schedule: byte 0 = zone, bytes 1-4 = seconds since 1970, then the text.
def schedule():
    t = struct.pack(">I", 1795575845)  # 2026-11-25T03:04:05Z
    dst = struct.pack(">I", 1774746000)  # 2026-03-29T01:00:00Z (Europe/Berlin springs forward)
    cases = {
        "daily": (0, t, "@daily"), "hourly_ny": (2, t, "@hourly"), "once": (0, t, "@once"),
        "cron_berlin": (1, dst, "30 2 * * *"), "cron_lists": (3, t, "0,15,30-45/5 */2 1,15 jan-jun mon-fri"),
        "cron_feb29": (0, t, "0 0 29 2 *"), "cron_sunday7": (5, t, "59 23 * * 7"),
        "every": (0, t, "every 1h30m"), "interval": (6, t, "15m"), "duration_ms": (0, t, "500ms"),
        "datetime": (1, t, "2024-01-31T06:00:00+02:00"), "date": (4, t, "2024-01-31"),
        "bad_hour": (0, t, "0 24 * * *"), "never": (0, t, "0 0 30 2 *"),
    }
    for name, (zone, when, text) in cases.items():
        write("schedule", name, bytes([zone]) + when + text.encode())


if __name__ == "__main__":
    http_response()
    pgoutput()
    log_batch()
    pipeline_yaml()
    schedule()
    print("seeds written under", CORPUS, file=sys.stderr)
