#!/usr/bin/env python3
"""Runs every shell and YAML example of README.md and docs/*.md, as a user pasting it would.

Usage: docs_examples_test.py --dataforge BIN --kafka-mock-cluster BIN [--source-dir DIR]
                             [--only FILE[:LINE]]

What is extracted: each fenced block whose info string is `sh`, `bash`, `console` or `yaml`.
A `console` block's commands are its lines starting with "$ "; the rest is sample output and
is not compared, except for this: a command commented `# exit N` must exit with N, and each
"dataforge: …" line shown after it must be a line of its stderr, exactly. An HTML comment on
the line right before the fence says how a block is tested when it cannot simply be run:

  <!-- docs-test: syntax REASON -->  each `dataforge …` command is run with --help instead (the
                                    subcommand must exist and every --flag it uses must be in
                                    its help or the global help); a yaml block is checked as always
  <!-- docs-test: skip REASON -->    not run; REASON is required (e.g. it builds for minutes)
  <!-- docs-test: continue -->       runs in the directory of the previous block of the same
                                    file (it reads what that block made)

How a block runs: in a fresh temporary directory, as one bash script in which every command
must exit 0 (the first that does not fails the block), with the binary under test first on
PATH as `dataforge`, then /usr/bin (Debian's python3 with python3-cassandra). A yaml block is
written to a file and must pass `dataforge config check FILE`.

Commands that run until a signal are started, given until their ready line (or 2 s when they
print none: stopping cleanly must work at any moment, so the wait is no race), then sent
SIGINT, and must exit 0 within 60 s: `dataforge run` without
--max-records and without a file:// --source-url (any --role), `dataforge mock-api`,
`dataforge cql-serve`, `dataforge serve`, `kafka_mock_cluster`. Written with a trailing `&` they stay up (ready
first) until the block ends, then get SIGINT and must exit 0. One whose output is redirected
(`> FILE`) is left to bash. Whatever a block leaves running is killed when it ends.

Substitutions (applied to the block's text before it runs; PostgreSQL, cql-serve and the mock
API start when a block first needs them and serve the whole run; a block that names Kafka gets a
mock cluster of its own, so no block sees another's topic, group or records):
  $PWD/build/src                       -> the directory of the binary under test
  build/tests/kafka_mock_cluster       -> the --kafka-mock-cluster binary
  $PWD/                                -> the repository root (README: "from the repository root")
  kafka://HOST:PORT[,HOST:PORT...]     -> kafka://<bootstrap servers of the block's librdkafka
                                          mock cluster> (3 brokers, tests/tools/kafka_mock_cluster)
  postgresql://ANYTHING (to a space or quote)
                                       -> the URL of a throwaway PostgreSQL 15
                                          (tests/tools/pg_throwaway.sh); its query
                                          string (sslmode=require: the server has no TLS)
                                          is dropped
  cassandra://HOSTS[/KEYSPACE]         -> cassandra://127.0.0.1:<port>/KEYSPACE of a
                                          `dataforge cql-serve` on its own data dir
  https://randomuser.me/api/           -> http://127.0.0.1:<port>/api/ of `dataforge mock-api`
  the ports 8080, 8443 and 9042 (--port N, --cql-port N, --http-port N, port=N, :N)
                                       -> one free port each per block
  /var/lib/dataforge/, /srv/           -> var/lib/dataforge/, srv/ in the block's directory
  ${PGPASSWORD}, ${KAFKA_PASSWORD}, ${CASSANDRA_USER}, ${CASSANDRA_PASSWORD},
  ${DATAFORGE_JWT_SECRET}
                                       -> set in the environment (placeholder values)

A failure names FILE:LINE of the command (or block) and shows its stderr. The last line is
"docs: N passed, N failed, N skipped".
"""

import argparse
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

