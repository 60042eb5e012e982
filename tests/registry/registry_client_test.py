"""Confluent's own Python client (Debian's python3-confluent-kafka, SchemaRegistryClient) against
the schema registry `dataforge serve` serves under /registry: every method the client has, with
exact ids, versions and error codes, and Basic auth through basic.auth.user.info.

    /usr/bin/python3 tests/registry/registry_client_test.py /path/to/dataforge [unittest args]
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from registry_test_base import (JSON_USER, ORDER_V1, ORDER_V2, ORDER_V3, USER_NO_DEFAULT,  # noqa
                                USER_V1, USER_V2, ServedRegistry)
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient  # noqa: E402
from confluent_kafka.schema_registry.error import SchemaRegistryError  # noqa: E402


def avro(text):
    return Schema(text, "AVRO")


class ClientCase(ServedRegistry):
    def client(self, user_info=None):
        """A new client each time: the client caches ids, and the tests check the server's."""
        conf = {"url": self.url}
        if user_info is not None:
            conf["basic.auth.user.info"] = user_info
        return SchemaRegistryClient(conf)

    def assert_refused(self, call, http_status, error_code):
        with self.assertRaises(SchemaRegistryError) as caught:
            call()
        self.assertEqual((caught.exception.http_status_code, caught.exception.error_code),
                         (http_status, error_code), caught.exception.error_message)
        return caught.exception.error_message


class RegisterAndReadTest(ClientCase):
    def test_register_get_lookup_versions(self):
        c = self.client()
        self.assertEqual(c.register_schema("users-value", avro(USER_V1)), 1)
        # The server's dedup (a new client has no cache): same schema, same id; also under
        # another subject.
        self.assertEqual(self.client().register_schema("users-value", avro(USER_V1)), 1)
        self.assertEqual(self.client().register_schema("users-copy", avro(USER_V1)), 1)
        self.assertEqual(c.register_schema("users-value", avro(USER_V2)), 2)

        s = self.client().get_schema(1)
        self.assertEqual((s.schema_str, s.schema_type, s.references), (USER_V1, "AVRO", []))

        latest = c.get_latest_version("users-value")
        self.assertEqual((latest.schema_id, latest.subject, latest.version,
                          latest.schema.schema_str), (2, "users-value", 2, USER_V2))
        v1 = c.get_version("users-value", 1)
        self.assertEqual((v1.schema_id, v1.subject, v1.version, v1.schema.schema_str),
                         (1, "users-value", 1, USER_V1))
        self.assertEqual(c.get_versions("users-value"), [1, 2])
        self.assertEqual(c.get_versions("users-copy"), [1])

        found = c.lookup_schema("users-value", avro(USER_V1))
        self.assertEqual((found.schema_id, found.subject, found.version), (1, "users-value", 1))
        self.assertEqual(c.get_subjects(), ["users-copy", "users-value"])



class JsonSchemaClientTest(ClientCase):
    """JSON Schema (schemaType JSON) under its own server."""

    def test_register_get_lookup(self):
        c = self.client()
        self.assertEqual(c.register_schema("json-users", Schema(JSON_USER, "JSON")), 1)
        self.assertEqual(self.client().register_schema("json-users", Schema(JSON_USER, "JSON")),
                         1)
        s = self.client().get_schema(1)
        self.assertEqual((s.schema_str, s.schema_type), (JSON_USER, "JSON"))
        found = c.lookup_schema("json-users", Schema(JSON_USER, "JSON"))
        self.assertEqual((found.schema_id, found.version, found.schema.schema_type),
                         (1, 1, "JSON"))
        latest = c.get_latest_version("json-users")
        self.assertEqual((latest.schema_id, latest.schema.schema_type), (1, "JSON"))


class ErrorCodesTest(ClientCase):
    def test_errors_have_confluents_codes(self):
        c = self.client()
        self.assertEqual(c.register_schema("errors-value", avro(ORDER_V1)), 1)
        self.assert_refused(lambda: c.get_version("no-such-subject", 1), 404, 40401)
        self.assert_refused(lambda: c.get_latest_version("no-such-subject"), 404, 40401)
        self.assert_refused(lambda: c.get_versions("no-such-subject"), 404, 40401)
        self.assert_refused(lambda: c.get_version("errors-value", 7), 404, 40402)
        self.assert_refused(lambda: c.get_schema(999), 404, 40403)
        self.assert_refused(lambda: c.lookup_schema("no-such-subject", avro(ORDER_V1)), 404,
                            40401)
        self.assert_refused(lambda: c.lookup_schema("errors-value", avro(USER_V1)), 404, 40403)
        self.assert_refused(
            lambda: c.register_schema("errors-value", avro('{"type": "record", "name": "X"')),
            422, 42201)
        self.assert_refused(lambda: c.register_schema("errors-value", Schema("{}", "PROTOBUF")),
                            422, 42201)
        self.assert_refused(lambda: c.get_version("errors-value", 0), 422, 42202)


