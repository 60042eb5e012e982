#!/usr/bin/env python3
"""Every metric the Grafana dashboard and the alert rules query is documented and really served.

Usage: metrics_names_test.py --source-dir DIR [--dataforge BIN]

1. Parses every PromQL expression of deploy/grafana/dataforge.json (panel targets and the
   label_values() variables) and of deploy/prometheus/alerts.yml, extracts the metric names
   (a histogram's _bucket/_sum/_count read as the histogram) and checks each is listed in
   docs/metrics.md, with the labels and label values the queries name (matchers, by/without/on).
   `up` is Prometheus's own series for a scrape, not DataForge's.
2. With --dataforge: starts `dataforge run --http-port 0 --cql-port 0` on a fresh data dir (the
   built-in API on loopback, the built-in DAG), sends it one REST request and one CQL request,
   scrapes GET /metrics until every metric docs/metrics.md lists is there (or 30 s pass), and
   fails naming each documented metric /metrics lacks and each queried metric it lacks.
3. Then a real Prometheus (Debian's `prometheus`, on loopback) scrapes that run every second with
   deploy/prometheus/alerts.yml loaded: every dashboard query (Grafana's variables substituted)
   evaluates without error, the core panels' queries return series, and every alert rule is
   evaluated with health "ok" (no runtime error such as a many-to-many match). Then SIGTERM:
   the run must exit 0.
Prints one line per check and "metrics names: N passed, N failed".
"""
import argparse
import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import promql_names  # noqa: E402
from prometheus_server import Prometheus  # noqa: E402

PROMETHEUS_OWN = {"up"}  # made by Prometheus for each scrape, never in /metrics
READY = re.compile(r"^serve: listening on http://(?P<host>[^:]+):(?P<port>\d+) ")
CQL_READY = re.compile(r"^cql-serve: listening on (?P<host>[^ :]+):(?P<port>\d+) ")
START_BOUND_S = 60
SCRAPE_BOUND_S = 30
PROMETHEUS_BOUND_S = 30
# Panels that must show data for any running pipeline with its HTTP and CQL servers in use.
CORE_PANELS = ["Records per second by stage", "Records by stage (totals)", "Stage lag",
               "End-to-end latency (fetch -> queryable)", "Batch commits per second by stage",
               "DAG runs by state", "Task attempts per second by state",
               "HTTP requests by route and code", "CQL requests by opcode and result",
               "Resident memory", "CPU", "Open file descriptors", "Build", "Pipeline"]
STOP_BOUND_S = 60
results = {"passed": 0, "failed": 0}


def check(name, ok, detail=""):
    results["passed" if ok else "failed"] += 1
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f": {detail}" if detail and not ok else ""))


def queried_metrics(src, histograms):
    """{metric: [where it is used]} of the dashboard and the alert rules."""
    with open(os.path.join(src, "deploy/grafana/dataforge.json")) as f:
        dash = json.load(f)
    with open(os.path.join(src, "deploy/prometheus/alerts.yml")) as f:
        rules = yaml.safe_load(f)
    used = {}
    for where, expr in (promql_names.dashboard_queries(dash) +
                        [("alerts.yml " + w, e) for w, e in promql_names.alert_exprs(rules)]):
        for name in promql_names.metric_names(expr):
            used.setdefault(promql_names.base_name(name, histograms), []).append(where)
    for where, metric in promql_names.dashboard_variable_metrics(dash):
        used.setdefault(metric, []).append(where)
    return used


def http_get(url, timeout=10):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def cql_options(host, port):
    """One CQL v4 OPTIONS request; returns the response's opcode (6 = SUPPORTED)."""
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(struct.pack(">BBhBi", 0x04, 0, 1, 0x05, 0))
        header = b""
        while len(header) < 9:
            chunk = s.recv(9 - len(header))
            if not chunk:
                break
            header += chunk
        return header[4] if len(header) == 9 else None