LANGS = {"sh", "bash", "console", "yaml"}
MARKER = re.compile(r"^<!--\s*docs-test:\s*(syntax|skip|continue)\b\s*(.*?)\s*-->\s*$")
READY = {  # what a serving command prints once it serves
    "mock-api": re.compile(r"serving http"),
    "cql-serve": re.compile(r"listening on"),
    "kafka_mock_cluster": re.compile(r"bootstrap\.servers="),
    "--cql-port": re.compile(r"listening on"),
    "serve": re.compile(r"serve: listening on"),
    "--http-port": re.compile(r"serve: listening on"),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Block:
    def __init__(self, path, line, lang, text, marker):
        self.path, self.line, self.lang, self.text, self.marker = path, line, lang, text, marker

    @property
    def where(self):
        return f"{self.path}:{self.line}"


def extract(source_dir, rel):
    blocks = []
    lines = open(os.path.join(source_dir, rel), encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\S*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        lang, start = m.group(1), i
        j = i + 1
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        if lang in LANGS:
            k = start - 1
            while k >= 0 and not lines[k].strip():
                k -= 1
            mm = MARKER.match(lines[k]) if k >= 0 else None
            marker = (mm.group(1), mm.group(2)) if mm else None
            body = "\n".join(lines[start + 1:j])
            blocks.append(Block(rel, start + 1, lang, body, marker))
        i = j + 1
    return blocks


def commands(block):
    """(line number, command text, expected) of each command; continuation lines and the
    lines of a here-document (up to its delimiter) are joined.
    `expected` is (exit status, error lines) for a console command commented `# exit N`."""
    out = []
    pending, first = "", 0
    heredoc = None  # the delimiter while inside a here-document: its lines join the command
    for n, line in enumerate(block.text.split("\n"), start=block.line + 1):
        if heredoc is not None:
            pending += "\n" + line
            if line == heredoc:
                out.append((first, pending, None))
                pending, heredoc = "", None
            continue
        if block.lang == "console":
            if not line.startswith("$ "):
                if out and out[-1][2] and line.startswith("dataforge: "):
                    out[-1][2][1].append(line)
                continue
            line = line[2:]
        if not pending:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            first = n
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        cmd = pending + line
        h = re.search(r"(?<!<)<<-?\s*['\"]?(\w+)['\"]?", cmd) if block.lang != "console" else None
        if h:  # `cat > f <<'EOF'`: the body up to the delimiter line is part of this command
            pending, heredoc = cmd, h.group(1)
            continue
        m = re.search(r"#\s*exit (\d+)\s*$", cmd) if block.lang == "console" else None
        out.append((first, cmd, (int(m.group(1)), []) if m else None))
        pending = ""
    return out


class Servers:
    """The test servers, started on first use and stopped at exit."""

    def __init__(self, args, work):
        self.args, self.work = args, work
        self.procs = []
        self._pg = self._cql = self._api = None
        self.lock = threading.RLock()  # blocks run in parallel; each server starts once

    def kafka(self, owned):
        """A fresh cluster for one block (blocks must not see each other's topics, groups and
        the mock brokers' ~5 MB per partition retention); its process is added to `owned`."""
        p = subprocess.Popen([self.args.kafka_mock_cluster], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
        owned.append(p)
        line = p.stdout.readline().strip()
        if not line.startswith("bootstrap.servers="):
            raise RuntimeError(f"kafka_mock_cluster printed {line!r}")
        return line.split("=", 1)[1]

    def pg(self):
        with self.lock:
            return self._start_pg()

    def _start_pg(self):
        if not self._pg:
            self.pg_dir = tempfile.mkdtemp(prefix="docs-pg-", dir="/tmp")
            os.chmod(self.pg_dir, 0o755)
            script = os.path.join(self.args.source_dir, "tests/tools/pg_throwaway.sh")
            r = subprocess.run([script, "start", os.path.join(self.pg_dir, "pg")],
                               capture_output=True, text=True, timeout=60)
            if r.returncode != 0:
                raise RuntimeError(f"pg_throwaway.sh start failed: {r.stderr.strip()}")
            self._pg = r.stdout.strip().split("\n")[-1]
        return self._pg

    def serve(self, argv, ready):
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             start_new_session=True)
        self.procs.append(p)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = p.stdout.readline()
            if not line:
                raise RuntimeError(f"{argv} exited before it was ready")
            if ready.search(line):
                threading.Thread(target=p.stdout.read, daemon=True).start()
                return line
        raise RuntimeError(f"{argv} was not ready within 30 s")

    def cql(self):
        with self.lock:
            return self._start_cql()

    def _start_cql(self):
        if not self._cql:
            d = os.path.join(self.work, "cql-serve-data")
            os.makedirs(d)
            port = free_port()
            self.serve([self.args.dataforge, "--data-dir", d, "cql-serve", "--port", str(port)],
                       READY["cql-serve"])
            self._cql = f"127.0.0.1:{port}"
        return self._cql

    def api(self):
        with self.lock:
            return self._start_api()

    def _start_api(self):
        if not self._api:
            port = free_port()
            self.serve([self.args.dataforge, "mock-api", "--port", str(port)],
                       READY["mock-api"])
            self._api = f"http://127.0.0.1:{port}/api/"
        return self._api

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGINT)
                    p.wait(timeout=20)
                except Exception:
                    p.kill()
        if self._pg:
            script = os.path.join(self.args.source_dir, "tests/tools/pg_throwaway.sh")
            subprocess.run([script, "stop", os.path.join(self.pg_dir, "pg")],
                           capture_output=True, timeout=60)
            shutil.rmtree(self.pg_dir, ignore_errors=True)


def substitute(text, servers, args, ports, owned):
    bin_dir = os.path.dirname(os.path.abspath(args.dataforge))
    text = text.replace("$PWD/build/src", bin_dir)
    text = text.replace("build/tests/kafka_mock_cluster", args.kafka_mock_cluster)
    text = re.sub(r"\$PWD/", args.source_dir.rstrip("/") + "/", text)
    if re.search(r"kafka://", text):
        text = re.sub(r"kafka://[A-Za-z0-9.\-]+:[0-9A-Z]+(,[A-Za-z0-9.\-]+:[0-9A-Z]+|,\.\.\.)*",
                      "kafka://" + servers.kafka(owned), text)
    if "postgresql://" in text:
        text = re.sub(r"postgresql://[^\s'\"]*", servers.pg(), text)
    if "cassandra://" in text:
        text = re.sub(r"cassandra://[^\s/'\"]+(/[A-Za-z0-9_]+)?",
                      lambda m: f"cassandra://{servers.cql()}{m.group(1) or ''}", text)
    if "randomuser.me/api/" in text:
        text = text.replace("https://randomuser.me/api/", servers.api())
    for port in ("8080", "8443", "9042"):
        if re.search(rf"(--port |--cql-port |--http-port |port=|:){port}\b", text):
            ports.setdefault(port, str(free_port()))
            text = re.sub(rf"(--port |--cql-port |--http-port |port=|:){port}\b",
                          lambda m: m.group(1) + ports[port], text)
    text = text.replace("/var/lib/dataforge/", "var/lib/dataforge/").replace("/srv/", "srv/")
    return text


def serving_kind(cmd):
    """The READY key of a command that runs until a signal, "" for one that runs until a
    signal and prints no ready line, None for one that ends by itself."""
    try:
        words = shlex.split(cmd, comments=True)
    except ValueError:
        return None
    if not words or any(w.startswith(">") for w in words):
        return None  # its output goes to a file: it is left to bash
    if os.path.basename(words[0]) == "kafka_mock_cluster":
        return "kafka_mock_cluster"
    if os.path.basename(words[0]) != "dataforge":
        return None
    sub = next((w for w in words[1:] if w in ("run", "mock-api", "cql-serve", "serve", "table",
                                               "topic", "users", "keys",
                                               "staging", "status", "config", "dags", "runs",
                                               "tasks", "deadletter")), None)
    if sub in ("mock-api", "cql-serve", "serve"):
        return sub
    if sub != "run" or "--help" in words:
        return None
    if "--max-records" in words:
        return None
    src = words[words.index("--source-url") + 1] if "--source-url" in words else ""
    if src.startswith("file://"):
        return None
    if "--http-port" in words:
        return "--http-port"
    return "--cql-port" if "--cql-port" in words else ""


SERVE_HELPER = r'''
__df_serve() {  # __df_serve LINE BACKGROUND READY_REGEX COMMAND
  local line=$1 bg=$2 ready=$3 cmd=$4 out
  out=$(mktemp -p "$DOCS_TMP")
  setsid bash -c "$cmd" >"$out" 2>&1 </dev/null &
  local pid=$! waited=0
  while :; do
    if ! kill -0 $pid 2>/dev/null; then
      wait $pid; local rc=$?
      echo "exited ($rc) before it was ready:" >&2; cat "$out" >&2; return 1
    fi
    if [[ -n $ready ]] && grep -Eq "$ready" "$out"; then break; fi
    if [[ -z $ready ]] && (( waited >= 20 )); then break; fi
    if (( waited >= 300 )); then echo "not ready within 30 s:" >&2; cat "$out" >&2; return 1; fi
    sleep 0.1; waited=$((waited + 1))
  done
  if [[ $bg == 1 ]]; then echo "$pid $out $line" >>"$DOCS_TMP/background"; return 0; fi
  __df_stop $pid "$out"
}
__df_stop() {  # SIGINT to the session; it must exit 0 within 60 s
  local pid=$1 out=$2 i p blk
  # A background job inherits SIGINT ignored, and an ignored signal that is not blocked is
  # discarded: sent while dataforge is still starting (before its SignalWaiter blocks SIGINT to
  # sigwait for it) it would be lost, and the command would run on. So wait until a process of
  # the session blocks SIGINT (up to 30 s; a command that never does is signalled after that).
  for i in $(seq 300); do
    kill -0 $pid 2>/dev/null || break  # gone already (the block stopped it itself)
    for p in $(pgrep -s $pid); do
      blk=$(awk '/^SigBlk/ {print $2}' /proc/$p/status 2>/dev/null)
      if [[ -n $blk ]] && (( (16#$blk & 2) != 0 )); then break 2; fi
    done
    sleep 0.1
  done
  kill -INT -- -$pid 2>/dev/null
  for i in $(seq 600); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  if kill -0 $pid 2>/dev/null; then
    kill -KILL -- -$pid; echo "did not stop within 60 s of SIGINT:" >&2; cat "$out" >&2; return 1
  fi
  wait $pid; local rc=$?
  if (( rc != 0 )); then echo "exited $rc after SIGINT:" >&2; cat "$out" >&2; return 1; fi
}
__df_stop_background() {
  local pid out line status=0
  [[ -f $DOCS_TMP/background ]] || return 0
  while read -r pid out line; do
    __df_stop $pid "$out" 2>"$DOCS_TMP/err.bg" || { echo "$line" >"$DOCS_TMP/failed_line"; status=1; }
  done < <(tac "$DOCS_TMP/background")
  rm -f "$DOCS_TMP/background"
  return $status
}
'''


def script_for(block, cmds, syntax):
    parts = ["set -o pipefail", SERVE_HELPER]
    for line, cmd, expected in cmds:
        c = cmd.rstrip()
        err = f'"$DOCS_TMP/err.{line}"'
        fail = f'{{ echo {line} > "$DOCS_TMP/failed_line"; __df_stop_background; exit 1; }}'
        if expected and not syntax:
            code, lines = expected
            checks = "".join(f" && grep -qxF -- {shlex.quote(l)} {err}" for l in lines)
            parts.append(f"{{ {c}\n}} 2>{err}; __rc=$?\n"
                         f"[[ $__rc == {code} ]]{checks} || {{ echo \"exit $__rc, expected "
                         f"{code} and the error shown\" >>{err}; {fail[2:]}")
            continue
        if syntax:
            parts.append(f"__df_syntax {line} {shlex.quote(c)} 2>{err} || "
                         f"{{ echo {line} > \"$DOCS_TMP/failed_line\"; exit 1; }}")
            continue
        background = re.search(r"(?<!&)&\s*(#.*)?$", c) is not None
        if background:
            c = re.sub(r"(?<!&)&\s*(#.*)?$", "", c)
        kind = serving_kind(c)
        if kind is not None:
            ready = READY[kind].pattern if kind else ""
            parts.append(f"__df_serve {line} {int(background)} {shlex.quote(ready)} "
                         f"{shlex.quote(c)} 2>{err} || "
                         f"{{ echo {line} > \"$DOCS_TMP/failed_line\"; __df_stop_background; exit 1; }}")
        else:
            amp = " &" if background else ""
            parts.append(f"{{ {c}{amp}\n}} 2>{err} || "
                         f"{{ echo {line} > \"$DOCS_TMP/failed_line\"; __df_stop_background; exit 1; }}")
    parts.append("__df_stop_background 2>\"$DOCS_TMP/err.bg\" || exit 1")
    return "\n".join(parts) + "\n"


SYNTAX_HELPER = r'''
__df_syntax() {  # __df_syntax LINE COMMAND: the subcommand exists, its --flags are in its help
  local line=$1 cmd=$2 words w help sub=()
  read -ra words <<<"$(sed 's/#.*//' <<<"$cmd")"
  [[ $(basename "${words[0]}") == dataforge ]] || return 0
  for w in "${words[@]:1}"; do
    case $w in
      run|mock-api|cql-serve|table|topic|staging|status|config|dags|runs|tasks|deadletter|count|scan|get|list|describe|consume|show|check|trigger|backfill|pause|unpause|clear|users|keys|add|remove|create|revoke) sub+=("$w");;
    esac
  done
  help=$(dataforge "${sub[@]}" --help) || { echo "dataforge ${sub[*]} --help failed" >&2; return 1; }
  help+=$'\n'$(dataforge --help)
  for w in "${words[@]:1}"; do
    if [[ $w == --* ]]; then
      grep -q -- "${w%%=*}" <<<"$help" || { echo "dataforge ${sub[*]} has no option ${w%%=*}" >&2; return 1; }
    fi
  done
}
'''


def run_block(block, args, servers, work, env, last_dir):
    if block.marker and block.marker[0] == "continue" and block.path in last_dir:
        d = last_dir[block.path]
    else:
        d = tempfile.mkdtemp(prefix="block-", dir=work)
    last_dir[block.path] = d
    tmp = tempfile.mkdtemp(prefix="ctl-", dir=work)
    ports = {}
    syntax = bool(block.marker and block.marker[0] == "syntax")
    owned = []  # servers of this block only
    try:
        text = substitute(block.text, servers, args, ports, owned) if not syntax else block.text
        return run_substituted(block, text, syntax, args, d, tmp, env)
    finally:
        for p in owned:
            p.send_signal(signal.SIGINT)
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def run_substituted(block, text, syntax, args, d, tmp, env):
    benv = dict(env, DOCS_TMP=tmp)
    if block.lang == "yaml":
        f = os.path.join(d, "pipeline.yaml")
        with open(f, "w") as out:
            out.write(text + "\n")
        r = subprocess.run([args.dataforge, "config", "check", f], cwd=d, env=benv,
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            return f"{block.where}: `dataforge config check` of this yaml block exited " \
                   f"{r.returncode}:\n{r.stderr.strip()}{r.stdout.strip()}"
        return None
    sub = Block(block.path, block.line, block.lang, text, block.marker)
    cmds = commands(sub)
    script = script_for(sub, cmds, syntax)
    if syntax:
        script = SYNTAX_HELPER + script
    # Output to files, not pipes: a command left in the background must not hold them open.
    with open(os.path.join(tmp, "stdout"), "w") as so, open(os.path.join(tmp, "stderr"), "w") as se:
        p = subprocess.Popen(["bash", "-c", script], cwd=d, env=benv, stdout=so, stderr=se,
                             text=True, start_new_session=True)
    try:
        p.wait(timeout=args.block_timeout)
    finally:
        try:  # what the block left running in the background (`cmd &` of any kind)
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if p.poll() is None:
            p.kill()
            p.wait()
        bg = os.path.join(tmp, "background")  # servers of their own session still up
        for entry in open(bg).read().split("\n") if os.path.exists(bg) else []:
            try:
                os.killpg(int(entry.split()[0]), signal.SIGKILL)
            except (IndexError, ValueError, ProcessLookupError):
                pass
    out = open(os.path.join(tmp, "stdout")).read()
    errs = open(os.path.join(tmp, "stderr")).read()
    r = subprocess.CompletedProcess(p.args, p.returncode, out, errs)
    failed = os.path.join(tmp, "failed_line")
    if r.returncode == 0 and not os.path.exists(failed):
        return None
    line = open(failed).read().strip() if os.path.exists(failed) else "?"
    cmd = next((c for n, c, _ in cmds if str(n) == line), "")
    errf = os.path.join(tmp, f"err.{line}")
    if not os.path.exists(errf):
        errf = os.path.join(tmp, "err.bg")
    err = open(errf).read().strip() if os.path.exists(errf) else r.stderr.strip()
    return f"{block.path}:{line}: failed: {cmd.strip()}\n{err[-3000:]}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataforge", required=True)
    ap.add_argument("--kafka-mock-cluster", required=True)
    ap.add_argument("--source-dir", default=os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))))
    ap.add_argument("--only", default="", help="FILE or FILE:LINE of one block")
    ap.add_argument("--block-timeout", type=int, default=90)
    ap.add_argument("--jobs", type=int, default=3, help="markdown files checked at once")
    args = ap.parse_args()
    args.dataforge = os.path.abspath(args.dataforge)
    args.kafka_mock_cluster = os.path.abspath(args.kafka_mock_cluster)
    files = ["README.md"] + sorted(
        os.path.join("docs", f) for f in os.listdir(os.path.join(args.source_dir, "docs"))
        if f.endswith(".md"))
    blocks = [b for f in files for b in extract(args.source_dir, f)]
    if args.only:
        blocks = [b for b in blocks if b.where == args.only or b.path == args.only]
    work = tempfile.mkdtemp(prefix="dataforge-docs-", dir="/tmp")
    os.chmod(work, 0o755)
    bindir = os.path.dirname(args.dataforge)
    # /usr/bin first: python3 is Debian's, with python3-cassandra.
    env = dict(os.environ, PATH=os.pathsep.join([bindir, "/usr/bin", os.environ.get("PATH", "")]),
               PGPASSWORD="secret", KAFKA_PASSWORD="kafka-secret", CASSANDRA_USER="cassandra",
               CASSANDRA_PASSWORD="cassandra-secret",
               DATAFORGE_JWT_SECRET="docs-jwt-secret-0123456789abcdef-0123456789")
    servers = Servers(args, work)
    kafka_lock = threading.Lock()  # one block at a time on the shared topic and group

    def check(b, last_dir):
        """(outcome, line to print) of one block."""
        if b.marker and b.marker[0] == "skip":
            if not b.marker[1]:
                return "failed", f"FAIL {b.where}: a skip marker needs a reason\n"
            return "skipped", None
        t = time.monotonic()
        try:
            if "kafka" in b.text:
                with kafka_lock:
                    problem = run_block(b, args, servers, work, env, last_dir)
            else:
                problem = run_block(b, args, servers, work, env, last_dir)
        except subprocess.TimeoutExpired:
            problem = f"{b.where}: did not finish within {args.block_timeout} s"
        except RuntimeError as e:
            problem = f"{b.where}: {e}"
        if problem:
            return "failed", f"FAIL {problem}\n"
        kind = b.lang + (", " + b.marker[0] if b.marker else "")
        return "passed", f"ok   {b.where} ({kind}) {time.monotonic() - t:.1f} s"

    def check_file(path):  # a file's blocks in order (a `continue` block needs the one before)
        last_dir = {}
        results = []
        for b in (b for b in blocks if b.path == path):
            outcome, line = check(b, last_dir)
            if line:
                print(line, flush=True)
            results.append(outcome)
        return results

    counts = {"passed": 0, "failed": 0, "skipped": 0}
    start = time.monotonic()
    try:
        # Files in parallel: most of the time is spent waiting on servers and shutdowns.
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            for results in pool.map(check_file, sorted({b.path for b in blocks})):
                for outcome in results:
                    counts[outcome] += 1
    finally:
        servers.stop()
        shutil.rmtree(work, ignore_errors=True)
    passed, failed, skipped = counts["passed"], counts["failed"], counts["skipped"]
    print(f"docs: {passed} passed, {failed} failed, {skipped} skipped "
          f"in {time.monotonic() - start:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
