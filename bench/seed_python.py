#!/usr/bin/python3
"""The seed project's own ingest path, for bench/seed_compare.sh.

The seed (an Airflow DAG) called https://randomuser.me/api/, flattened each user with
`format_data` into a dict of 12 fields and sent it on. This runs the same `get_data` /
`format_data` logic with Python's standard library only (urllib, json, sqlite3) against a
randomuser-compatible API (`dataforge mock-api`), pages of --page users with a fixed seed, and
inserts the flattened rows into SQLite: one transaction per page, `journal_mode=WAL`,
`synchronous=FULL` (each commit is fsynced, as DataForge's staging, log and store are per
batch), keyed by login.uuid (`INSERT OR REPLACE`, idempotent like DataForge's store).
The seed took uuid4() for the id; login.uuid is what DataForge keys by (DESIGN.md).

Prints one line: `seed_python: N records in S s, R records/s` and exits 0, or a one-line error
on stderr and exits 1 (runtime) or 2 (usage).
"""
import argparse
import json
import os
import sqlite3
import sys
import time
import urllib.error
import urllib.request


def get_data(base_url, page, results, seed):
    """One page of users (the seed fetched one user per call; a page is fairer to it)."""
    url = f"{base_url}?results={results}&seed={seed}&page={page}"
    with urllib.request.urlopen(url, timeout=30) as res:
        return json.loads(res.read())["results"]


def format_data(res):
    """The seed's format_data, field for field (id from login.uuid, see above)."""
    data = {}
    location = res["location"]
    data["id"] = res["login"]["uuid"]
    data["first_name"] = res["name"]["first"]
    data["last_name"] = res["name"]["last"]
    data["gender"] = res["gender"]
    data["address"] = (
        f"{str(location['street']['number'])} {location['street']['name']}, "
        f"{location['city']}, {location['state']}, {location['country']}"
    )
    data["post_code"] = str(location["postcode"])
    data["email"] = res["email"]
    data["username"] = res["login"]["username"]
    data["dob"] = res["dob"]["date"]
    data["registered_date"] = res["registered"]["date"]
    data["phone"] = res["phone"]
    data["picture"] = res["picture"]["medium"]
    return data


COLUMNS = ("id", "first_name", "last_name", "gender", "address", "post_code", "email",
           "username", "dob", "registered_date", "phone", "picture")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True, help="API base, e.g. http://127.0.0.1:PORT/api/")
    ap.add_argument("--records", type=int, required=True, help="records to ingest")
    ap.add_argument("--page", type=int, default=500, help="users per API page (default 500)")
    ap.add_argument("--seed", default="bench", help="API seed (default bench)")
    ap.add_argument("--db", required=True, help="SQLite file to create (must not exist)")
    args = ap.parse_args()
    if args.records <= 0 or args.page <= 0:
        print("seed_python: --records and --page must be > 0", file=sys.stderr)
        return 2
    if os.path.exists(args.db):
        print(f"seed_python: {args.db} exists; give a new file", file=sys.stderr)
        return 2

    db = sqlite3.connect(args.db, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE created_users (id TEXT PRIMARY KEY, " +
               ", ".join(f"{c} TEXT" for c in COLUMNS[1:]) + ")")
    insert = ("INSERT OR REPLACE INTO created_users VALUES (" +
              ", ".join("?" for _ in COLUMNS) + ")")

    t0 = time.monotonic()
    done, page = 0, 1
    try:
        while done < args.records:
            users = get_data(args.url, page, args.page, args.seed)[: args.records - done]
            if not users:
                print(f"seed_python: page {page} of {args.url} was empty", file=sys.stderr)
                return 1
            rows = [tuple(format_data(u)[c] for c in COLUMNS) for u in users]
            db.execute("BEGIN")
            db.executemany(insert, rows)
            db.execute("COMMIT")
            done += len(rows)
            page += 1
    except (urllib.error.URLError, OSError, ValueError, KeyError, sqlite3.Error) as e:
        print(f"seed_python: page {page} of {args.url}: {e}", file=sys.stderr)
        return 1
    seconds = time.monotonic() - t0
    stored = db.execute("SELECT count(*) FROM created_users").fetchone()[0]
    db.close()
    print(f"seed_python: {done} records in {seconds:.3f} s, {done / seconds:.0f} records/s "
          f"({stored} rows stored)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
