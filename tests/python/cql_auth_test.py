"""End-to-end tests of the CQL endpoint's users and roles (docs/security.md, "CQL endpoint"):
`dataforge cql-serve` over a data dir whose users were added with `dataforge users add`, and
Debian's python3-cassandra driver with PlainTextAuthProvider.

    python3 tests/python/cql_auth_test.py /path/to/dataforge [unittest args]
"""
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
    os.environ["DATAFORGE_BIN"] = os.path.abspath(sys.argv.pop(1))

import dataforge_server  # noqa: E402
from cql_test_base import make_cluster, stop_cleanly  # noqa: E402
from cassandra import AuthenticationFailed, Unauthorized  # noqa: E402
from cassandra.auth import PlainTextAuthProvider  # noqa: E402
from cassandra.cluster import NoHostAvailable  # noqa: E402
from cassandra.query import BatchStatement  # noqa: E402

dataforge_server.BINARY = os.environ.get("DATAFORGE_BIN", dataforge_server.BINARY)
logging.getLogger("cassandra").setLevel(logging.CRITICAL)

# Bound on waiting for a change made by another process (a user added or removed) to reach the
# server: the promise is "within a second"; the bound only turns a hang into a failure.
CHANGE_BOUND_S = 20

PASSWORDS = {"ada": "pw-admin-1", "rita": "pw-reader-1", "otto": "pw-operator-1",
             "lou": "pw-loader-1"}
ROLES = {"ada": "admin", "rita": "reader", "otto": "operator", "lou": "loader"}

# A role of the pipeline file: reads and writes the tables of keyspace shop only.
LOADER_PIPELINE = """auth:
  roles:
    loader:
      tables:
        "shop.*": [read, write]
"""


def users_add(data_dir, name, role, password, config=None):
    global_args = ["--data-dir", data_dir] + (["--config", config] if config else [])
    p = subprocess.run([dataforge_server.BINARY] + global_args + ["users", "add", name,
                        "--role", role, "--password-stdin"], input=password + "\n",
                       capture_output=True, text=True, timeout=dataforge_server.STOP_BOUND_S)
    if p.returncode != 0:
        raise AssertionError("users add %s failed (%d): %s%s" % (name, p.returncode, p.stdout,
                                                                   p.stderr))


def users_remove(data_dir, name):
    code, out, err = dataforge_server.run_cli(["--data-dir", data_dir, "users", "remove", name])
    if code != 0:
        raise AssertionError("users remove %s failed (%d): %s%s" % (name, code, out, err))


def connect(port, user=None, password=None):
    """A session as `user` (no credentials when None), or the connection error."""
    kwargs = {"protocol_version": 4}
    if user is not None:
        kwargs["auth_provider"] = PlainTextAuthProvider(user, password)
    cluster = make_cluster(port, **kwargs)
    try:
        session = cluster.connect()
    except Exception:
        cluster.shutdown()
        raise
    session.default_timeout = 60
    return cluster, session


def wait_until(predicate, bound_s=CHANGE_BOUND_S):
    deadline = time.monotonic() + bound_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


class DataDirServer(unittest.TestCase):
    """One data dir with USERS and one cql-serve over it per class."""
    USERS = ()
    SERVER_ARGS = ()
    SERVER_ENV = None
    PIPELINE = None  # pipeline file text (its auth: section), or None for the built-in one

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="df-cql-auth-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.data_dir = os.path.join(cls.tmp.name, "data")
        config = None
        command = ("cql-serve", "--port", "0")
        if cls.PIPELINE is not None:
            config = os.path.join(cls.tmp.name, "pipeline.yaml")
            with open(config, "w") as f:
                f.write(cls.PIPELINE)
            command = ("--config", config) + command
        for name in cls.USERS:
            users_add(cls.data_dir, name, ROLES[name], PASSWORDS[name], config)
        cls.server = dataforge_server.CqlServe(data_dir=cls.data_dir, args=cls.SERVER_ARGS,
                                               env=cls.SERVER_ENV, command=command)
        cls.addClassCleanup(cls.server.cleanup)
        cls.server.start()
        cls.port = cls.server.port
        cls.sessions = {}

    @classmethod
    def tearDownClass(cls):
        for cluster, _ in cls.sessions.values():
            cluster.shutdown()
        stop_cleanly(cls(), cls.server)

    def session(self, user):
        """A shared session as `user` (one connection per user and class)."""
        if user not in self.sessions:
            self.sessions[user] = connect(self.port, user, PASSWORDS[user])
        return self.sessions[user][1]

    def assert_refused_connect(self, user, password, text):
        with self.assertRaises(NoHostAvailable) as e:
            cluster, _ = connect(self.port, user, password)
            cluster.shutdown()
        errors = list(e.exception.errors.values())
        self.assertEqual(len(errors), 1, errors)
        self.assertIn(text, str(errors[0]))
        return errors[0]


