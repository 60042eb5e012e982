#!/usr/bin/python3
"""The issue-19 figures in one command, min / median / max over 3 runs, as a markdown table.

  bench/pipeline_runs.py [--runs 3] [--records 100000] [--rate-records 100000] [--build DIR]

Runs, each --runs times, alternating:
  - `pipeline_bench --records N` (the default durable pipeline: fsync per batch in every stage;
    built-in API on loopback): records/s end to end, p50/p99 fetch -> queryable, peak RSS, and
    the CPU time per record (user and kernel, getrusage of the child: the whole process);
  - `pipeline_bench --records M --rate 10000 --page 100 --batch 100`: p50/p99 at 10,000 records/s;
  - ready time of `dataforge run`: from just before the process is spawned to the first HTTP
    request its source sends (to a tiny HTTP server here that serves a captured randomuser page,
    ../shared/fixtures or tests/fixtures), fresh data dir, `--max-records 100`;
  - ready time of `dataforge serve --http-port P` on that data dir: from just before spawn to
    the first 200 from /health (polled every 0.5 ms over loopback).
Prints each run's figures, then a markdown table (min / median / max) and the load average
before and after. Exit: 0 ok, 1 a run failed, 2 usage.
"""
import argparse
import http.server
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE_CANDIDATES = [
    os.path.join(ROOT, "..", "shared", "fixtures", "randomuser", "v1.4-randomuser-me-project.json"),
    "/work/shared/fixtures/randomuser/v1.4-randomuser-me-project.json",
]


