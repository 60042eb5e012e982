"""End-to-end tests of `dataforge cql-serve` with an independent client: the DataStax Python
driver (python3-cassandra), plus raw sockets for malformed frames.

    python3 tests/python/cql_endpoint_test.py /path/to/dataforge [unittest args]
"""
import datetime
import logging
import os
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
    os.environ["DATAFORGE_BIN"] = os.path.abspath(sys.argv.pop(1))

import cql_frames as cf  # noqa: E402
import dataforge_server  # noqa: E402
from cql_test_base import ServerTestCase, make_cluster, stop_cleanly  # noqa: E402
# More test classes, run by unittest.main() below with these.
from cql_write_checks import ReadOnlyRecheckTest, WriteChecksTest  # noqa: E402,F401
from cassandra import AuthenticationFailed, InvalidRequest  # noqa: E402
from cassandra.auth import PlainTextAuthProvider  # noqa: E402
from cassandra.cluster import NoHostAvailable  # noqa: E402
from cassandra.concurrent import execute_concurrent_with_args  # noqa: E402
from cassandra.protocol import SyntaxException  # noqa: E402
from cassandra.query import BatchStatement, SimpleStatement  # noqa: E402

dataforge_server.BINARY = os.environ.get("DATAFORGE_BIN", dataforge_server.BINARY)
# The driver logs its protocol downgrades (v5 -> v4) as warnings: expected here.
logging.getLogger("cassandra").setLevel(logging.ERROR)


