"""A real Prometheus server (Debian's `prometheus`) on loopback for the tests of tests/deploy/:
scrapes one target every second and evaluates rule files every second; queried through its
HTTP API (/api/v1/query, /api/v1/rules). Storage lives in a temporary directory."""
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import yaml

START_BOUND_S = 60
STOP_BOUND_S = 30


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Prometheus:
    def __init__(self, tmp, target, rule_files=(), job="dataforge"):
        self.dir = os.path.join(tmp, "prometheus")
        os.makedirs(self.dir)
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
            "rule_files": [os.path.abspath(f) for f in rule_files],
            "scrape_configs": [{"job_name": job, "metrics_path": "/metrics",
                                "static_configs": [{"targets": [target]}]}],
        }
        config_path = os.path.join(self.dir, "prometheus.yml")
        with open(config_path, "w") as f:
            yaml.safe_dump(config, f)
        self.port = free_port()
        self.log_path = os.path.join(self.dir, "prometheus.log")
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={config_path}", f"--storage.tsdb.path={self.dir}/data",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=self._log, stderr=subprocess.STDOUT, cwd=self.dir)
        deadline = time.monotonic() + START_BOUND_S
        while not self._ready():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError("prometheus did not become ready; its log:\n" + self.log())
            time.sleep(0.2)

    def _ready(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, ConnectionError, OSError):
            return False

    def api(self, path, **params):
        """GET /api/v1/PATH?params: the decoded JSON (errors included: status "error")."""
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            return json.load(e)

    def query(self, expr):
        return self.api("query", query=expr)

    def log(self):
        with open(self.log_path) as f:
            return f.read()[-3000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=STOP_BOUND_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
