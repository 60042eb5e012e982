"""What `dataforge cql-serve` refuses before anything is stored, through the DataStax Python
driver (python3-cassandra) and raw frames: bound values that fail the literal path's check,
USING TIMESTAMP / TTL, WITH default_time_to_live, types with no stored form, unsupported
statement forms; sets and maps stored as Cassandra stores them; and a read-only endpoint that
re-checks who holds the data dir. After every refused write the whole table is scanned (SELECT *
page by page, prepared and not, and COUNT) to prove nothing was stored and the table reads.

Run by cql_endpoint_test.py (ctest -R cql_endpoint_python), which imports these classes.
"""
import datetime
import decimal
import struct
import unittest
import uuid

import cql_frames as cf
import dataforge_server
from cassandra import InvalidRequest
from cassandra.query import BatchStatement, SimpleStatement
from cql_test_base import ServerTestCase, make_cluster, stop_cleanly

ENDPOINT = "is not supported by the DataForge CQL endpoint"
V4 = uuid.UUID("6f1c2a4e-9b7d-4c3e-8f2a-1d5b6c7e8f90")  # a random (version 4) uuid
V1 = uuid.UUID("8d7e5c30-0d8a-11ef-9d0b-0242ac120002")  # a time-based (version 1) uuid
COLUMNS = ("k", "a", "x", "tu", "i", "b", "d", "f", "u", "ts", "s", "m")


def int32(v):
    return struct.pack(">i", v)