class UsersAndRolesTest(DataDirServer):
    USERS = ("ada", "rita", "otto")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        admin = cls.session(cls, "ada")
        admin.execute("CREATE KEYSPACE shop WITH replication = {'class': 'SimpleStrategy', "
                      "'replication_factor': 1}")
        admin.execute("CREATE TABLE shop.items (id text PRIMARY KEY, qty int)")
        admin.execute("INSERT INTO shop.items (id, qty) VALUES ('a', 1)")

    def test_ready_line_says_auth_on(self):
        self.assertEqual(self.server.ready.group("auth"), "on")

    def test_wrong_password_is_refused(self):
        err = self.assert_refused_connect(
            "rita", "not-her-password",
            'code=0100 [Bad credentials] message="Provided username rita and/or password are '
            'incorrect"')
        self.assertIsInstance(err, AuthenticationFailed)
        self.assert_refused_connect(
            "nobody", "pw-reader-1",
            'message="Provided username nobody and/or password are incorrect"')

    def test_no_credentials_are_refused(self):
        with self.assertRaises(NoHostAvailable) as e:
            cluster, _ = connect(self.port)
            cluster.shutdown()
        self.assertIn("Remote end requires authentication", str(e.exception))

    def test_reader_selects_but_cannot_insert(self):
        reader = self.session("rita")
        self.assertEqual(reader.execute("SELECT qty FROM shop.items WHERE id = 'a'").one().qty, 1)
        with self.assertRaises(Unauthorized) as e:
            reader.execute("INSERT INTO shop.items (id, qty) VALUES ('r', 2)")
        self.assertIn('code=2100 [Unauthorized] message="User rita has no MODIFY permission on '
                      '<table shop.items> or any of its parents"', str(e.exception))
        prepared = reader.prepare("UPDATE shop.items SET qty = ? WHERE id = ?")
        with self.assertRaises(Unauthorized) as e:
            reader.execute(prepared, (5, "a"))
        self.assertIn('message="User rita has no MODIFY permission on <table shop.items>',
                      str(e.exception))
        with self.assertRaises(Unauthorized) as e:
            reader.execute("CREATE TABLE shop.mine (id text PRIMARY KEY)")
        self.assertIn('message="User rita has no CREATE permission on <table shop.mine> or any of '
                      'its parents"', str(e.exception))
        # Nothing was written.
        admin = self.session("ada")
        rows = sorted((r.id, r.qty) for r in admin.execute("SELECT id, qty FROM shop.items"))
        self.assertNotIn(("r", 2), rows)
        self.assertIn(("a", 1), rows)

    def test_operator_reads_but_cannot_write_tables(self):
        operator = self.session("otto")
        self.assertEqual(
            operator.execute("SELECT qty FROM shop.items WHERE id = 'a'").one().qty, 1)
        with self.assertRaises(Unauthorized) as e:
            operator.execute("DELETE FROM shop.items WHERE id = 'a'")
        self.assertIn('message="User otto has no MODIFY permission on <table shop.items> or any '
                      'of its parents"', str(e.exception))
        batch = BatchStatement()
        batch.add(operator.prepare("INSERT INTO shop.items (id, qty) VALUES (?, ?)"), ("b1", 1))
        batch.add("INSERT INTO shop.items (id, qty) VALUES ('b2', 2)")
        with self.assertRaises(Unauthorized) as e:
            operator.execute(batch)
        self.assertIn('message="User otto has no MODIFY permission on <table shop.items>',
                      str(e.exception))
        ids = {r.id for r in self.session("ada").execute("SELECT id FROM shop.items")}
        self.assertFalse({"b1", "b2"} & ids, ids)

    def test_admin_writes_and_the_audit_log_says_who(self):
        admin = self.session("ada")
        admin.execute("INSERT INTO shop.items (id, qty) VALUES ('w', 7)")
        self.assertEqual(admin.execute("SELECT qty FROM shop.items WHERE id = 'w'").one().qty, 7)
        reader = self.session("rita")
        with self.assertRaises(Unauthorized):
            reader.execute("INSERT INTO shop.items (id, qty) VALUES ('w', 8)")
        with open(os.path.join(self.data_dir, "audit.log")) as f:
            lines = [json.loads(line) for line in f]
        mine = [(e["who"], e["role"], e["from"], e["action"], str(e["result"])) for e in lines
                if e["action"] == "CQL INSERT INTO shop.items"]
        self.assertIn(("ada", "admin", "127.0.0.1", "CQL INSERT INTO shop.items", "ok"), mine)
        self.assertIn(("rita", "reader", "127.0.0.1", "CQL INSERT INTO shop.items",
                       "Unauthorized"), mine)
        with open(os.path.join(self.data_dir, "audit.log")) as f:
            self.assertNotIn("pw-", f.read())

    def test_removed_user_loses_access_on_open_connections(self):
        users_add(self.data_dir, "tmp", "reader", "pw-tmp-1")
        cluster, session = connect(self.port, "tmp", "pw-tmp-1")
        self.addCleanup(cluster.shutdown)
        self.assertEqual(session.execute("SELECT qty FROM shop.items WHERE id = 'a'").one().qty, 1)
        users_remove(self.data_dir, "tmp")

        def refused():
            try:
                session.execute("SELECT qty FROM shop.items WHERE id = 'a'")
                return False
            except Unauthorized as e:
                self.assertIn("User tmp has no SELECT permission on <table shop.items>", str(e))
                return True
        self.assertTrue(wait_until(refused))
        self.assert_refused_connect("tmp", "pw-tmp-1", "Provided username tmp and/or password")


