#!/usr/bin/env python3
"""What the compose stack needs of the CLI beyond the other roles, against the real binary.

Usage: compose_roles_test.py --dataforge BIN

1. `run --role scheduler --http-port 0` serves the same HTTP endpoint as the other roles (the
   compose health check and Prometheus need it): the ready line, GET /health 200
   {"status":"ok"}, GET /metrics with the scheduler's probes and role="scheduler", the REST API
   behind authentication (401 without credentials, whoami with a user's password); SIGTERM stops
   it with exit 0 and the server's summary. `--cql-port` with --role scheduler is refused (exit 2).
2. `users add NAME --role ROLE --password-env VAR` (an init job's secret from the env file) and
   `--exists-ok` (the job runs at every start): added once, left as it is after, refused for
   another role; a missing variable, and --password-env with --password-stdin, are exit 2.
Prints one line per check and "compose roles: N passed, N failed".
"""
import argparse
import base64
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

START_BOUND_S = 60
STOP_BOUND_S = 60
READY = re.compile(r"^serve: listening on http://127\.0\.0\.1:(?P<port>\d+) \(store none, auth on, tls off\)$")
results = {"passed": 0, "failed": 0}


def check(name, ok, detail=""):
    results["passed" if ok else "failed"] += 1
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f": {detail}" if detail and not ok else ""))