class Run:
    """`dataforge --data-dir D run --http-port 0 --cql-port 0 --no-progress`."""

    def __init__(self, binary, tmp):
        self.stderr_path = os.path.join(tmp, "stderr.txt")
        self._stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(
            [binary, "--data-dir", os.path.join(tmp, "data"), "run", "--http-port", "0",
             "--cql-port", "0", "--no-progress"],
            stdout=subprocess.PIPE, stderr=self._stderr, bufsize=0)
        self.http = self.cql = None
        lines = []
        # Unbuffered reads of the pipe, split here: select() on a buffered reader misses a line
        # that an earlier readline() already pulled into the buffer (both ready lines often
        # arrive in one read), and would then wait for the deadline.
        pending = b""
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + START_BOUND_S
        while (self.http is None or self.cql is None) and time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.5)
            if not r:
                if self.proc.poll() is not None:
                    break
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for raw in complete:
                line = raw.decode("utf-8", "replace")
                lines.append(line)
                m = READY.match(line)
                if m:
                    self.http = (m.group("host"), int(m.group("port")))
                m = CQL_READY.match(line)
                if m:
                    self.cql = (m.group("host"), int(m.group("port")))
        if self.http is None or self.cql is None:
            self.kill()
            raise AssertionError(f"no ready lines from dataforge run, got {lines!r}; stderr:\n{self.stderr()}")

    def stderr(self):
        with open(self.stderr_path) as f:
            return f.read()[-3000:]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            out, _ = self.proc.communicate(timeout=STOP_BOUND_S)
        except subprocess.TimeoutExpired:
            self.kill()
            return None, ""
        return self.proc.returncode, out.decode("utf-8", "replace")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def live_check(binary, documented, used, src):
    with tempfile.TemporaryDirectory(prefix="df-metrics-names-") as tmp:
        run = Run(binary, tmp)
        try:
            host, port = run.http
            status, _ = http_get(f"http://{host}:{port}/v1/status")
            check("GET /v1/status answers 200 (traffic for the HTTP metrics)", status == 200, str(status))
            opcode = cql_options(*run.cql)
            check("CQL OPTIONS answers SUPPORTED (traffic for the CQL metrics)", opcode == 6, str(opcode))
            url = f"http://{host}:{port}/metrics"
            deadline = time.monotonic() + SCRAPE_BOUND_S
            while True:  # counters of the first batches and the DAG's first run come within seconds
                status, body = http_get(url)
                families = promql_names.exposed_families(body) if status == 200 else {}
                missing = sorted(set(documented) - set(families))
                if status == 200 and not missing:
                    break
                if status == 404:
                    break  # no GET /metrics route at all: waiting changes nothing
                if time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            check(f"GET /metrics answers 200", status == 200, f"{status}: {body[:200]!r}")
            for name in sorted(documented):
                check(f"/metrics serves {name} (docs/metrics.md lists it)", name in families,
                      f"docs/metrics.md lists {name} ({documented[name]}) but GET /metrics has no "
                      f"such family")
            for name in sorted(used):
                if name in PROMETHEUS_OWN:
                    continue
                check(f"/metrics serves {name} (queried by the dashboard or the alerts)", name in families,
                      f"{name} is used by {used[name][0]} but GET /metrics does not serve it")
            empty = sorted(n for n in documented if n in families and not families[n])
            print(f"note: families served without a sample yet (no event of their kind in this run): "
                  f"{', '.join(empty) or 'none'}")
            if status == 200:
                prometheus_check(tmp, f"{host}:{port}", src)
        finally:
            rc, out = run.stop()
            check("dataforge run exits 0 on SIGTERM", rc == 0, f"exit {rc}; stderr:\n{run.stderr()}")


def wait_for(what, condition, bound_s=PROMETHEUS_BOUND_S):
    """Polls condition() until it is true or bound_s pass: a failure, not a timing check."""
    deadline = time.monotonic() + bound_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {bound_s} s for {what}")
        time.sleep(0.25)