class AuthOffTest(DataDirServer):
    """No user: authentication is off, as before; the first user turns it on."""

    def test_no_users_no_credentials_needed_then_a_user_turns_auth_on(self):
        self.assertEqual(self.server.ready.group("auth"), "off")
        cluster, session = connect(self.port)
        self.addCleanup(cluster.shutdown)
        session.execute("CREATE KEYSPACE k WITH replication = {'class': 'SimpleStrategy', "
                        "'replication_factor': 1}")
        session.execute("CREATE TABLE k.t (id text PRIMARY KEY, v int)")
        session.execute("INSERT INTO k.t (id, v) VALUES ('x', 1)")
        self.assertEqual(session.execute("SELECT v FROM k.t WHERE id = 'x'").one().v, 1)

        users_add(self.data_dir, "rita", "reader", PASSWORDS["rita"])

        def closed():
            try:
                c, _ = connect(self.port)
                c.shutdown()
                return False
            except NoHostAvailable as e:
                # While the change arrives, the control connection may still get in and the
                # pool's connection not: "Unable to connect to any servers"; try again.
                return "Remote end requires authentication" in str(e)
        self.assertTrue(wait_until(closed))
        # The connection opened while auth was off may do nothing more.
        with self.assertRaises(Unauthorized) as e:
            session.execute("SELECT v FROM k.t WHERE id = 'x'")
        self.assertIn('message="authentication was turned on after this connection was opened',
                      str(e.exception))
        cluster2, reader = connect(self.port, "rita", PASSWORDS["rita"])
        self.addCleanup(cluster2.shutdown)
        self.assertEqual(reader.execute("SELECT v FROM k.t WHERE id = 'x'").one().v, 1)
        with self.assertRaises(Unauthorized):
            reader.execute("INSERT INTO k.t (id, v) VALUES ('y', 2)")