def env_with(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATAFORGE_") and k != "PGPASSWORD"}
    env.update(extra)
    return env


def df(binary, *args, env=None, stdin=None):
    """A command that must end by itself: one still running after 60 s is killed (rc None)."""
    try:
        p = subprocess.run([binary, *args], capture_output=True, text=True, timeout=60,
                           env=env or env_with(), input=stdin)
    except subprocess.TimeoutExpired:
        return None, "", "still running after 60 s (killed)"
    return p.returncode, p.stdout, p.stderr


def get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def check_users(binary, data):
    d = ["--data-dir", data]
    env = env_with(DF_TEST_PASSWORD="s3cret-pw")
    rc, out, err = df(binary, *d, "users", "add", "ops", "--role", "reader", "--password-env",
                      "DF_TEST_PASSWORD", "--exists-ok", env=env)
    check("users add --password-env --exists-ok adds the user with a password",
          rc == 0 and out == "user ops added with role reader, with a password\n", f"{rc} {out} {err}")
    check("the password is not printed", "s3cret-pw" not in out + err)
    rc, out, err = df(binary, *d, "users", "add", "ops", "--role", "reader", "--password-env",
                      "DF_TEST_PASSWORD", "--exists-ok", env=env)
    check("again with --exists-ok: exit 0, left as it is",
          rc == 0 and out == "user ops exists already with role reader; left as it is\n", f"{rc} {out} {err}")
    rc, out, err = df(binary, *d, "users", "add", "ops", "--role", "reader", "--password-env",
                      "DF_TEST_PASSWORD", env=env)
    check("again without --exists-ok: refused (exit 1)",
          rc == 1 and err.startswith("dataforge: ") and err.endswith("; see: dataforge users list\n")
          and err.count("\n") == 1, f"{rc} {err}")
    rc, out, err = df(binary, *d, "users", "add", "ops", "--role", "admin", "--exists-ok", env=env)
    check("--exists-ok for another role: refused, naming both roles (exit 1)",
          rc == 1 and err == "dataforge: user ops exists with role reader, not admin; remove it first "
          "(dataforge users remove ops)\n", f"{rc} {err}")
    rc, out, err = df(binary, *d, "users", "add", "bob", "--role", "reader", "--password-env",
                      "DF_TEST_UNSET", env=env)
    check("--password-env of an unset variable: exit 2, one line",
          rc == 2 and err == "dataforge: --password-env DF_TEST_UNSET: the environment variable is not "
          "set; set it to the password\n", f"{rc} {err}")
    rc, out, err = df(binary, *d, "users", "add", "bob", "--role", "reader", "--password-env",
                      "DF_TEST_EMPTY", env=env_with(DF_TEST_EMPTY=""))
    check("--password-env of an empty variable: exit 2, one line",
          rc == 2 and err == "dataforge: --password-env DF_TEST_EMPTY: the environment variable is "
          "empty; set it to the password\n", f"{rc} {err}")
    rc, out, err = df(binary, *d, "users", "add", "bob", "--role", "reader", "--password-env",
                      "DF_TEST_PASSWORD", "--password-stdin", env=env, stdin="x\n")
    check("--password-env with --password-stdin: exit 2", rc == 2 and "excludes" in err, f"{rc} {err}")
    rc, out, err = df(binary, *d, "users", "list", "--json")
    users = [json.loads(line) for line in out.splitlines()]
    check("users list: only ops, with a password",
          [(u["name"], u["role"], u["password"]) for u in users] == [("ops", "reader", True)], out)


def check_scheduler(binary, tmp, data):
    rc, out, err = df(binary, "--data-dir", data, "run", "--role", "scheduler", "--cql-port", "0")
    check("run --role scheduler --cql-port: exit 2, one line",
          rc == 2 and err == "dataforge: --cql-port: --role scheduler has no store to serve\n", f"{rc} {err}")

    stderr_path = os.path.join(tmp, "scheduler.err")
    with open(stderr_path, "w") as stderr:
        proc = subprocess.Popen([binary, "--data-dir", data, "run", "--role", "scheduler",
                                 "--http-port", "0"], stdout=subprocess.PIPE, stderr=stderr,
                                bufsize=0, env=env_with())
    port = None
    lines = []
    pending = b""
    deadline = time.monotonic() + START_BOUND_S
    fd = proc.stdout.fileno()
    while port is None and time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.5)
        if not r:
            if proc.poll() is not None:
                break
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for raw in complete:
            line = raw.decode()
            lines.append(line)
            m = READY.match(line)
            if m:
                port = int(m.group("port"))
    try:
        check("run --role scheduler --http-port 0 prints the ready line", port is not None,
              f"{lines} {open(stderr_path).read()[-2000:]}")
        if port is None:
            return
        base = f"http://127.0.0.1:{port}"
        status, body = get(base + "/health")
        check("GET /health: 200 {\"status\":\"ok\"}", status == 200 and json.loads(body) == {"status": "ok"},
              f"{status} {body}")
        status, body = get(base + "/metrics")
        check("GET /metrics on loopback: 200", status == 200, f"{status}")
        check("/metrics: the scheduler's probes (dataforge_task_attempts_total, 0 so far)",
              'dataforge_task_attempts_total{state="success"} 0' in body, body[:2000])
        info = [line for line in body.splitlines() if line.startswith("dataforge_pipeline_info{")]
        check("/metrics: dataforge_pipeline_info with role=\"scheduler\"",
              len(info) == 1 and 'role="scheduler"' in info[0], f"{info}")
        check("/metrics: the DAG's runs (dataforge_dag_runs)",
              'dag="user_automation"' in body, body[:2000])
        status, body = get(base + "/v1/whoami")
        check("GET /v1/whoami without credentials: 401 (a user exists)", status == 401, f"{status} {body}")
        basic = base64.b64encode(b"ops:s3cret-pw").decode()
        status, body = get(base + "/v1/whoami", {"Authorization": "Basic " + basic})
        who = json.loads(body) if status == 200 else {}
        check("GET /v1/whoami as ops (the --password-env password): 200, reader",
              who.get("user") == "ops" and who.get("role") == "reader", f"{status} {body}")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=STOP_BOUND_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            out = b""
    text = "\n".join(lines) + "\n" + pending.decode() + out.decode()
    check("SIGTERM: exit 0", proc.returncode == 0, f"{proc.returncode}")
    m = re.search(r"^  serve: \d+ connections, (\d+) requests \((\d+) client errors, 0 server errors\)$",
                  text, re.M)
    check("the summary counts the server's 4 requests (1 client error)",
          m is not None and m.group(1) == "4" and m.group(2) == "1", text[-1500:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataforge", required=True)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="df-compose-roles-") as tmp:
        data = os.path.join(tmp, "data")
        check_users(a.dataforge, data)
        check_scheduler(a.dataforge, tmp, data)
    print(f"compose roles: {results['passed']} passed, {results['failed']} failed")
    return 0 if results["failed"] == 0 and results["passed"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