def collection(elements):
    """A v4 collection value: [int] n, then each element as [bytes] (None = null)."""
    out = int32(len(elements) // 2 if isinstance(elements, MapItems) else len(elements))
    for e in elements:
        out += int32(-1) if e is None else int32(len(e)) + e
    return out


class MapItems(list):
    """Map entries flattened (key, value, key, value, ...) for collection()."""


def bound_raw(prepared, raw_values):
    """A BoundStatement carrying `raw_values` as the bytes sent, as a driver with its own
    serializers (or none) would send them."""
    bound = prepared.bind([None] * len(raw_values))
    bound.values = list(raw_values)
    return bound


class WriteChecksTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cluster = make_cluster(cls.port, protocol_version=4)
        cls.addClassCleanup(cls.cluster.shutdown)
        cls.session = cls.cluster.connect()
        cls.session.default_timeout = 60
        cls.session.execute("CREATE KEYSPACE chk WITH replication = "
                            "{'class': 'SimpleStrategy', 'replication_factor': 1}")
        cls.session.execute(
            "CREATE TABLE chk.t (k int PRIMARY KEY, a ascii, x text, tu timeuuid, i int, "
            "b bigint, d double, f boolean, u uuid, ts timestamp, s set<int>, "
            "m map<text, int>)")
        cls.insert = cls.session.prepare(
            "INSERT INTO chk.t (%s) VALUES (%s)" % (", ".join(COLUMNS),
                                                    ", ".join("?" * len(COLUMNS))))
        cls.expected = {}
        for k in range(25):
            row = (k, "a%d" % k, "zoë %d ✓" % k, V1, k * 10, k * 1000, k / 4, k % 2 == 0, V4,
                   datetime.datetime(2024, 5, 1, 12, 0, k), {k, k + 1}, {"n": k})
            cls.session.execute(cls.insert, row)
            cls.expected[k] = row
        cls.select_all = cls.session.prepare("SELECT * FROM chk.t")

    def rows_of(self, result):
        """Every row of a paged result as tuples in COLUMNS order, with the page count."""
        rows, pages = [], 0
        while True:
            pages += 1
            for r in result.current_rows:
                rows.append(tuple(
                    (set(v) if isinstance(v, (set, frozenset)) or type(v).__name__ == "SortedSet"
                     else dict(v) if v is not None and hasattr(v, "items") else v)
                    for v in (getattr(r, c) for c in COLUMNS)))
            if not result.has_more_pages:
                return rows, pages
            result.fetch_next_page()

    def assert_table_intact(self):
        """SELECT * page by page (7 rows a page), as a simple and a prepared statement, and
        COUNT(*): exactly the rows written successfully, each with its values."""
        want = sorted(self.expected.values())
        for statement in (SimpleStatement("SELECT * FROM chk.t", fetch_size=7),
                          self.select_all.bind(())):
            statement.fetch_size = 7
            rows, pages = self.rows_of(self.session.execute(statement))
            self.assertEqual(sorted(rows), want)
            self.assertEqual(pages, (len(want) + 6) // 7)
        self.assertEqual(self.session.execute("SELECT COUNT(*) FROM chk.t").one().count, len(want))

    def assert_refused(self, statement, message, params=None):
        with self.assertRaises(InvalidRequest) as e:
            self.session.execute(statement, params)
        self.assertIn(message, str(e.exception))
        self.assert_table_intact()

    def test_prepared_insert_refuses_each_bad_bound_value(self):
        good = [int32(100), b"a", b"x", V1.bytes, int32(1), struct.pack(">q", 1),
                struct.pack(">d", 1.5), b"\x01", V4.bytes, struct.pack(">q", 0), None, None]
        cases = [
            (1, "café".encode(), "Invalid value for column a of type ascii (bind marker 1): CQL "
                                 "ascii value: non-ASCII byte 0xc3 at offset 3"),
            (2, b"ok\xff\xfe", "Invalid value for column x of type text (bind marker 2): CQL text "
                               "value: invalid UTF-8 at byte 2 (0xff)"),
            (3, V4.bytes, "Invalid value for column tu of type timeuuid (bind marker 3): CQL "
                          "timeuuid value: a version 4 UUID; timeuuid needs version 1 "
                          "(time-based)"),
            (4, b"\x00\x01", "Invalid value for column i of type int (bind marker 4): CQL int "
                             "value: expected 4 bytes, got 2"),
            (5, int32(7), "Invalid value for column b of type bigint (bind marker 5): CQL bigint "
                          "value: expected 8 bytes, got 4"),
            (6, int32(7), "Invalid value for column d of type double (bind marker 6): CQL double "
                          "value: expected 8 bytes, got 4"),
            (7, b"\x00\x01", "Invalid value for column f of type boolean (bind marker 7): CQL "
                             "boolean value: expected 1 bytes, got 2"),
            (8, b"0123", "Invalid value for column u of type uuid (bind marker 8): CQL uuid "
                         "value: expected 16 bytes, got 4"),
            (9, int32(7), "Invalid value for column ts of type timestamp (bind marker 9): CQL "
                          "timestamp value: expected 8 bytes, got 4"),
            (10, collection([int32(1), b"\x00"]),
             "Invalid value for column s of type set<int> (bind marker 10): CQL set<int> value: "
             "element 1: CQL int value: expected 4 bytes, got 1"),
            (11, collection(MapItems([b"k", None])),
             "Invalid value for column m of type map<text, int> (bind marker 11): CQL map<text, "
             "int> value: value 0 is null (collections cannot hold nulls)"),
        ]
        for column, raw, message in cases:
            with self.subTest(column=COLUMNS[column]):
                values = list(good)
                values[column] = raw
                self.assert_refused(bound_raw(self.insert, values), message)

    def test_driver_serialized_values_are_checked_too(self):
        # What the driver sends for a random uuid in a timeuuid column, and for an int too big
        # for the 64-bit varints DataForge keeps.
        self.assert_refused(self.insert, "Invalid value for column tu of type timeuuid (bind "
                                         "marker 3): CQL timeuuid value: a version 4 UUID",
                            (101, None, None, uuid.uuid4(), None, None, None, None, None, None,
                             None, None))
        self.session.execute("CREATE TABLE chk.big (k int PRIMARY KEY, v varint)")
        insert = self.session.prepare("INSERT INTO chk.big (k, v) VALUES (?, ?)")
        self.session.execute(insert, (1, -2 ** 63))
        self.assert_refused(insert, "Invalid value for column v of type varint (bind marker 1): "
                                    "CQL varint value: 10 bytes; DataForge stores varints of 1 "
                                    "to 8 bytes (64-bit)", (2, 2 ** 72))
        self.assertEqual([tuple(r) for r in self.session.execute("SELECT * FROM chk.big")],
                         [(1, -2 ** 63)])

    def test_update_and_key_values_are_checked(self):
        update = self.session.prepare("UPDATE chk.t SET a = ? WHERE k = ?")
        self.assert_refused(bound_raw(update, [b"\x80", int32(3)]),
                            "Invalid value for column a of type ascii (bind marker 0): CQL ascii "
                            "value: non-ASCII byte 0x80 at offset 0")
        self.assert_refused(bound_raw(update, [b"fine", b"\x00\x03"]),
                            "Invalid value for column k of type int (bind marker 1): CQL int "
                            "value: expected 4 bytes, got 2")

    def test_batch_with_one_bad_value_stores_none_of_it(self):
        batch = BatchStatement()
        batch.add(self.insert, (102, "ok", None, None, None, None, None, None, None, None, None,
                                None))
        batch.add(bound_raw(self.insert, [int32(103), b"ok", b"\xc3\x28"] + [None] * 9))
        self.assert_refused(batch, "Invalid value for column x of type text (bind marker 2): CQL "
                                   "text value: invalid UTF-8 at byte 0 (0xc3)")
        self.assert_refused("BEGIN BATCH INSERT INTO chk.t (k) VALUES (104); "
                            "INSERT INTO chk.t (k, a) VALUES (105, 'é') APPLY BATCH",
                            "Invalid value 'é' for column a of type ascii: CQL ascii value: "
                            "non-ASCII byte 0xc3 at offset 0")

    def test_query_with_bound_values_is_checked(self):
        c = cf.Conn(self.port)
        self.addCleanup(c.close)
        c.send(cf.startup(stream=1))
        self.assertEqual(c.read_frame()[3], cf.OP_READY)
        c.send(cf.query("INSERT INTO chk.t (k, a) VALUES (?, ?)", stream=2,
                        values=[int32(106), "é".encode()]))
        _, _, stream, opcode, body = c.read_frame()
        self.assertEqual((stream, opcode), (2, cf.OP_ERROR))
        self.assertEqual(cf.parse_error(body),
                         (0x2200, "Invalid value for column a of type ascii (bind marker 1): CQL "
                                  "ascii value: non-ASCII byte 0xc3 at offset 0"))
        self.assert_table_intact()

    def test_literals_are_refused_by_the_same_check(self):
        self.assert_refused("INSERT INTO chk.t (k, a) VALUES (107, 'é')",
                            "Invalid value 'é' for column a of type ascii: CQL ascii value: "
                            "non-ASCII byte 0xc3 at offset 0")
        self.assert_refused("INSERT INTO chk.t (k, tu) VALUES (107, %s)" % V4,
                            "Invalid value %s for column tu of type timeuuid: CQL timeuuid value: "
                            "a version 4 UUID; timeuuid needs version 1 (time-based)" % V4)

    def test_sets_sort_without_duplicates_and_maps_keep_the_last_value(self):
        # The driver sends a list bound to a set column as it is: duplicates, out of order.
        nulls = (None,) * 9
        self.session.execute(self.insert, (200,) + nulls + ([5, -2, 5, 3], None))
        raw_map = collection(MapItems([b"z", int32(1), b"a", int32(2), b"z", int32(3)]))
        self.session.execute(bound_raw(self.insert, [int32(201)] + [None] * 10 + [raw_map]))
        self.session.execute("INSERT INTO chk.t (k, s, m) VALUES (202, {3, 1, 3}, "
                             "{'b': 1, 'a': 2, 'b': 3})")
        rows = {r.k: r for r in self.session.execute(
            "SELECT k, s, m FROM chk.t WHERE k IN (200, 201, 202)")}
        self.assertEqual(list(rows[200].s), [-2, 3, 5])
        self.assertEqual(list(rows[201].m.items()), [("a", 2), ("z", 3)])
        self.assertEqual(list(rows[202].s), [1, 3])
        self.assertEqual(list(rows[202].m.items()), [("a", 2), ("b", 3)])
        base = (None,) * 9
        self.expected[200] = (200,) + base + ({-2, 3, 5}, None)
        self.expected[201] = (201,) + base + (None, {"a": 2, "z": 3})
        self.expected[202] = (202,) + base + ({1, 3}, {"a": 2, "b": 3})
        self.assert_table_intact()

    def test_using_timestamp_and_ttl_are_refused(self):
        why = "(writes apply in the order they arrive; the last one wins)"
        self.assert_refused("INSERT INTO chk.t (k, a) VALUES (3, 'new') USING TIMESTAMP 1",
                            "USING TIMESTAMP %s: remove it from the INSERT on chk.t %s" %
                            (ENDPOINT, why))
        with self.assertRaises(InvalidRequest) as e:  # refused at PREPARE already
            self.session.prepare("UPDATE chk.t USING TIMESTAMP ? SET a = ? WHERE k = ?")
        self.assertIn("USING TIMESTAMP %s: remove it from the UPDATE on chk.t %s" %
                      (ENDPOINT, why), str(e.exception))
        self.assert_refused("DELETE FROM chk.t USING TIMESTAMP 1 WHERE k = 3",
                            "USING TIMESTAMP %s: remove it from the DELETE on chk.t" % ENDPOINT)
        self.assert_refused("BEGIN BATCH USING TIMESTAMP 1 DELETE FROM chk.t WHERE k = 3 "
                            "APPLY BATCH",
                            "USING TIMESTAMP %s: remove it from the BATCH %s" % (ENDPOINT, why))
        self.assert_refused("UPDATE chk.t USING TTL 60 SET a = 'new' WHERE k = 3",
                            "USING TTL %s: remove it from the UPDATE on chk.t (rows never "
                            "expire)" % ENDPOINT)

    def test_decimal_keeps_every_digit(self):
        """Issue 22: decimal columns are stored (int32 scale + varint) and read back exactly,
        bound by the driver's own serializer and as literals."""
        self.session.execute("CREATE TABLE chk.dec (k int PRIMARY KEY, v decimal, "
                             "l list<decimal>)")
        values = ["12345678901234567890.123456789", "-0.000000000000000000000000000001",
                  "1.50", "0", "-128", "1E+400"]
        insert = self.session.prepare("INSERT INTO chk.dec (k, v) VALUES (?, ?)")
        for k, text in enumerate(values):
            self.session.execute(insert, (k, decimal.Decimal(text)))
        self.session.execute("INSERT INTO chk.dec (k, v, l) VALUES (100, "
                             "98765432109876543210.000000000001, [1.5, -2.25])")
        rows = {r.k: r for r in self.session.execute("SELECT k, v, l FROM chk.dec")}
        for k, text in enumerate(values):
            self.assertEqual(str(rows[k].v), str(decimal.Decimal(text)))
            self.assertEqual(rows[k].v.as_tuple(), decimal.Decimal(text).as_tuple())
        self.assertEqual(format(rows[100].v, "f"), "98765432109876543210.000000000001")
        self.assertEqual(rows[100].l, [decimal.Decimal("1.5"), decimal.Decimal("-2.25")])
        with self.assertRaises(InvalidRequest) as e:
            self.session.execute(bound_raw(insert, [int32(7), b"\x00\x00\x01"]))
        self.assertIn("CQL decimal value: expected at least 5 bytes (scale and unscaled value), "
                      "got 3", str(e.exception))

    def test_create_table_refusals(self):
        cases = [
            ("CREATE TABLE chk.ttl (k int PRIMARY KEY, v int) WITH default_time_to_live = 3600",
             "default_time_to_live %s: remove WITH default_time_to_live = 3600 from the CREATE "
             "TABLE chk.ttl (rows never expire)" % ENDPOINT),
            ("CREATE TABLE chk.cnt (k int PRIMARY KEY, v counter)",
             "column v counter in CREATE TABLE chk.cnt: CQL type counter %s (no counter "
             "updates); use bigint" % ENDPOINT),
            ("CREATE TABLE chk.tup (k int PRIMARY KEY, v frozen<tuple<int, text>>)",
             "column v frozen<tuple<int, text>> in CREATE TABLE chk.tup: CQL type tuple<int, "
             "text> has no stored form in DataForge"),
        ]
        for query, message in cases:
            with self.subTest(query=query):
                self.assert_refused(query, message)
                name = query.split()[2].split(".")[1]
                with self.assertRaises(InvalidRequest) as e:
                    self.session.execute("SELECT * FROM chk.%s" % name)
                self.assertIn("unconfigured table %s" % name, str(e.exception))
        self.session.execute("CREATE TABLE chk.ttl0 (k int PRIMARY KEY, v int) "
                             "WITH default_time_to_live = 0 AND comment = 'no expiry'")

    def test_unsupported_statement_forms_say_so(self):
        cases = [
            ("ALTER KEYSPACE chk WITH durable_writes = false", "ALTER KEYSPACE"),
            ("DROP TABLE chk.t", "DROP TABLE"),
            ("DROP KEYSPACE chk", "DROP KEYSPACE"),
            ("TRUNCATE chk.t", "TRUNCATE"),
            ("TRUNCATE TABLE chk.t", "TRUNCATE"),
            ("CREATE INDEX ON chk.t (a)", "CREATE INDEX"),
            ("CREATE TYPE chk.address (street text)", "CREATE TYPE"),
            ("CREATE FUNCTION chk.f (x int) RETURNS NULL ON NULL INPUT RETURNS int "
             "LANGUAGE java AS 'return x;'", "CREATE FUNCTION"),
            ("CREATE MATERIALIZED VIEW chk.v AS SELECT * FROM chk.t WHERE a IS NOT NULL "
             "PRIMARY KEY (a, k)", "CREATE MATERIALIZED VIEW"),
            ("CREATE ROLE bob", "CREATE ROLE"),
            ("GRANT SELECT ON chk.t TO bob", "GRANT"),
            ("REVOKE SELECT ON chk.t FROM bob", "REVOKE"),
            ("LIST ROLES", "LIST"),
        ]
        for query, what in cases:
            with self.subTest(query=query):
                self.assert_refused(query, "%s %s (it serves SELECT, INSERT, UPDATE, DELETE, "
                                           "BATCH, CREATE KEYSPACE, CREATE TABLE, ALTER TABLE ... "
                                           "ADD and USE)" %
                                    (what, ENDPOINT))
        # Forms of the served statements, with what to do instead.
        forms = [
            ("UPDATE chk.t SET i = i + 1 WHERE k = 1",
             "UPDATE ... SET i = i +/- ... %s: counter and collection arithmetic; set the whole "
             "value (SET i = ?)" % ENDPOINT),
            ("UPDATE chk.t SET s = s + {7} WHERE k = 1", "UPDATE ... SET s = s +/- ..."),
            ("UPDATE chk.t SET m['n'] = 7 WHERE k = 1",
             "UPDATE ... SET m[...] = ... %s: setting one element of a collection or a field; "
             "set the whole value (SET m = ?)" % ENDPOINT),
            ("DELETE m['n'] FROM chk.t WHERE k = 1", "DELETE m[...] %s" % ENDPOINT),
            ("UPDATE chk.t SET a = 'z' WHERE k = 1 IF a = 'a1'",
             "UPDATE ... IF <condition> %s: conditions on column values (lightweight "
             "transactions); only IF EXISTS is served" % ENDPOINT),
            ("SELECT * FROM chk.t WHERE k = 1 ORDER BY a", "SELECT ... ORDER BY %s" % ENDPOINT),
            ("SELECT k, writetime(a) FROM chk.t", "SELECT WRITETIME(...) %s" % ENDPOINT),
            ("SELECT max(i) FROM chk.t", "SELECT MAX(...) %s" % ENDPOINT),
        ]
        for query, message in forms:
            with self.subTest(query=query):
                self.assert_refused(query, message)
                with self.assertRaises(InvalidRequest) as e:
                    self.session.prepare(query)
                self.assertIn(message, str(e.exception))


class ReadOnlyRecheckTest(unittest.TestCase):
    """A cql-serve that started read-only beside another process names the process that holds
    the data dir at each refused write, and writes once the data dir is free."""

    def start(self, data_dir=None):
        server = dataforge_server.CqlServe(data_dir=data_dir)
        self.addCleanup(server.cleanup)
        server.start()
        cluster = make_cluster(server.port, protocol_version=4)
        self.addCleanup(cluster.shutdown)
        return server, cluster.connect()

    def assert_refused_naming(self, session, pid):
        with self.assertRaises(InvalidRequest) as e:
            session.execute("INSERT INTO ro.t (k, v) VALUES ('x', 3)")
        self.assertIn("the store is read-only: the data dir is used by dataforge pid %d; stop it "
                      "or use `dataforge run --cql-port`" % pid, str(e.exception))
        rows = session.execute(SimpleStatement("SELECT * FROM ro.t", fetch_size=1))
        self.assertEqual(sorted(tuple(r) for r in rows), [("a", 1)])

    def test_refused_writes_name_the_current_holder_then_succeed_when_it_is_gone(self):
        first, s1 = self.start()
        s1.execute("CREATE KEYSPACE ro WITH replication = "
                   "{'class': 'SimpleStrategy', 'replication_factor': 1}")
        s1.execute("CREATE TABLE ro.t (k text PRIMARY KEY, v int)")
        s1.execute("INSERT INTO ro.t (k, v) VALUES ('a', 1)")
        second, s2 = self.start(first.data_dir)
        self.assertTrue(second.ready.group("store").endswith(
            " read-only, pid %d holds the data dir" % first.proc.pid))
        self.assert_refused_naming(s2, first.proc.pid)

        # The first exits and a third takes the data dir: the second names the third.
        stop_cleanly(self, first)
        third, _ = self.start(first.data_dir)
        self.assertFalse(third.ready.group("store").endswith("holds the data dir"))
        self.assert_refused_naming(s2, third.proc.pid)

        # Nobody holds it: the write takes the data dir and is stored; the second serves
        # read-write from then on, and a fourth server finds the second holding the data dir.
        stop_cleanly(self, third)
        s2.execute("INSERT INTO ro.t (k, v) VALUES ('b', 2)")
        s2.execute("CREATE TABLE ro.u (k int PRIMARY KEY)")
        rows = s2.execute(SimpleStatement("SELECT * FROM ro.t", fetch_size=1))
        self.assertEqual(sorted(tuple(r) for r in rows), [("a", 1), ("b", 2)])
        fourth, s4 = self.start(first.data_dir)
        self.assertTrue(fourth.ready.group("store").endswith(
            " read-only, pid %d holds the data dir" % second.proc.pid))
        self.assertEqual(sorted(tuple(r) for r in s4.execute("SELECT * FROM ro.t")),
                         [("a", 1), ("b", 2)])
        stop_cleanly(self, fourth)
        stop_cleanly(self, second)
