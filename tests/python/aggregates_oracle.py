#!/usr/bin/python3
"""An independent recomputation of `process.aggregates`, for tests/integration/aggregates_test.cc.

Usage:
  aggregates_oracle.py --config PIPELINE.yaml (--fixtures DIR | --api URL --seed S --records N
                       [--page P]) [--log LOG.jsonl] --table NAME=SCAN.jsonl [--table ...]

Reads the aggregate definitions from the pipeline file (python3-yaml), takes the raw users the
pipeline read (every *.json capture of DIR, in name order; or the first N users of the built-in
API for seed S, fetched page by page over HTTP with urllib exactly as DataForge's source asks for
them), maps each with the pipeline's `path` columns (no DataForge code: paths, fallbacks and the
text/int/bigint/double/timestamp/uuid casts are re-implemented here), assigns windows
(tumbling, hopping, session on an event-time column) and computes count, sum, min, max, avg and
count_distinct per (group, window). Session windows are per (group, log partition)
(docs/aggregates.md): LOG.jsonl, the output of `dataforge topic consume TOPIC --from-beginning`,
gives each record's partition and offset, and must hold exactly the input records. With
`late: deadletter` a record later than the lateness behind its partition's watermark (in offset
order) is left out of that aggregate, as is one later than lateness + late_update_for with
`late: update` and a `late_update_for`. Then compares with each table's rows, as printed by
`dataforge table scan` into SCAN.jsonl: the same set of (group, window_start), window_end,
window_key, and every value (avg to 1e-9 relative, the rest exactly; count_distinct exactly
while the true count is within distinct_exact_limit).

Prints `aggregates_oracle: TABLE: R rows equal (N records)` per table and exits 0, or prints
each difference (at most 20 per table) and exits 1; exits 2 on bad usage.
"""
import argparse
import datetime
import glob
import json
import math
import os
import re
import sys
import urllib.request

import yaml

DURATION = re.compile(r"^(\d+)(ms|s|m|h|d)$")
UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def duration_ms(text):
    m = DURATION.match(str(text).strip())
    if not m:
        sys.exit(f"aggregates_oracle: bad duration {text!r}")
    return int(m.group(1)) * UNIT_MS[m.group(2)]


def iso(ms):
    t = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(
        milliseconds=ms)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def parse_time(v):
    """Epoch milliseconds of an API timestamp: epoch seconds (API 1.0), "YYYY-MM-DD HH:MM:SS"
    (1.1, UTC) or ISO 8601 with Z or an offset."""
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return int(v * 1000)
    s = str(v).strip()
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$",
                 s)
    if not m:
        return None
    y, mo, d, h, mi, sec = (int(x) for x in m.groups()[:6])
    frac = m.group(7) or ""
    ms = int((frac[1:] + "000")[:3]) if frac else 0
    t = datetime.datetime(y, mo, d, h, mi, sec, tzinfo=datetime.timezone.utc)
    base = int((t - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)).total_seconds())
    off = 0
    tz = m.group(8)
    if tz and tz != "Z":
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        off = sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return (base - off) * 1000 + ms