class DriverTest(ServerTestCase):
    """Schema, every type, prepared statements, paging, COUNT, BATCH, USE, errors."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cluster = make_cluster(cls.port)  # default protocol negotiation
        cls.addClassCleanup(cls.cluster.shutdown)
        cls.session = cls.cluster.connect()
        cls.session.default_timeout = 60
        cls.session.execute("CREATE KEYSPACE IF NOT EXISTS shop WITH replication = "
                            "{'class': 'SimpleStrategy', 'replication_factor': 1}")
        cls.session.execute(
            "CREATE TABLE IF NOT EXISTS shop.items (id text PRIMARY KEY, uid uuid, qty int, "
            "big bigint, price double, active boolean, created timestamp, note text)")

    def test_ready_line_names_the_store_and_modes(self):
        r = self.server.ready
        self.assertEqual(r.group("host"), "127.0.0.1")
        self.assertEqual(r.group("auth"), "off")
        self.assertEqual(r.group("tls"), "off")
        self.assertEqual(r.group("store"),
                         "rocksdb://" + os.path.join(os.path.abspath(self.server.data_dir),
                                                     "store"))

    def test_default_negotiation_settles_on_v4(self):
        self.assertEqual(self.cluster.protocol_version, 4)
        row = self.session.execute("SELECT cluster_name FROM system.local").one()
        self.assertEqual(row.cluster_name, "DataForge")

    def test_pinned_protocol_v4(self):
        cluster = make_cluster(self.port, protocol_version=4)
        try:
            session = cluster.connect()
            row = session.execute("SELECT key FROM system.local").one()
            self.assertEqual(row.key, "local")
        finally:
            cluster.shutdown()

    def test_metadata_shows_table_columns_and_types(self):
        self.cluster.refresh_schema_metadata()
        table = self.cluster.metadata.keyspaces["shop"].tables["items"]
        self.assertEqual([c.name for c in table.partition_key], ["id"])
        self.assertEqual(
            {name: c.cql_type for name, c in table.columns.items()},
            {"id": "text", "uid": "uuid", "qty": "int", "big": "bigint", "price": "double",
             "active": "boolean", "created": "timestamp", "note": "text"})

    def test_every_type_round_trips(self):
        uid = uuid.UUID("6f1c2a4e-9b7d-4c3e-8f2a-1d5b6c7e8f90")
        created = datetime.datetime(2024, 2, 29, 23, 59, 58, 123000)
        self.session.execute(
            "INSERT INTO shop.items (id, uid, qty, big, price, active, created, note) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            ("all-types", uid, -2147483648, 9223372036854775807, 2.5, True, created,
             "zoë ✓ \"quoted\""))
        self.session.execute(
            "INSERT INTO shop.items (id, qty, active, note) VALUES ('literals', 42, false, "
            "'it''s')")
        row = self.session.execute("SELECT * FROM shop.items WHERE id = 'all-types'").one()
        self.assertEqual(row.id, "all-types")
        self.assertEqual(row.uid, uid)
        self.assertEqual(row.qty, -2147483648)
        self.assertEqual(row.big, 9223372036854775807)
        self.assertEqual(row.price, 2.5)
        self.assertIs(row.active, True)
        self.assertEqual(row.created, created)
        self.assertEqual(row.note, "zoë ✓ \"quoted\"")
        row = self.session.execute(
            "SELECT id, uid, qty, big, active, note FROM shop.items WHERE id = 'literals'").one()
        self.assertEqual(tuple(row), ("literals", None, 42, None, False, "it's"))

    def test_prepared_insert_and_select(self):
        insert = self.session.prepare(
            "INSERT INTO shop.items (id, qty, price, created) VALUES (?, ?, ?, ?)")
        select = self.session.prepare("SELECT qty, price, created FROM shop.items WHERE id = ?")
        created = datetime.datetime(1969, 7, 20, 20, 17, 40)
        for i in range(3):
            self.session.execute(insert, ("prep-%d" % i, i * 10, i / 4, created))
        rows = [tuple(self.session.execute(select, ("prep-%d" % i,)).one()) for i in range(3)]
        self.assertEqual(rows, [(0, 0.0, created), (10, 0.25, created), (20, 0.5, created)])
        self.assertIsNone(self.session.execute(select, ("prep-missing",)).one())

    def test_paging_10000_rows_in_10_pages_and_count(self):
        self.session.execute("CREATE TABLE shop.many (k int PRIMARY KEY, v text)")
        insert = self.session.prepare("INSERT INTO shop.many (k, v) VALUES (?, ?)")
        results = execute_concurrent_with_args(
            self.session, insert, [(k, "v%d" % k) for k in range(10000)], concurrency=100)
        self.assertTrue(all(ok for ok, _ in results))
        result = self.session.execute(SimpleStatement("SELECT k, v FROM shop.many",
                                                      fetch_size=1000))
        seen, pages = [], 0
        while True:
            page = list(result.current_rows)
            pages += 1
            self.assertEqual(len(page), 1000, "page %d" % pages)
            seen.extend(row.k for row in page)
            self.assertTrue(all(row.v == "v%d" % row.k for row in page))
            if not result.has_more_pages:
                break
            result.fetch_next_page()
        self.assertEqual(pages, 10)
        self.assertEqual(sorted(seen), list(range(10000)))
        self.assertEqual(len(seen), len(set(seen)))
        count = self.session.execute("SELECT COUNT(*) FROM shop.many").one()
        self.assertEqual(count.count, 10000)

    def test_batch(self):
        batch = BatchStatement()
        insert = self.session.prepare("INSERT INTO shop.items (id, qty) VALUES (?, ?)")
        batch.add(insert, ("batch-1", 1))
        batch.add(insert, ("batch-2", 2))
        batch.add(SimpleStatement("INSERT INTO shop.items (id, qty) VALUES ('batch-3', 3)"))
        self.session.execute(batch)
        rows = self.session.execute(
            "SELECT id, qty FROM shop.items WHERE id IN ('batch-1', 'batch-2', 'batch-3')")
        self.assertEqual(sorted(tuple(r) for r in rows),
                         [("batch-1", 1), ("batch-2", 2), ("batch-3", 3)])

    def test_use_keyspace(self):
        cluster = make_cluster(self.port, protocol_version=4)
        try:
            session = cluster.connect("shop")
            session.execute("INSERT INTO items (id, qty) VALUES ('use-1', 7)")
            self.assertEqual(session.execute("SELECT qty FROM items WHERE id = 'use-1'").one().qty,
                             7)
            session.execute("USE system")
            self.assertEqual(session.execute("SELECT key FROM local").one().key, "local")
        finally:
            cluster.shutdown()

    def test_unsupported_statements_are_errors(self):
        with self.assertRaises(InvalidRequest) as e:
            self.session.execute("DROP TABLE shop.items")
        self.assertIn("DROP TABLE is not supported by the DataForge CQL endpoint", str(e.exception))
        with self.assertRaises(InvalidRequest) as e:
            self.session.execute("INSERT INTO shop.items (id, qty) VALUES ('ttl', 1) USING TTL 60")
        self.assertIn("USING TTL is not supported by the DataForge CQL endpoint", str(e.exception))
        with self.assertRaises(SyntaxException):
            self.session.execute("SELEKT * FROM shop.items")
        with self.assertRaises(InvalidRequest) as e:
            self.session.execute("SELECT * FROM shop.nope WHERE id = 'x'")
        self.assertIn("nope", str(e.exception))


class AuthTest(ServerTestCase):
    SERVER_ARGS = ("--username", "alice")
    SERVER_ENV = {"DATAFORGE_CQL_PASSWORD": "s3cret"}

    def test_ready_line_says_auth_on(self):
        self.assertEqual(self.server.ready.group("auth"), "on")

    def test_good_password(self):
        cluster = make_cluster(self.port, auth_provider=PlainTextAuthProvider("alice", "s3cret"))
        try:
            row = cluster.connect().execute("SELECT key FROM system.local").one()
            self.assertEqual(row.key, "local")
        finally:
            cluster.shutdown()

    def test_bad_password_gets_the_servers_text(self):
        cluster = make_cluster(self.port, protocol_version=4,
                               auth_provider=PlainTextAuthProvider("alice", "wrong"))
        try:
            with self.assertRaises(NoHostAvailable) as e:
                cluster.connect()
            errors = list(e.exception.errors.values())
            self.assertEqual(len(errors), 1)
            self.assertIsInstance(errors[0], AuthenticationFailed)
            self.assertIn('code=0100 [Bad credentials] message="Provided username alice and/or '
                          'password are incorrect"', str(errors[0]))
        finally:
            cluster.shutdown()

    def test_no_credentials(self):
        cluster = make_cluster(self.port, protocol_version=4)
        try:
            with self.assertRaises(NoHostAvailable) as e:
                cluster.connect()
            self.assertIn("Remote end requires authentication", str(e.exception))
        finally:
            cluster.shutdown()

    def test_query_before_authentication(self):
        c = cf.Conn(self.port)
        try:
            c.send(cf.startup(stream=1))
            self.assertEqual(c.read_frame()[3], 0x03)  # AUTHENTICATE
            c.send(cf.query("SELECT key FROM system.local", stream=2))
            version, _, stream, opcode, body = c.read_frame()
            self.assertEqual((version, stream, opcode), (0x84, 2, cf.OP_ERROR))
            self.assertEqual(parse(body), (
                0x000A, "QUERY on stream 2 before the connection is ready: send STARTUP and "
                "authenticate (AUTH_RESPONSE with a username and password) first"))
        finally:
            c.close()


def parse(body):
    return cf.parse_error(body)


class MalformedFramesTest(ServerTestCase):
    """Each malformed input gets an ERROR (and a close when the stream cannot resync); the
    server keeps serving."""
    SERVER_ARGS = ("--max-frame-bytes", "65536")

    def expect_error(self, conn, stream, code, message):
        frame = conn.read_frame()
        self.assertIsNotNone(frame, "connection closed without an ERROR")
        version, flags, got_stream, opcode, body = frame
        self.assertEqual((version, flags, got_stream, opcode), (0x84, 0, stream, cf.OP_ERROR))
        self.assertEqual(parse(body), (code, message))

    def expect_still_open(self, conn, stream):
        conn.send(cf.frame(cf.OP_OPTIONS, stream=stream))
        version, _, got_stream, opcode, body = conn.read_frame()
        self.assertEqual((version, got_stream, opcode), (0x84, stream, cf.OP_SUPPORTED))
        self.assertEqual(cf.parse_string_multimap(body),
                         {"CQL_VERSION": ["3.4.5"], "COMPRESSION": [],
                          "PROTOCOL_VERSIONS": ["4/v4"]})

    def connect(self):
        c = cf.Conn(self.port)
        self.addCleanup(c.close)
        return c

    def test_garbage_header_closes(self):
        c = self.connect()
        c.send(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        # Bytes 2-3 ("T ") are where a v4 header keeps the stream id.
        self.expect_error(c, 0x5420, 0x000A,
                          "Invalid or unsupported protocol version (71); supported versions are "
                          "(4/v4)")
        self.assertTrue(c.at_eof())

    def test_protocol_v5_and_v3_are_refused(self):
        for version in (5, 3):
            c = self.connect()
            c.send(cf.frame(cf.OP_OPTIONS, stream=3, version=version))
            self.expect_error(c, 3, 0x000A,
                              "Invalid or unsupported protocol version (%d); supported versions "
                              "are (4/v4)" % version)
            self.assertTrue(c.at_eof())

    def test_unknown_opcode_keeps_the_connection(self):
        c = self.connect()
        c.send(cf.frame(0x42, b"abc", stream=7))
        self.expect_error(c, 7, 0x000A, "unknown opcode 0x42 on stream 7 (a 3-byte body was "
                                        "skipped)")
        c.send(cf.frame(cf.OP_RESULT, b"", stream=8))
        self.expect_error(c, 8, 0x000A, "RESULT (opcode 0x08) on stream 8 is a response, not a "
                                        "request")
        self.expect_still_open(c, 9)

    def test_body_that_does_not_decode_keeps_the_connection(self):
        c = self.connect()
        c.send(cf.startup(stream=1))
        self.assertEqual(c.read_frame()[3], cf.OP_READY)
        # A QUERY whose [long string] announces 100 bytes in a 9-byte body.
        c.send(cf.frame(cf.OP_QUERY, b"\x00\x00\x00\x64abcde", stream=2))
        frame = c.read_frame()
        self.assertEqual(frame[2:4], (2, cf.OP_ERROR))
        code, message = parse(frame[4])
        self.assertEqual(code, 0x000A)
        self.assertTrue(message.startswith("QUERY body: "), message)
        self.expect_still_open(c, 3)

    def test_truncated_frame_then_close_is_a_clean_end(self):
        c = self.connect()
        c.send(cf.frame(cf.OP_OPTIONS, b"0123456789", stream=4, length=100))
        c.shutdown_write()
        self.assertTrue(c.at_eof())

    def test_huge_length_closes(self):
        for length in (0x7fffffff, 65537):
            c = self.connect()
            c.send(cf.frame(cf.OP_QUERY, b"", stream=5, length=length))
            self.expect_error(c, 5, 0x000A,
                              "frame on stream 5 (QUERY) announces a body of %d bytes, above the "
                              "limit of 65536 bytes (cql-serve --max-frame-bytes); closing the "
                              "connection" % length)
            self.assertTrue(c.at_eof())

    def test_compression_flag_and_option(self):
        c = self.connect()
        c.send(cf.frame(cf.OP_OPTIONS, stream=6, flags=0x01))
        self.expect_error(c, 6, 0x000A,
                          "OPTIONS frame on stream 6 has the compression flag (0x01) but "
                          "compression is not supported: send STARTUP without COMPRESSION")
        c.send(cf.startup(stream=7, options={"CQL_VERSION": "3.0.0", "COMPRESSION": "lz4"}))
        self.expect_error(c, 7, 0x000A, "STARTUP asks for COMPRESSION lz4: compression is not "
                                        "supported (connect without compression)")
        self.expect_still_open(c, 8)

    def test_startup_rules(self):
        c = self.connect()
        c.send(cf.startup(stream=1, options={"DRIVER_NAME": "raw"}))
        self.expect_error(c, 1, 0x000A,
                          "STARTUP without CQL_VERSION: the options must name it (e.g. 3.4.5)")
        c.send(cf.query("SELECT key FROM system.local", stream=2))
        self.expect_error(c, 2, 0x000A,
                          "QUERY on stream 2 before the connection is ready: send STARTUP first")
        c.send(cf.startup(stream=3))
        self.assertEqual(c.read_frame()[2:4], (3, cf.OP_READY))
        c.send(cf.query("SELECT key FROM system.local", stream=4))
        self.assertEqual(c.read_frame()[2:4], (4, cf.OP_RESULT))

    def test_driver_still_served_after_malformed_input(self):
        for data in (b"\xff" * 64, cf.frame(0x42, b"x" * 10, stream=1),
                     cf.frame(cf.OP_QUERY, b"", length=0x7fffffff)):
            c = cf.Conn(self.port)
            c.send(data)
            self.assertIsNotNone(c.read_frame())
            c.close()
        cluster = make_cluster(self.port)
        try:
            row = cluster.connect().execute("SELECT key FROM system.local").one()
            self.assertEqual(row.key, "local")
        finally:
            cluster.shutdown()


class TlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="df-cql-tls-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.cert = os.path.join(cls.tmp.name, "cert.pem")
        key = os.path.join(cls.tmp.name, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cls.cert],
                       check=True, capture_output=True)
        cls.server = dataforge_server.CqlServe(args=("--tls-cert", cls.cert, "--tls-key", key))
        cls.addClassCleanup(cls.server.cleanup)
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        stop_cleanly(cls(), cls.server)

    def test_driver_over_tls(self):
        self.assertEqual(self.server.ready.group("tls"), "on")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(self.cert)
        cluster = make_cluster(self.server.port, ssl_context=context)
        try:
            session = cluster.connect()
            self.assertEqual(cluster.protocol_version, 4)
            session.execute("CREATE KEYSPACE tls_ks WITH replication = "
                            "{'class': 'SimpleStrategy', 'replication_factor': 1}")
            session.execute("CREATE TABLE tls_ks.t (k text PRIMARY KEY, v int)")
            session.execute("INSERT INTO tls_ks.t (k, v) VALUES ('a', 1)")
            self.assertEqual(session.execute("SELECT v FROM tls_ks.t WHERE k = 'a'").one().v, 1)
        finally:
            cluster.shutdown()

    def test_plaintext_client_is_refused(self):
        cluster = make_cluster(self.server.port, protocol_version=4, connect_timeout=5)
        try:
            with self.assertRaises(NoHostAvailable):
                cluster.connect()
        finally:
            cluster.shutdown()


class CommandTest(unittest.TestCase):
    """The command itself: flags, read-only serving beside another process, stop summary."""

    def test_bad_flags_exit_2_with_one_line(self):
        with tempfile.TemporaryDirectory() as d:
            code, out, err = dataforge_server.run_cli(
                ["--data-dir", d, "cql-serve", "--username", "alice"],
                env={"DATAFORGE_CQL_PASSWORD": ""})
            self.assertEqual(code, 2)
            self.assertEqual(err, "dataforge: --username alice needs a password: give --password "
                                  "or set DATAFORGE_CQL_PASSWORD\n")
            code, out, err = dataforge_server.run_cli(
                ["--data-dir", d, "cql-serve", "--port", "70000"])
            self.assertEqual(code, 2)
            self.assertIn("--port", err)

    def test_help(self):
        code, out, _ = dataforge_server.run_cli(["cql-serve", "--help"])
        self.assertEqual(code, 0)
        self.assertIn("CQL native protocol v4", out)
        self.assertIn("once it has exited, the next write takes the data dir and the store is "
                      "served read-write", " ".join(out.split()))
        self.assertIn("--max-frame-bytes", out)

    def test_second_server_on_a_held_data_dir_is_read_only(self):
        first = dataforge_server.CqlServe()
        self.addCleanup(first.cleanup)
        first.start()
        cluster = make_cluster(first.port, protocol_version=4)
        self.addCleanup(cluster.shutdown)
        s = cluster.connect()
        s.execute("CREATE KEYSPACE ro WITH replication = "
                  "{'class': 'SimpleStrategy', 'replication_factor': 1}")
        s.execute("CREATE TABLE ro.t (k text PRIMARY KEY, v int)")
        s.execute("INSERT INTO ro.t (k, v) VALUES ('before', 1)")

        second = dataforge_server.CqlServe(data_dir=first.data_dir)
        self.addCleanup(second.cleanup)
        second.start()
        pid = first.proc.pid
        self.assertTrue(second.ready.group("store").endswith(
            " read-only, pid %d holds the data dir" % pid), second.ready.group("store"))
        s.execute("INSERT INTO ro.t (k, v) VALUES ('after', 2)")
        cluster2 = make_cluster(second.port, protocol_version=4)
        self.addCleanup(cluster2.shutdown)
        s2 = cluster2.connect()
        rows = s2.execute("SELECT k, v FROM ro.t WHERE k IN ('before', 'after')")
        self.assertEqual(sorted(tuple(r) for r in rows), [("after", 2), ("before", 1)])
        with self.assertRaises(InvalidRequest) as e:
            s2.execute("INSERT INTO ro.t (k, v) VALUES ('x', 3)")
        self.assertIn("the store is read-only: the data dir is used by dataforge pid %d; stop it "
                      "or use `dataforge run --cql-port`" % pid, str(e.exception))

        stop_cleanly(self, second)
        code, out = first.stop()
        self.assertEqual(code, 0)
        m = dataforge_server.SUMMARY.match(out.strip().splitlines()[-1])
        self.assertIsNotNone(m, out)
        self.assertGreaterEqual(int(m.group("connections")), 1)
        self.assertGreater(int(m.group("requests")), 0)

    def test_run_serves_the_running_pipelines_store(self):
        run = dataforge_server.CqlServe(
            command=("run", "--no-progress", "--no-scheduler", "--cql-port", "0"))
        self.addCleanup(run.cleanup)
        run.start()
        cluster = make_cluster(run.port, protocol_version=4)
        self.addCleanup(cluster.shutdown)
        session = cluster.connect()
        # The pipeline stores users from the built-in API while we read: poll, with a bound.
        count = 0
        deadline = time.monotonic() + 60
        while count == 0 and time.monotonic() < deadline:
            try:
                count = session.execute(
                    "SELECT COUNT(*) FROM dataforge.created_users").one().count
            except InvalidRequest:  # the processor has not created its table yet
                pass
            if count == 0:
                time.sleep(0.1)
        self.assertGreater(count, 0)
        row = session.execute("SELECT id, email FROM dataforge.created_users LIMIT 1").one()
        self.assertIsInstance(row.id, uuid.UUID)
        self.assertIn("@", row.email)
        code, out = run.stop()
        self.assertEqual(code, 0, run.stderr())
        self.assertRegex(out, r"\n  cql-serve: \d+ connections, \d+ requests, \d+ errors\n")


if __name__ == "__main__":
    unittest.main()
