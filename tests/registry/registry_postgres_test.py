"""Two `dataforge serve` processes on one PostgreSQL staging database (a throwaway PostgreSQL 15,
tests/tools/pg_throwaway.sh) share the schema registry: one set of ids, a schema registered on
one server is read on the other, a permanent delete on one is seen by the other at once, and the
same schema registered on both at the same moment gets one id.

    /usr/bin/python3 tests/registry/registry_postgres_test.py /path/to/dataforge [unittest args]
"""
import os
import subprocess
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from registry_test_base import ORDER_V1, USER_V1, USER_V2, ServedRegistry  # noqa: E402
import dataforge_server  # noqa: E402
import requests  # noqa: E402

PG_THROWAWAY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools",
                            "pg_throwaway.sh")


class TwoServersOnePostgresTest(ServedRegistry):
    @classmethod
    def setUpClass(cls):
        # Under /tmp: the postgres user must traverse the parents.
        cls.tmp = tempfile.TemporaryDirectory(prefix="df-registry-pg-", dir="/tmp")
        os.chmod(cls.tmp.name, 0o755)
        cls.pg_dir = os.path.join(cls.tmp.name, "pg")
        cls.pg_url = subprocess.run(["bash", PG_THROWAWAY, "start", cls.pg_dir], check=True,
                                    capture_output=True, text=True, timeout=120).stdout.strip()
        cls.servers = []
        try:
            for name in ("a", "b"):
                s = dataforge_server.CqlServe(
                    data_dir=os.path.join(cls.tmp.name, name),
                    command=["--staging", cls.pg_url, "serve", "--http-port", "0"],
                    ready=dataforge_server.SERVE_READY)
                cls.servers.append(s)
                s.start()
        except Exception:
            cls.tearDownClass()
            raise
        cls.urls = ["http://127.0.0.1:%d/registry" % s.port for s in cls.servers]

    @classmethod
    def tearDownClass(cls):
        codes = []
        for s in cls.servers:
            if s.proc is not None and s.proc.poll() is None:
                codes.append(s.stop()[0])
            s.cleanup()
        subprocess.run(["bash", PG_THROWAWAY, "stop", cls.pg_dir], capture_output=True,
                       timeout=120)
        cls.tmp.cleanup()
        if any(c != 0 for c in codes):
            raise AssertionError("serve exited %r" % codes)

    def on(self, server, method, path, body=None):
        return requests.request(method, self.urls[server] + path, json=body, timeout=60)

    def test_one_registry_across_servers(self):
        r = self.on(0, "POST", "/subjects/users-value/versions", {"schema": USER_V1})
        self.assert_answer(r, 200, {"id": 1})
        self.assert_answer(self.on(1, "GET", "/schemas/ids/1"), 200, {"schema": USER_V1})
        # The same schema under another subject, on the other server: the same id.
        self.assert_answer(self.on(1, "POST", "/subjects/users-copy/versions", {"schema": USER_V1}),
                           200, {"id": 1})
        self.assert_answer(self.on(1, "POST", "/subjects/users-value/versions", {"schema": USER_V2}),
                           200, {"id": 2})
        self.assert_answer(self.on(0, "GET", "/subjects/users-value/versions"), 200, [1, 2])
        self.assert_answer(self.on(0, "GET", "/schemas/ids/2/subjects"), 200, ["users-value"])

        # Read on b (cached there), then deleted for good on a: b answers 40403 at once.
        self.assert_answer(self.on(1, "GET", "/schemas/ids/2"), 200, {"schema": USER_V2})
        self.assert_answer(self.on(0, "DELETE", "/subjects/users-value/versions/2"), 200, 2)
        self.assert_answer(self.on(0, "DELETE", "/subjects/users-value/versions/2?permanent=true"),
                           200, 2)
        self.assert_error(self.on(1, "GET", "/schemas/ids/2"), 404, 40403)

        # One schema registered on both servers at once: one id (3; ids are never reused).
        answers = [None, None]

        def register(i):
            answers[i] = self.on(i, "POST", "/subjects/orders-%d/versions" % i,
                                 {"schema": ORDER_V1})

        threads = [threading.Thread(target=register, args=(i,)) for i in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual([(r.status_code, r.json()) for r in answers],
                         [(200, {"id": 3}), (200, {"id": 3})])


if __name__ == "__main__":
    unittest.main()