def get_path(record, path):
    cur = record
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def cast(value, typ):
    if value is None or isinstance(value, (dict, list)):
        return None
    if typ in ("int", "bigint"):
        if isinstance(value, bool):
            return None
        if isinstance(value, (int, float)):
            return int(value)
        try:
            return int(str(value))
        except ValueError:
            return None
    if typ == "double":
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    if typ == "timestamp":
        return parse_time(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def map_row(record, columns):
    row = {}
    for col in columns:
        if "path" not in col:
            sys.exit(f"aggregates_oracle: column {col.get('name')} has no path (expr columns are "
                     "not recomputed here)")
        paths = col["path"] if isinstance(col["path"], list) else [col["path"]]
        value = None
        for p in paths:
            value = get_path(record, p)
            if value is not None:
                break
        row[col["name"]] = cast(value, col.get("type", "text"))
    return row


def windows_of(t, window):
    typ = window.get("type", "tumbling")
    if typ == "tumbling":
        size = duration_ms(window["size"])
        start = (t // size) * size
        return [(start, start + size)]
    if typ == "hopping":
        size, adv = duration_ms(window["size"]), duration_ms(window["advance"])
        first = ((t - size) // adv + 1) * adv  # the earliest start with start + size > t
        return [(s, s + size) for s in range(first, t + 1, adv)]
    sys.exit(f"aggregates_oracle: window type {typ} is assigned per group (session)")


class Acc:
    def __init__(self):
        self.count = 0
        self.vals = {}

    def add(self, row, values):
        self.count += 1
        for v in values:
            fn, of = v["fn"], v.get("of")
            if fn == "count":
                continue
            x = row.get(of)
            if x is None:
                continue
            st = self.vals.setdefault(v["name"], {"n": 0, "sum": 0, "min": None, "max": None,
                                                   "set": set()})
            st["n"] += 1
            if fn in ("sum", "avg"):
                st["sum"] += x
            st["min"] = x if st["min"] is None or x < st["min"] else st["min"]
            st["max"] = x if st["max"] is None or x > st["max"] else st["max"]
            if fn == "count_distinct":
                st["set"].add(x)

    def result(self, values):
        out = {}
        for v in values:
            fn, name = v["fn"], v["name"]
            st = self.vals.get(name)
            if fn == "count":
                out[name] = self.count
            elif fn == "count_distinct":
                out[name] = len(st["set"]) if st else 0
            elif st is None:
                out[name] = None
            elif fn == "sum":
                out[name] = st["sum"]
            elif fn == "avg":
                out[name] = st["sum"] / st["n"]
            else:
                out[name] = st[fn]
        return out


def compute(agg, rows, partitions):
    """{(group tuple, window_start, partition or None): (window_end, values)}; session windows
    are kept per (group, log partition) as docs/aggregates.md says (`partitions`: the log
    partition of each row, parallel to `rows`)."""
    window = agg.get("window") or {}
    time_col = window.get("time")
    if not time_col:
        sys.exit("aggregates_oracle: processing-time windows cannot be recomputed")
    group_by = agg.get("group_by") or []
    values = agg["values"]
    out = {}
    if window.get("type") == "session":
        gap = duration_ms(window["gap"])
        by_group = {}
        for row, part in zip(rows, partitions):
            t = row.get(time_col)
            if t is None:
                continue
            if part is None:
                sys.exit("aggregates_oracle: session windows need --log (the partition of each "
                         "record)")
            key = (tuple(row.get(g) for g in group_by), part)
            by_group.setdefault(key, []).append((t, row))
        for (group, part), events in by_group.items():
            events.sort(key=lambda e: e[0])
            start = last = None
            acc = None
            for t, row in events:
                if acc is not None and t >= last + gap:
                    out[(group, start, part)] = (last + gap, acc.result(values))
                    acc = None
                if acc is None:
                    acc, start = Acc(), t
                acc.add(row, values)
                last = t
            if acc is not None:
                out[(group, start, part)] = (last + gap, acc.result(values))
        return out
    accs = {}
    for row in rows:
        t = row.get(time_col)
        if t is None:
            continue
        group = tuple(row.get(g) for g in group_by)
        for start, end in windows_of(t, window):
            key = (group, start, None)
            if key not in accs:
                accs[key] = (end, Acc())
            accs[key][1].add(row, values)
    for key, (end, acc) in accs.items():
        out[key] = (end, acc.result(values))
    return out


def key_part(v):
    """A group value in a window_key: text with '|' and '\\' escaped, null as \\N, other
    values as JSON."""
    if v is None:
        return "\\N"
    if isinstance(v, str):
        return v.replace("\\", "\\\\").replace("|", "\\|")
    return json.dumps(v)


def identity(record):
    """What names a raw user in the log: login.uuid, else its canonical JSON."""
    uuid = get_path(record, "login.uuid")
    return uuid if isinstance(uuid, str) else json.dumps(record, sort_keys=True)


def log_positions(path, records):
    """The (log partition, offset) of each of `records`, from `dataforge topic consume
    --from-beginning` lines (a record in the log twice: its first offset); checks that the log
    holds exactly these records."""
    where = {}
    count = 0
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            entry = json.loads(line)
            ident = identity(entry["value"])
            first = where.setdefault(ident, (entry["partition"], entry["offset"]))
            if first[0] != entry["partition"]:
                sys.exit(f"aggregates_oracle: {ident} in two partitions of the log")
            count += 1
    idents = [identity(r) for r in records]
    missing = [i for i in idents if i not in where]
    if missing or len(set(idents)) != len(where):
        sys.exit(f"aggregates_oracle: the log holds {len(where)} distinct records ({count} in "
                 f"all), the input {len(set(idents))}; {len(missing)} input records are not in "
                 f"it (first {missing[:1]})")
    return [where[i] for i in idents]


def on_time(agg, rows, positions):
    """Which rows the aggregate applies: with `late: deadletter`, a row whose event time is more
    than `lateness` behind its partition's watermark (the largest event time before it, in
    offset order) is left out, as docs/aggregates.md says; with `late: update`, every row, or
    with `late_update_for` those not more than `lateness` + `late_update_for` behind."""
    update_for = agg.get("late_update_for")
    if agg.get("late", "deadletter") != "deadletter" and update_for is None:
        return [True] * len(rows)
    time_col = (agg.get("window") or {}).get("time")
    lateness = duration_ms(agg.get("lateness", "0ms"))
    if update_for is not None:
        lateness += duration_ms(update_for)
    if positions[0] is None:
        sys.exit("aggregates_oracle: dead-lettering late records needs --log (the order of each "
                 "partition)")
    keep = [True] * len(rows)
    watermark = {}
    for i in sorted(range(len(rows)), key=lambda i: positions[i]):
        t = rows[i].get(time_col)
        if t is None:
            continue
        part = positions[i][0]
        if part in watermark and t < watermark[part] - lateness:
            keep[i] = False
        watermark[part] = max(watermark.get(part, t), t)
    return keep


def number(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v
    try:
        return float(v)
    except (TypeError, ValueError):
        return v


def compare(agg, expected, scan_path, records):
    name = agg["table"]
    group_by = agg.get("group_by") or []
    limit = int(agg.get("distinct_exact_limit", 10000))
    fns = {v["name"]: v["fn"] for v in agg["values"]}
    session = (agg.get("window") or {}).get("type") == "session"
    problems = []
    got = {}
    with open(scan_path) as f:
        for line in f:
            if not line.strip():
                continue
            row = json.loads(line)
            start = parse_time(row.get("window_start"))
            group = tuple(row.get(g) for g in group_by)
            part = None
            if session:
                m = re.search(r"\|p(\d+)$", row.get("window_key", ""))
                part = int(m.group(1)) if m else -1
            if (group, start, part) in got:
                problems.append(f"{name}: two rows for group {group} window {iso(start)}")
            got[(group, start, part)] = row
    for key in sorted(set(expected) - set(got), key=repr)[:20]:
        problems.append(f"{name}: missing row group {key[0]} window {iso(key[1])}: "
                        f"{expected[key][1]}")
    for key in sorted(set(got) - set(expected), key=repr)[:20]:
        problems.append(f"{name}: unexpected row {json.dumps(got[key])}")
    for key in sorted(set(got) & set(expected), key=repr):
        row = got[key]
        end, values = expected[key]
        where = f"{name}: group {key[0]} window {iso(key[1])}"
        if parse_time(row.get("window_end")) != end:
            problems.append(f"{where}: window_end {row.get('window_end')} != {iso(end)}")
        want_key = "|".join(key_part(g) for g in key[0]) + "|" + iso(key[1])
        if session:
            want_key += f"|p{key[2]}"
        if row.get("window_key") != want_key:
            problems.append(f"{where}: window_key {row.get('window_key')!r} != {want_key!r}")
        for vname, want in values.items():
            have = number(row.get(vname))
            fn = fns[vname]
            if want is None or have is None:
                ok = want is None and have is None
            elif fn == "avg":
                ok = math.isclose(have, want, rel_tol=1e-9, abs_tol=1e-9)
            elif fn == "count_distinct" and want > limit:
                ok = abs(have - want) <= 0.05 * want  # HyperLogLog beyond the exact bound
            else:
                ok = have == want
            if not ok:
                problems.append(f"{where}: {vname} ({fn}) = {row.get(vname)!r}, want {want!r}")
    for p in problems[:20]:
        print(p)
    if len(problems) > 20:
        print(f"{name}: ... {len(problems) - 20} more differences")
    if not problems:
        print(f"aggregates_oracle: {name}: {len(got)} rows equal ({records} records)")
    return not problems


def fixture_records(directory):
    out = []
    for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
        with open(path) as f:
            out.extend(json.load(f)["results"])
    return out


def api_records(url, seed, n, page_size):
    out = []
    page = 1
    while len(out) < n:
        with urllib.request.urlopen(f"{url}?results={page_size}&seed={seed}&page={page}",
                                    timeout=60) as res:
            results = json.loads(res.read())["results"]
        if not results:
            sys.exit(f"aggregates_oracle: page {page} of seed {seed} is empty")
        out.extend(results[: n - len(out)])
        page += 1
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--fixtures")
    ap.add_argument("--api")
    ap.add_argument("--seed")
    ap.add_argument("--records", type=int)
    ap.add_argument("--page", type=int, default=100)
    ap.add_argument("--log", help="`dataforge topic consume --from-beginning` output")
    ap.add_argument("--table", action="append", default=[])
    a = ap.parse_args()
    with open(a.config) as f:
        config = yaml.safe_load(f)
    process = config["process"]
    if a.fixtures:
        records = fixture_records(a.fixtures)
    elif a.api and a.seed is not None and a.records is not None:
        records = api_records(a.api, a.seed, a.records, a.page)
    else:
        print("aggregates_oracle: give --fixtures DIR or --api URL --seed S --records N",
              file=sys.stderr)
        return 2
    rows = [map_row(r, process["columns"]) for r in records]
    positions = log_positions(a.log, records) if a.log else [None] * len(records)
    partitions = [p[0] if p else None for p in positions]
    scans = dict(t.split("=", 1) for t in a.table)
    ok = True
    for agg in process.get("aggregates") or []:
        if agg["table"] not in scans:
            continue
        keep = on_time(agg, rows, positions)
        kept_rows = [r for r, k in zip(rows, keep) if k]
        kept_parts = [p for p, k in zip(partitions, keep) if k]
        ok &= compare(agg, compute(agg, kept_rows, kept_parts), scans[agg["table"]],
                      len(kept_rows))
    missing = set(scans) - {agg["table"] for agg in process.get("aggregates") or []}
    if missing:
        print(f"aggregates_oracle: no aggregate writes {sorted(missing)}", file=sys.stderr)
        return 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