def fail(code, msg):
    print(f"pipeline_runs: {msg}", file=sys.stderr)
    sys.exit(code)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def bench_run(bench, args, data_dir):
    records = int(args[args.index("--records") + 1])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([bench] + args + ["--dir", data_dir], capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    shutil.rmtree(data_dir, ignore_errors=True)
    if proc.returncode != 0:
        fail(1, f"{bench} {' '.join(args)} failed (exit {proc.returncode}):\n"
             f"{proc.stdout}{proc.stderr}")
    out = proc.stdout

    def num(pattern):
        m = re.search(pattern, out)
        if not m:
            fail(1, f"no '{pattern}' in the output of pipeline_bench {' '.join(args)}:\n{out}")
        return float(m.group(1))

    return {
        "records/s": num(r"records/s\s+([\d.]+)"),
        "p50 ms": num(r"latency p50\s+([\d.]+) ms"),
        "p99 ms": num(r"latency p99\s+([\d.]+) ms"),
        "peak RSS MB": num(r"peak RSS\s+([\d.]+) MB"),
        "open ms": num(r"open \(ready\)\s+([\d.]+) ms"),
        # CPU of the whole process (built-in API included) per record, user and kernel
        "user us/rec": (after.ru_utime - before.ru_utime) * 1e6 / records,
        "sys us/rec": (after.ru_stime - before.ru_stime) * 1e6 / records,
    }


class FirstRequest(http.server.BaseHTTPRequestHandler):
    body = b""
    first = None  # monotonic time of the first request

    def do_GET(self):  # noqa: N802 (http.server's name)
        if FirstRequest.first is None:
            FirstRequest.first = time.monotonic()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def ready_run(df, source_port, data_dir):
    """Seconds from spawn to the source's first request."""
    FirstRequest.first = None
    t0 = time.monotonic()
    proc = subprocess.run(
        [df, "--data-dir", data_dir, "run", "--no-progress", "--max-records", "100",
         "--source-url", f"http://127.0.0.1:{source_port}/api/?results=111"],
        capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 or FirstRequest.first is None:
        fail(1, f"dataforge run (ready time) failed (exit {proc.returncode}):\n"
             f"{proc.stdout}{proc.stderr}")
    return FirstRequest.first - t0


def ready_serve(df, data_dir):
    """Seconds from spawn to the first 200 from /health."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/health"
    t0 = time.monotonic()
    proc = subprocess.Popen([df, "--data-dir", data_dir, "serve", "--http-port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = t0 + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                fail(1, f"dataforge serve exited {proc.returncode}: {proc.stdout.read().decode()}")
            try:
                with urllib.request.urlopen(url, timeout=1) as r:
                    if r.status == 200 and json.loads(r.read()).get("status") == "ok":
                        return time.monotonic() - t0
            except OSError:
                time.sleep(0.0005)
        fail(1, f"dataforge serve: {url} did not answer within 30 s")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog=__doc__.split("\n\n", 2)[2],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="runs of each (default 3)")
    ap.add_argument("--records", type=int, default=100000,
                    help="records of the full-speed runs (default 100000)")
    ap.add_argument("--rate-records", type=int, default=100000,
                    help="records of the 10,000/s runs (default 100000, i.e. 10 s each)")
    ap.add_argument("--build", help="build dir (default: build-bench, else build)")
    args = ap.parse_args()
    if min(args.runs, args.records, args.rate_records) <= 0:
        fail(2, "--runs, --records and --rate-records must be > 0")
    builds = [args.build] if args.build else [os.path.join(ROOT, "build-bench"),
                                              os.path.join(ROOT, "build")]
    build = next((b for b in builds if os.access(os.path.join(b, "src", "dataforge"), os.X_OK)
                  and os.access(os.path.join(b, "bench", "pipeline_bench"), os.X_OK)), None)
    if not build:
        fail(2, f"no src/dataforge and bench/pipeline_bench in {' or '.join(builds)}; build them "
             "(docs/benchmarks.md)")
    df = os.path.join(build, "src", "dataforge")
    bench = os.path.join(build, "bench", "pipeline_bench")
    fixture = next((f for f in FIXTURE_CANDIDATES if os.path.exists(f)), None)
    if not fixture:
        fail(2, "no randomuser fixture (../shared/fixtures/randomuser/) for the ready time")
    with open(fixture, "rb") as f:
        FirstRequest.body = f.read()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = tempfile.mkdtemp(prefix="df_runs_")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FirstRequest)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        load_before = loadavg()
        print(f"pipeline_runs: {build}, {args.runs} runs, load average {load_before}", flush=True)
        full, rated, run_ready, serve_ready = [], [], [], []
        for i in range(1, args.runs + 1):
            full.append(bench_run(bench, ["--records", str(args.records)], os.path.join(work, "pb")))
            print(f"  run {i} full speed: {full[-1]}", flush=True)
            rated.append(bench_run(bench, ["--records", str(args.rate_records), "--rate", "10000",
                                           "--page", "100", "--batch", "100"],
                                   os.path.join(work, "pb")))
            print(f"  run {i} 10,000/s:   {rated[-1]}", flush=True)
            d = os.path.join(work, f"ready{i}")
            run_ready.append(ready_run(df, server.server_address[1], d) * 1000)
            serve_ready.append(ready_serve(df, d) * 1000)
            shutil.rmtree(d, ignore_errors=True)
            print(f"  run {i} ready: run {run_ready[-1]:.1f} ms, serve {serve_ready[-1]:.1f} ms",
                  flush=True)
        load_after = loadavg()

        def cell(values, fmt):
            v = sorted(values)
            return " / ".join(fmt.format(x) for x in (v[0], statistics.median(v), v[-1]))

        n = f"{args.records:,}"
        print(f"\nload average before {load_before}, after {load_after}; min / median / max of "
              f"{args.runs} runs\n")
        print("| measure | min / median / max |")
        print("|---|---|")
        print(f"| records/s, `pipeline_bench --records {args.records}` | "
              f"{cell([r['records/s'] for r in full], '{:,.0f}')} |")
        print(f"| p50 fetch -> queryable, full speed ({n}) | "
              f"{cell([r['p50 ms'] for r in full], '{:.1f} ms')} |")
        print(f"| p99 fetch -> queryable, full speed ({n}) | "
              f"{cell([r['p99 ms'] for r in full], '{:.1f} ms')} |")
        print(f"| CPU per record, full speed: user (whole process, built-in API included) | "
              f"{cell([r['user us/rec'] for r in full], '{:.1f} us')} |")
        print(f"| CPU per record, full speed: kernel | "
              f"{cell([r['sys us/rec'] for r in full], '{:.1f} us')} |")
        print(f"| peak RSS, full speed ({n}) | "
              f"{cell([r['peak RSS MB'] for r in full], '{:.1f} MB')} |")
        print(f"| achieved rate, `--rate 10000 --page 100 --batch 100` ({args.rate_records:,}) | "
              f"{cell([r['records/s'] for r in rated], '{:,.0f}')} |")
        print(f"| p50 fetch -> queryable at 10,000/s | "
              f"{cell([r['p50 ms'] for r in rated], '{:.1f} ms')} |")
        print(f"| p99 fetch -> queryable at 10,000/s | "
              f"{cell([r['p99 ms'] for r in rated], '{:.1f} ms')} |")
        print(f"| peak RSS at 10,000/s | {cell([r['peak RSS MB'] for r in rated], '{:.1f} MB')} |")
        print(f"| pipeline open in pipeline_bench (`open (ready)`) | "
              f"{cell([r['open ms'] for r in full], '{:.1f} ms')} |")
        print(f"| ready: `dataforge run` spawn -> first source request (fresh data dir) | "
              f"{cell(run_ready, '{:.1f} ms')} |")
        print(f"| ready: `dataforge serve` spawn -> first 200 from /health | "
              f"{cell(serve_ready, '{:.1f} ms')} |")
    finally:
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