class CompatibilityTest(ClientCase):
    def test_levels_and_tests(self):
        c = self.client()
        self.assertEqual(c.register_schema("users-value", avro(USER_V1)), 1)
        self.assertEqual(c.register_schema("users-value", avro(USER_V2)), 2)
        self.assertEqual(c.get_compatibility(), "BACKWARD")
        # No level of its own: Confluent's 40408 (the client asks without defaultToGlobal).
        self.assert_refused(lambda: c.get_compatibility("users-value"), 404, 40408)

        self.assertFalse(c.test_compatibility("users-value", avro(USER_NO_DEFAULT)))
        self.assertTrue(c.test_compatibility("users-value", avro(USER_V2)))
        self.assertTrue(c.test_compatibility("users-value", avro(USER_V1), version=1))
        self.assertFalse(c.test_compatibility("users-value", avro(USER_NO_DEFAULT), version=2))
        self.assert_refused(lambda: c.test_compatibility("users-value", avro(USER_V1), version=9),
                            404, 40402)
        self.assert_refused(
            lambda: c.test_compatibility("users-value", avro(USER_V1), version="x"), 422, 42202)

        self.assert_refused(lambda: c.register_schema("users-value", avro(USER_NO_DEFAULT)), 409,
                            409)
        self.assertEqual(c.set_compatibility("users-value", "none"), {"compatibility": "NONE"})
        self.assertEqual(c.get_compatibility("users-value"), "NONE")
        self.assertEqual(c.get_compatibility(), "BACKWARD")
        self.assertTrue(c.test_compatibility("users-value", avro(USER_NO_DEFAULT)))
        self.assertEqual(c.register_schema("users-value", avro(USER_NO_DEFAULT)), 3)
        self.assertEqual(c.get_versions("users-value"), [1, 2, 3])

        self.assertEqual(c.set_compatibility(level="FULL_TRANSITIVE"),
                         {"compatibility": "FULL_TRANSITIVE"})
        self.assertEqual(c.get_compatibility(), "FULL_TRANSITIVE")
        self.assertEqual(c.set_compatibility(level="BACKWARD"), {"compatibility": "BACKWARD"})
        self.assert_refused(lambda: c.set_compatibility("users-value", "sideways"), 422, 42203)
        self.assertEqual(c.get_compatibility("users-value"), "NONE")


class DeleteTest(ClientCase):
    def test_soft_then_permanent(self):
        c = self.client()
        self.assertEqual(c.register_schema("orders-value", avro(ORDER_V1)), 1)
        self.assertEqual(c.register_schema("orders-value", avro(ORDER_V2)), 2)
        self.assertEqual(c.delete_version("orders-value", 1), 1)
        self.assertEqual(c.get_versions("orders-value"), [2])
        self.assert_refused(lambda: c.get_version("orders-value", 1), 404, 40402)
        # A soft-deleted version keeps its id.
        self.assertEqual(self.client().get_schema(1).schema_str, ORDER_V1)

        self.assertEqual(c.delete_subject("orders-value"), [2])
        self.assertEqual(c.get_subjects(), [])
        self.assert_refused(lambda: c.get_versions("orders-value"), 404, 40401)
        self.assert_refused(lambda: c.delete_subject("orders-value"), 404, 40404)

        # permanent=True: the client deletes softly, then permanently.
        self.assertEqual(c.register_schema("tmp-value", avro(ORDER_V3)), 3)
        self.assertEqual(c.delete_subject("tmp-value", permanent=True), [1])
        self.assert_refused(lambda: self.client().get_schema(3), 404, 40403)
        # Ids are never reused.
        self.assertEqual(c.register_schema("tmp-value", avro(USER_V1)), 4)
        self.assertEqual(c.get_subjects(), ["tmp-value"])


PIPELINE = """auth:
  roles:
    team:
      subjects:
        "team-*": [read, write]
"""
USERS = {"ada": ("admin", "pw-admin-1"), "rita": ("reader", "pw-reader-1"),
         "otto": ("operator", "pw-operator-1"), "tom": ("team", "pw-team-1")}


class BasicAuthTest(ClientCase):
    PIPELINE = PIPELINE
    USERS = USERS

    def as_user(self, name):
        return self.client("%s:%s" % (name, USERS[name][1]))

    def test_roles_through_basic_auth_user_info(self):
        tom, ada, rita, otto = (self.as_user(n) for n in ("tom", "ada", "rita", "otto"))
        self.assertEqual(tom.register_schema("team-a", avro(USER_V1)), 1)
        self.assertIn("may not write subjects 'other'",
                      self.assert_refused(lambda: tom.register_schema("other", avro(ORDER_V1)),
                                          403, 40301))
        self.assertEqual(ada.register_schema("other", avro(ORDER_V1)), 2)
        self.assertEqual(otto.register_schema("ops-value", avro(ORDER_V2)), 3)
        self.assertEqual(rita.get_subjects(), ["ops-value", "other", "team-a"])
        self.assert_refused(lambda: rita.register_schema("team-a", avro(USER_V2)), 403, 40301)
        self.assertEqual(rita.get_latest_version("other").schema_id, 2)

        # A role sees only the subjects it may read; a schema by id when it may read a subject
        # holding it.
        self.assertEqual(tom.get_subjects(), ["team-a"])
        self.assertEqual(tom.get_schema(1).schema_str, USER_V1)
        self.assert_refused(lambda: tom.get_schema(2), 403, 40301)
        self.assert_refused(lambda: tom.get_latest_version("other"), 403, 40301)

        # The global level: admin only.
        self.assert_refused(lambda: tom.set_compatibility(level="NONE"), 403, 40301)
        self.assert_refused(lambda: otto.set_compatibility(level="NONE"), 403, 40301)
        self.assertEqual(tom.set_compatibility("team-a", "FULL"), {"compatibility": "FULL"})
        self.assertEqual(ada.set_compatibility(level="FORWARD"), {"compatibility": "FORWARD"})
        self.assertEqual(tom.get_compatibility(), "FORWARD")

        self.assert_refused(lambda: self.client().get_subjects(), 401, 40101)
        self.assert_refused(lambda: self.client("tom:wrong-password").get_subjects(), 401, 40101)


if __name__ == "__main__":
    unittest.main()
