#!/usr/bin/python3
"""Writes randomuser_functions.tsv: what the built-in functions must give for each of the 697
randomuser fixture records (../shared/fixtures/randomuser), computed here with Python's own
string, hashlib, re, datetime and zoneinfo. randomuser_functions_test.cc compares line by line.

Usage: python3 src/expr/testdata/randomuser_functions.py ../shared/fixtures/randomuser \
         > src/expr/testdata/randomuser_functions.tsv
"""
import glob
import hashlib
import json
import os
import re
import sys
import zlib
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

UTC = timezone.utc


def instant(v):
    """dob/registered in any fixture version -> aware datetime (UTC)."""
    if isinstance(v, dict):
        v = v["date"]
    if isinstance(v, int):
        return datetime.fromtimestamp(v, tz=UTC)
    if "T" in v:
        return datetime.fromisoformat(v.replace("Z", "+00:00")).astimezone(UTC)
    return datetime.strptime(v, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def age(a, b):
    """Whole years from a to b: the birthday rule to the millisecond."""
    if a > b:
        return -age(b, a)
    key = lambda d: (d.month, d.day, d.hour, d.minute, d.second, d.microsecond // 1000)
    return b.year - a.year - (1 if key(b) < key(a) else 0)


def main(fixtures):
    for path in sorted(glob.glob(os.path.join(fixtures, "*.json"))):
        name = os.path.basename(path)
        with open(path, encoding="utf-8") as f:
            records = json.load(f)["results"]
        for i, r in enumerate(records):
            email = r["email"]
            first, last = r["name"]["first"], r["name"]["last"]
            dob, reg = instant(r["dob"]), instant(r["registered"])
            berlin = reg.astimezone(ZoneInfo("Europe/Berlin"))
            week_start = (reg - timedelta(days=reg.weekday())).replace(
                hour=0, minute=0, second=0, microsecond=0)
            fields = [
                f"{name}:{i}",
                email.lower(),
                first.upper(),
                str(len(first + " " + last)),
                email.split("@")[1] if "@" in email else "",
                last[1:4],
                hashlib.md5(email.encode()).hexdigest(),
                re.sub(r"[^0-9]", "", r["phone"]),
                str(dob.year),
                str(age(dob, reg)),
                berlin.strftime("%a %d %b %Y %H:%M %Z"),
                iso(week_start),
                str(reg.isocalendar().week),
                r.get("nat") or "XX",
                str(zlib.crc32(r["login"]["username"].encode())),
            ]
            print("\t".join(fields))


if __name__ == "__main__":
    main(sys.argv[1])