class PipelineFileRoleTest(DataDirServer):
    """A role from the pipeline file's auth.roles: tables "shop.*" read and write."""
    USERS = ("ada", "lou")
    PIPELINE = LOADER_PIPELINE

    def test_grants_map_onto_select_modify_create(self):
        admin = self.session("ada")
        for ks in ("shop", "other"):
            admin.execute("CREATE KEYSPACE %s WITH replication = {'class': 'SimpleStrategy', "
                          "'replication_factor': 1}" % ks)
        admin.execute("CREATE TABLE other.t (id text PRIMARY KEY, v int)")
        loader = self.session("lou")
        loader.execute("CREATE TABLE shop.loaded (id text PRIMARY KEY, v int)")
        loader.execute("INSERT INTO shop.loaded (id, v) VALUES ('x', 1)")
        self.assertEqual(loader.execute("SELECT v FROM shop.loaded WHERE id = 'x'").one().v, 1)
        with self.assertRaises(Unauthorized) as e:
            loader.execute("SELECT * FROM other.t")
        self.assertIn('message="User lou has no SELECT permission on <table other.t> or any of '
                      'its parents"', str(e.exception))
        with self.assertRaises(Unauthorized) as e:
            loader.execute("INSERT INTO other.t (id, v) VALUES ('y', 2)")
        self.assertIn("User lou has no MODIFY permission on <table other.t>", str(e.exception))
        with self.assertRaises(Unauthorized) as e:
            loader.execute("CREATE KEYSPACE mine WITH replication = {'class': 'SimpleStrategy', "
                           "'replication_factor': 1}")
        self.assertIn('message="User lou has no CREATE permission on <keyspace mine> or any of '
                      'its parents"', str(e.exception))


class RunCqlPortTest(unittest.TestCase):
    """`run --cql-port` serves the running pipeline's store to the same users."""

    def test_run_endpoint_needs_credentials(self):
        tmp = tempfile.TemporaryDirectory(prefix="df-cql-auth-run-")
        self.addCleanup(tmp.cleanup)
        data_dir = os.path.join(tmp.name, "data")
        users_add(data_dir, "ada", "admin", PASSWORDS["ada"])
        run = dataforge_server.CqlServe(
            data_dir=data_dir, command=("run", "--no-progress", "--no-scheduler", "--cql-port", "0"))
        self.addCleanup(run.cleanup)
        run.start()
        self.assertEqual(run.ready.group("auth"), "on")
        with self.assertRaises(NoHostAvailable) as e:
            cluster, _ = connect(run.port)
            cluster.shutdown()
        self.assertIn("Remote end requires authentication", str(e.exception))
        cluster, session = connect(run.port, "ada", PASSWORDS["ada"])
        self.addCleanup(cluster.shutdown)
        self.assertEqual(session.execute("SELECT key FROM system.local").one().key, "local")
        code, _ = run.stop()
        self.assertEqual(code, 0, run.stderr())


class StaticUserBesideStoredUsersTest(DataDirServer):
    """--username/--password add one admin user to the stored ones."""
    USERS = ("rita",)
    SERVER_ARGS = ("--username", "alice")
    SERVER_ENV = {"DATAFORGE_CQL_PASSWORD": "s3cret"}

    def test_both_log_in_with_their_roles(self):
        admin = self.session_for("alice", "s3cret")
        admin.execute("CREATE KEYSPACE k WITH replication = {'class': 'SimpleStrategy', "
                      "'replication_factor': 1}")
        admin.execute("CREATE TABLE k.t (id text PRIMARY KEY, v int)")
        admin.execute("INSERT INTO k.t (id, v) VALUES ('x', 1)")
        reader = self.session("rita")
        self.assertEqual(reader.execute("SELECT v FROM k.t WHERE id = 'x'").one().v, 1)
        with self.assertRaises(Unauthorized):
            reader.execute("INSERT INTO k.t (id, v) VALUES ('y', 2)")
        self.assert_refused_connect("alice", "wrong", "Provided username alice and/or password")

    def session_for(self, user, password):
        cluster, session = connect(self.port, user, password)
        self.addCleanup(cluster.shutdown)
        return session


class FailedLoginLimitTest(DataDirServer):
    """auth.max_failed_logins_per_minute per client address: over it, even the right password is
    refused, with the limiter's message. The limit is 1 here, so the refusal lasts a minute
    after the failure, whatever the machine's speed."""
    USERS = ("rita",)
    PIPELINE = "auth:\n  max_failed_logins_per_minute: 1\n"

    def test_limit_then_refused_with_the_retry_message(self):
        self.assert_refused_connect("rita", "wrong", "Provided username rita and/or password")
        err = self.assert_refused_connect(
            "rita", PASSWORDS["rita"],
            'code=0100 [Bad credentials] message="too many failed logins from 127.0.0.1; retry in')
        self.assertIsInstance(err, AuthenticationFailed)


if __name__ == "__main__":
    unittest.main()
