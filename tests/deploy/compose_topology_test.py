#!/usr/bin/env python3
"""The compose stack's DataForge command lines, run natively against real backends.

Usage: compose_topology_test.py --source-dir DIR --dataforge BIN --kafka-mock-cluster BIN

No Docker engine here, so the containers cannot run; their command lines can. Each DataForge
service of `docker-compose config` (deploy/compose.yaml with deploy/.env.example) runs as it is
written, with the compose hostnames mapped onto real servers: `postgres` -> a throwaway
PostgreSQL 15 (tests/tools/pg_throwaway.sh), `kafka-1..3` -> librdkafka's mock cluster (three
brokers over TCP; it has no CreateTopics, so the topic is made up front with the pipeline's
partitions and replication), `cassandra` -> `dataforge cql-serve` (DataForge's own CQL endpoint); /etc/
dataforge/pipeline.yaml -> a copy of deploy/compose/pipeline.yaml with those hosts; /data -> a
data dir per service; port 8080 -> a free port per service (they stay on 0.0.0.0: off loopback,
authentication is on, as in the stack).

1. The two init jobs exit 0 (admin and the reader prometheus, passwords from the env file), and
   exit 0 again when run a second time (`--exists-ok`: what every `up` does).
2. ingest, process-1, process-2, scheduler and serve start and print their ready lines.
3. Records flow: the table in the CQL stand-in fills (serve's GET /v1/tables/.../count as admin
   grows past 2000), and both process members committed store batches (each one's
   dataforge_batch_commit_duration_seconds_count{stage="store"} > 0): the group shares the topic.
4. Every target of the compose's Prometheus config answers GET /metrics with the config's
   basic_auth (user prometheus, the env file's password): 200 and dataforge_build_info; 401
   without credentials.
5. SIGTERM: every server exits 0.
Prints one line per check and "compose topology: N passed, N failed".
"""
import argparse
import base64
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compose_test  # noqa: E402

READY_BOUND_S = 120
FLOW_BOUND_S = 180
STOP_BOUND_S = 90
# A bound on one HTTP request, for liveness only: this test checks answers, not latency (that is
# bench/'s). A credential's first request runs argon2id (19 MiB, memory-hard) and a role's first
# scrape its first status read (the Kafka group reader, the store's row count); under ASan beside
# the suite's other tests these took 0.9-2.2 s at load 12 from busy loops, and once more than 10 s
# in a ci-local whose suite ran chromium and three kill -9 tests beside it.
REQUEST_BOUND_S = 60
SERVERS = compose_test.DATAFORGE_SERVERS
results = {"passed": 0, "failed": 0}


def check(name, ok, detail=""):
    results["passed" if ok else "failed"] += 1
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f": {detail}" if detail and not ok else ""))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, user=None, password=None):
    headers = {}
    if user is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                    timeout=REQUEST_BOUND_S) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError as e:
        return None, str(e)