def scalar(result):
    r = result.get("data", {}).get("result", [])
    return float(r[0]["value"][1]) if result.get("status") == "success" and r else 0.0


def prometheus_check(tmp, target, src):
    with open(os.path.join(src, "deploy/grafana/dataforge.json")) as f:
        dash = json.load(f)
    alerts = os.path.join(src, "deploy/prometheus/alerts.yml")
    prom = Prometheus(tmp, target, rule_files=[alerts])
    try:
        # Three scrapes, so rate() over the dashboard's window has samples to work with.
        wait_for("three successful scrapes by Prometheus",
                 lambda: scalar(prom.query('sum_over_time(up{job="dataforge"}[1m])')) >= 3)
        titles = {}
        for p in dash["panels"]:
            for t in p.get("targets", []):
                titles.setdefault(p["title"], []).append(t["expr"])
        errors, with_data = [], set()
        for title, exprs in titles.items():
            for expr in exprs:
                r = prom.query(promql_names.substitute_grafana_vars(expr))
                if r.get("status") != "success":
                    errors.append(f'"{title}": {r.get("error")}')
                elif r["data"]["result"]:
                    with_data.add(title)  # a panel shows data when any of its queries has series
        empty = sorted(set(titles) - with_data)
        check(f"Prometheus evaluates every dashboard query without error", not errors, "; ".join(errors))
        missing = [t for t in CORE_PANELS if t not in titles or t in empty]
        check("the core panels' queries return series (" + ", ".join(CORE_PANELS) + ")", not missing,
              "no data for: " + ", ".join(missing))
        print(f"note: panels with no series in this run: {', '.join(empty) or 'none'}")

        def rules():
            r = prom.api("rules")
            return [rule for g in r.get("data", {}).get("groups", []) for rule in g["rules"]]

        wait_for("every alert rule to be evaluated",
                 lambda: rules() and all(not r.get("lastEvaluation", "").startswith("0001") for r in rules()))
        bad = [f'{r["name"]}: {r.get("health")} {r.get("lastError", "")}' for r in rules() if r.get("health") != "ok"]
        check(f"Prometheus evaluates all {len(rules())} alert rules with health ok", not bad and len(rules()) == 7,
              "; ".join(bad) or str(len(rules())))
    finally:
        prom.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--dataforge")
    args = ap.parse_args()
    with open(os.path.join(args.source_dir, "docs/metrics.md")) as f:
        metrics_md = f.read()
    documented = promql_names.documented_metrics(metrics_md)
    check("docs/metrics.md lists metrics", len(documented) >= 30, str(len(documented)))
    histograms = {n for n, t in documented.items() if t == "histogram"}
    used = queried_metrics(args.source_dir, histograms)
    for name in sorted(used):
        if name in PROMETHEUS_OWN:
            continue
        check(f"{name} (used by {len(used[name])} queries) is in docs/metrics.md", name in documented,
              f"{name} is used by {'; '.join(used[name][:3])} but docs/metrics.md does not list it")
    labels_of = promql_names.documented_labels(metrics_md)
    with open(os.path.join(args.source_dir, "deploy/grafana/dataforge.json")) as f:
        dash = json.load(f)
    with open(os.path.join(args.source_dir, "deploy/prometheus/alerts.yml")) as f:
        rules = yaml.safe_load(f)
    label_issues = [f"{where}: {problem}"
                    for where, expr in promql_names.dashboard_queries(dash) + promql_names.alert_exprs(rules)
                    for problem in promql_names.label_problems(expr, labels_of, histograms)]
    check("every label (and label value) the queries and alerts use is in docs/metrics.md", not label_issues,
          "; ".join(label_issues))
    unused = sorted(set(documented) - set(used))
    check("the dashboard and alerts use every documented metric", not unused,
          "never queried: " + ", ".join(unused))
    if args.dataforge:
        live_check(args.dataforge, documented, used, args.source_dir)
    print(f"metrics names: {results['passed']} passed, {results['failed']} failed")
    return 0 if results["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
