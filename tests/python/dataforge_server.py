"""Starts and stops `dataforge cql-serve` (or `serve`, with SERVE_READY) for the end-to-end tests.

The binary's path comes from the command line (ctest passes it) or $DATAFORGE_BIN.
"""
import os
import re
import select
import signal
import subprocess
import tempfile
import time

READY = re.compile(
    r"^cql-serve: listening on (?P<host>[^ ]+):(?P<port>\d+) "
    r"\(store (?P<store>.+), auth (?P<auth>on|off), tls (?P<tls>on|off)\)$")
# `dataforge serve`'s ready line (the HTTP server: the REST API, the schema registry).
SERVE_READY = re.compile(
    r"^serve: listening on (?P<scheme>https?)://(?P<host>[^ ]+):(?P<port>\d+) "
    r"\(store (?P<store>.+), auth (?P<auth>on|off), tls (?P<tls>on|off)\)$")
SUMMARY = re.compile(
    r"^cql-serve: stopped; (?P<connections>\d+) connections, (?P<requests>\d+) requests, "
    r"(?P<errors>\d+) errors$")

# Bounds for a process that never becomes ready or never exits: a failure, not a timing check.
START_BOUND_S = 60
STOP_BOUND_S = 60

BINARY = os.environ.get("DATAFORGE_BIN", "dataforge")


class CqlServe:
    """`dataforge --data-dir DIR COMMAND ARGS...` (COMMAND: `cql-serve --port 0`); start() waits
    for the ready line."""

    def __init__(self, data_dir=None, args=(), env=None, command=("cql-serve", "--port", "0"),
                 ready=READY):
        self._own_dir = None
        if data_dir is None:
            self._own_dir = tempfile.TemporaryDirectory(prefix="df-cql-")
            data_dir = os.path.join(self._own_dir.name, "data")
        self.data_dir = data_dir
        self.args = list(args)
        self.command = list(command)
        self.env = dict(os.environ, **(env or {}))
        self.proc = None
        self.port = None
        self.ready = None
        self.stderr_path = None
        self._ready_line = ready

    def start(self):
        fd, self.stderr_path = tempfile.mkstemp(prefix="df-cql-stderr-")
        self._stderr = os.fdopen(fd, "w")
        self.proc = subprocess.Popen(
            [BINARY, "--data-dir", self.data_dir] + self.command + self.args,
            stdout=subprocess.PIPE, stderr=self._stderr, env=self.env, bufsize=0)
        self._pending = b""
        deadline = time.monotonic() + START_BOUND_S
        lines = []
        match = None
        while match is None:  # other lines may come first (`run` logs its start)
            line = self._read_line(deadline - time.monotonic())
            if line is None or (line == "" and self.proc.poll() is not None):
                break
            lines.append(line)
            match = self._ready_line.match(line)
        if not match:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("no ready line from %s, got %r; stderr:\n%s" %
                                 (self.command[0], lines, self.stderr()))
        self.ready = match
        self.port = int(match.group("port"))
        return self

    def _read_line(self, bound_s):
        """The next stdout line, or None after bound_s. Unbuffered reads split here: select() on
        a buffered reader misses lines an earlier readline() already pulled into its buffer."""
        deadline = time.monotonic() + bound_s
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._pending:
            if time.monotonic() >= deadline:
                return None
            r, _, _ = select.select([fd], [], [], 0.5)
            if r:
                chunk = os.read(fd, 65536)
                if not chunk:  # the process closed stdout: what is left, "" at the end
                    rest, self._pending = self._pending, b""
                    return rest.decode("utf-8", "replace")
                self._pending += chunk
            elif self.proc.poll() is not None and not self._pending:
                return ""
        line, self._pending = self._pending.split(b"\n", 1)
        return line.decode("utf-8", "replace")

    def stop(self):
        """SIGTERM, then returns (exit code, the rest of stdout)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            out, _ = self.proc.communicate(timeout=STOP_BOUND_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
            raise AssertionError("cql-serve did not stop on SIGTERM; stderr:\n" + self.stderr())
        return self.proc.returncode, (self._pending + out).decode("utf-8", "replace")

    def stderr(self):
        with open(self.stderr_path) as f:
            return f.read()

    def cleanup(self):
        if self.proc:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.proc.stdout.close()
            self._stderr.close()
        if self.stderr_path and os.path.exists(self.stderr_path):
            os.unlink(self.stderr_path)
        if self._own_dir:
            self._own_dir.cleanup()


def run_cli(args, env=None):
    """Runs `dataforge ARGS...` to completion: (exit code, stdout, stderr)."""
    p = subprocess.run([BINARY] + list(args), capture_output=True, text=True,
                       env=dict(os.environ, **(env or {})), timeout=STOP_BOUND_S)
    return p.returncode, p.stdout, p.stderr