class Proc:
    """A long-running process whose stdout lines are collected; `ready` waits for a pattern."""

    def __init__(self, name, argv, env, tmp):
        self.name = name
        self.err_path = os.path.join(tmp, f"{name}.err")
        self._err = open(self.err_path, "w")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self._err, env=env,
                                     bufsize=0, stdin=subprocess.DEVNULL)
        self.lines = []
        self._pending = b""

    def pump(self, timeout):
        fd = self.proc.stdout.fileno()
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            return
        chunk = os.read(fd, 65536)
        if not chunk:
            return
        self._pending += chunk
        *complete, self._pending = self._pending.split(b"\n")
        self.lines += [c.decode("utf-8", "replace") for c in complete]

    def ready(self, pattern, bound_s=READY_BOUND_S):
        deadline = time.monotonic() + bound_s
        while time.monotonic() < deadline:
            for line in self.lines:
                m = re.search(pattern, line)
                if m:
                    return m
            if self.proc.poll() is not None:
                self.pump(0)
                break
            self.pump(0.5)
        return None

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()[-3000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            out, _ = self.proc.communicate(timeout=STOP_BOUND_S)
            self.lines += (self._pending + out).decode("utf-8", "replace").splitlines()
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None
        return self.proc.returncode


def wait_for(condition, bound_s):
    deadline = time.monotonic() + bound_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    return condition()


def native(command, pipeline, data_dir, port):
    """A compose command line with the container's paths and port mapped."""
    out = []
    i = 0
    while i < len(command):
        a = command[i]
        nxt = command[i + 1] if i + 1 < len(command) else None
        if a == "--config" and nxt == compose_test.PIPELINE_IN_CONTAINER:
            out += [a, pipeline]
            i += 2
        elif a == "--data-dir" and nxt == "/data":
            out += [a, data_dir]
            i += 2
        elif a == "--http-port":
            out += [a, str(port)]
            i += 2
        else:
            out.append(a)
            i += 1
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--dataforge", required=True)
    ap.add_argument("--kafka-mock-cluster", required=True)
    a = ap.parse_args()
    src = os.path.abspath(a.source_dir)
    rc, out, err = compose_test.compose_config(src, os.path.join(src, "deploy", ".env.example"))
    if rc != 0:
        print(f"FAIL docker-compose config: {err}")
        return 1
    doc = yaml.safe_load(out)
    env_file = compose_test.read_env_file(os.path.join(src, "deploy", ".env.example"))
    with open(os.path.join(src, "deploy", "compose", "prometheus", "prometheus.yml")) as f:
        prom = yaml.safe_load(f)["scrape_configs"][0]

    tmp = tempfile.mkdtemp(prefix="df-compose-topology-", dir="/tmp")
    os.chmod(tmp, 0o755)  # the postgres user reaches the throwaway server's dir
    pg_dir = os.path.join(tmp, "pg")
    procs = []
    pg_started = False
    try:
        pg = subprocess.run([os.path.join(src, "tests", "tools", "pg_throwaway.sh"), "start", pg_dir],
                            capture_output=True, text=True, timeout=120)
        m = re.search(r"postgresql://postgres:secret@127\.0\.0\.1:(\d+)/dataforge", pg.stdout)
        check("a throwaway PostgreSQL for `postgres`", pg.returncode == 0 and m is not None,
              pg.stdout + pg.stderr)
        if m is None:
            return 1
        pg_started = True
        pg_port = m.group(1)

        # The mock brokers do not answer CreateTopics (DataForge would fall back on auto-creation
        # with the brokers' default count): the topic is made up front as the pipeline says.
        with open(os.path.join(src, "deploy", "compose", "pipeline.yaml")) as f:
            log = yaml.safe_load(f)["log"]
        kafka = Proc("kafka", [a.kafka_mock_cluster, "--topic",
                               f"{log['topic']}:{log['partitions']}:{log['replication_factor']}"],
                     None, tmp)
        procs.append(kafka)
        km = kafka.ready(r"^bootstrap\.servers=(.+)$", 60)
        cql = Proc("cassandra", [a.dataforge, "--data-dir", os.path.join(tmp, "cassandra"),
                                 "cql-serve", "--port", "0"], compose_test.clean_env(), tmp)
        procs.append(cql)
        cm = cql.ready(r"^cql-serve: listening on 127\.0\.0\.1:(\d+) ", 60)
        check("the mock Kafka cluster for kafka-1..3 and cql-serve for `cassandra`",
              km is not None and cm is not None, f"{kafka.lines} {cql.lines} {cql.stderr()}")
        if km is None or cm is None:
            return 1

        with open(os.path.join(src, "deploy", "compose", "pipeline.yaml")) as f:
            text = f.read()
        mapped = (text.replace("@postgres:5432/", f"@127.0.0.1:{pg_port}/")
                  .replace("kafka://kafka-1:9092,kafka-2:9092,kafka-3:9092", f"kafka://{km.group(1)}")
                  .replace("cassandra://cassandra:9042/", f"cassandra://127.0.0.1:{cm.group(1)}/"))
        # The copy limits the built-in source to 4 pages/s (2000/s): enough to show the flow without
        # loading CI. The mock brokers keep ~5 MB per partition (docs/kafka.md), a few seconds of
        # this flow: a member that joins late (the mock's SyncGroup refuses some joins, which
        # costs a rejoin of ~9 s each) starts behind the retention edge. Until 2026-12-05 such a
        # member then read nothing at all (librdkafka's 500 ms fetch error backoff outlasted the
        # oldest record every time; KafkaLogTest.AGroupBehindAMovingRetentionEdgeStillReads).
        assert "  results_per_page: 500\n" in mapped
        mapped = mapped.replace("  results_per_page: 500\n",
                                "  results_per_page: 500\n  rate_limit_per_sec: 4\n")
        hosts = ["@postgres:5432/", "kafka://kafka-1:9092,kafka-2:9092,kafka-3:9092",
                 "cassandra://cassandra:9042/"]
        check("the pipeline file's compose hosts (postgres, kafka-1..3, cassandra) are mapped",
              all(h in text and h not in mapped for h in hosts), mapped)
        pipeline = os.path.join(tmp, "pipeline.yaml")
        with open(pipeline, "w") as f:
            f.write(mapped)

        def env_of(service):
            env = {**compose_test.clean_env(), **env_file,
                   **{k: str(v) for k, v in doc["services"][service].get("environment", {}).items()}}
            env.update(POSTGRES_USER="postgres", PGPASSWORD="secret")  # the throwaway's superuser
            return env

        # 1. The init jobs, twice.
        for round_ in (1, 2):
            for job in compose_test.INIT_JOBS:
                argv = [a.dataforge, *native(doc["services"][job]["command"], pipeline,
                                             os.path.join(tmp, "init"), 0)]
                p = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env_of(job))
                check(f"{job} exits 0 (run {round_})", p.returncode == 0, p.stdout + p.stderr)

        # 2. The servers.
        ports = {}
        for name in SERVERS:
            ports[name] = free_port()
            argv = [a.dataforge, *native(doc["services"][name]["command"], pipeline,
                                         os.path.join(tmp, name), ports[name])]
            procs.append(Proc(name, argv, env_of(name), tmp))
        servers = {p.name: p for p in procs if p.name in SERVERS}
        for name, p in servers.items():
            m = p.ready(r"^serve: listening on http://0\.0\.0\.0:(\d+) \(store .*, auth on, tls off\)$")
            check(f"{name} is ready on 0.0.0.0:{ports[name]} with auth on",
                  m is not None and int(m.group(1)) == ports[name], f"{p.lines} {p.stderr()}")

        # 3. Records flow ingest -> Kafka -> both process members -> the CQL stand-in.
        admin = ("admin", env_file["DATAFORGE_ADMIN_PASSWORD"])
        table = "dataforge.created_users"

        def count():
            status, body = get(f"http://127.0.0.1:{ports['serve']}/v1/tables/{table}/count", *admin)
            return json.loads(body)["count"] if status == 200 else 0
        prom_user = prom["basic_auth"]["username"]
        prom_password = env_file["DATAFORGE_PROMETHEUS_PASSWORD"]

        def records(name):
            _, body = get(f"http://127.0.0.1:{ports[name]}/metrics", prom_user, prom_password)
            return [line for line in body.splitlines() if line.startswith("dataforge_records_total")]
        n = wait_for(lambda: count() > 2000, FLOW_BOUND_S)
        serve_count = get(f"http://127.0.0.1:{ports['serve']}/v1/tables/{table}/count", *admin)
        check("rows reach the store through the stack (serve's count as admin > 2000)", bool(n),
              f"count {count()} {serve_count}; "
              f"ingest: {records('ingest')} {servers['ingest'].stderr()[-800:]}")

        def store_batches(name):
            status, body = get(f"http://127.0.0.1:{ports[name]}/metrics", prom_user, prom_password)
            m = re.search(r'^dataforge_batch_commit_duration_seconds_count\{stage="store"\} (\d+)', body, re.M)
            return int(m.group(1)) if m else 0
        for name in ["process-1", "process-2"]:
            check(f"{name} committed store batches (a member of the group with partitions)",
                  wait_for(lambda: store_batches(name) > 0, FLOW_BOUND_S),
                  f"{store_batches(name)}; stderr: {servers[name].stderr()[-1500:]}")

        # 4. Every Prometheus target, with the config's credentials.
        targets = [t for sc in prom["static_configs"] for t in sc["targets"]]
        for target in targets:
            host, _, port = target.partition(":")
            url = f"http://127.0.0.1:{ports[host]}{prom['metrics_path']}"
            started = time.monotonic()
            status, body = get(url, prom_user, prom_password)
            took = time.monotonic() - started
            check(f"target {target}: /metrics as {prom_user} answers 200 with dataforge_build_info",
                  status == 200 and "\ndataforge_build_info{" in body and port == "8080",
                  f"{status} after {took:.1f}s {body[:300]}; stderr: {servers[host].stderr()[-800:]}")
            status, _ = get(url)
            check(f"target {target}: /metrics without credentials is 401", status == 401, f"{status}")

        # 5. SIGTERM: every server exits 0.
        for name in ["ingest", "scheduler", "serve", "process-1", "process-2"]:
            rc = servers[name].stop()
            check(f"{name}: SIGTERM, exit 0", rc == 0, f"rc {rc}: {servers[name].stderr()[-1500:]}")
    finally:
        for p in procs:
            if p.proc.poll() is None:
                p.proc.send_signal(signal.SIGTERM)
                try:
                    p.proc.wait(timeout=STOP_BOUND_S)
                except subprocess.TimeoutExpired:
                    p.proc.kill()
                    p.proc.wait()
        if pg_started:
            subprocess.run([os.path.join(src, "tests", "tools", "pg_throwaway.sh"), "stop", pg_dir],
                           capture_output=True, timeout=120)
        subprocess.run(["rm", "-rf", tmp])
    print(f"compose topology: {results['passed']} passed, {results['failed']} failed")
    return 0 if results["failed"] == 0 and results["passed"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
