"""The schema registry's REST API where Confluent's Python client has no method: referencedby,
schemas by id (raw, subjects, versions), schema types, modes, DELETE config, verbose compatibility,
raw schemas, percent-encoded subjects, ignored fields, content types, body limits (413, 42209)
and the error envelope of the server's own refusals (401, 403, 404, 405, 413, 415) under
/registry, with python3-requests against `dataforge serve`.

    /usr/bin/python3 tests/registry/registry_rest_test.py /path/to/dataforge [unittest args]
"""
import http.client
import json
import os
import sys
import unittest

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from registry_test_base import (CONTENT_TYPE, JSON_USER, ORDER_V1, USER_NO_DEFAULT,  # noqa: E402
                                USER_V1, USER_V2, ServedRegistry, avro_record)

ADDRESS = avro_record("Address", [{"name": "city", "type": "string"}])
PERSON = avro_record("Person", [{"name": "name", "type": "string"},
                                {"name": "home", "type": "Address"}])
MAX_BODY = 65536


class RestTest(ServedRegistry):
    ARGS = ("--max-body-bytes", str(MAX_BODY))

    def register(self, subject, schema, **extra):
        r = self.http("POST", "/subjects/%s/versions" % subject, dict({"schema": schema}, **extra))
        self.assertEqual(r.status_code, 200, r.text)
        return r.json()["id"]

    def test_a_references_ids_and_raw_schemas(self):
        self.assertEqual(self.register("address", ADDRESS), 1)
        refs = [{"name": "Address", "subject": "address", "version": 1}]
        self.assertEqual(self.register("person", PERSON, references=refs), 2)
        self.assert_answer(self.http("GET", "/subjects/address/versions/1/referencedby"), 200, [2])
        self.assert_answer(self.http("GET", "/subjects/person/versions/1/referencedby"), 200, [])
        self.assert_answer(self.http("GET", "/subjects/person/versions/latest"), 200,
                           {"subject": "person", "version": 1, "id": 2, "references": refs,
                            "schema": PERSON})
        self.assert_answer(self.http("GET", "/schemas/ids/2"), 200,
                           {"schema": PERSON, "references": refs})
        # A referenced version cannot be deleted.
        self.assert_error(self.http("DELETE", "/subjects/address/versions/1"), 422, 42206)

        # The same schema under a second subject: one id, both listed.
        self.assertEqual(self.register("address-copy", ADDRESS), 1)
        self.assert_answer(self.http("GET", "/schemas/ids/1/subjects"), 200,
                           ["address", "address-copy"])
        self.assert_answer(self.http("GET", "/schemas/ids/1/versions"), 200,
                           [{"subject": "address", "version": 1},
                            {"subject": "address-copy", "version": 1}])
        self.assert_answer(self.http("GET", "/schemas/ids/1?subject=address-copy"), 200,
                           {"schema": ADDRESS})
        self.assert_error(self.http("GET", "/schemas/ids/1?subject=person"), 404, 40403)
        self.assert_error(self.http("GET", "/schemas/ids/77/subjects"), 404, 40403)

        # Raw texts, with Confluent's content type; latest and -1 are the latest version.
        for path in ("/schemas/ids/1/schema", "/subjects/address/versions/1/schema",
                     "/subjects/address/versions/latest/schema",
                     "/subjects/address/versions/-1/schema"):
            r = self.http("GET", path)
            self.assertEqual((r.status_code, r.text), (200, ADDRESS), path)
            self.assertEqual(r.headers["Content-Type"], CONTENT_TYPE)
        for bad in ("0", "abc", "2147483648", "-2"):
            self.assert_error(
                self.http("GET", "/subjects/address/versions/" + bad), 422, 42202,
                "The specified version '%s' is not a valid version id. Allowed values are "
                "between [1, 2^31-1] and the string \"latest\"" % bad)
        self.assert_answer(self.http("GET", "/schemas/types"), 200, ["AVRO", "JSON"])
        self.assert_answer(self.http("GET", ""), 200, {})

    def test_c_subject_prefix_and_percent_encoded_subjects(self):
        self.assertEqual(self.register("team%2Fusers", USER_V1), 3)
        self.assert_answer(self.http("GET", "/subjects?subjectPrefix=team"), 200, ["team/users"])
        self.assert_answer(self.http("GET", "/subjects/team%2Fusers/versions"), 200, [1])
        r = self.http("POST", "/subjects/team%2Fusers", {"schema": USER_V1})
        self.assert_answer(r, 200, {"subject": "team/users", "version": 1, "id": 3,
                                    "schema": USER_V1})

    def test_d_config_mode_and_verbose_compatibility(self):
        self.assertEqual(self.register("users", USER_V1), 3)
        self.assertEqual(self.register("users", USER_V2), 4)
        base = "/compatibility/subjects/users/versions"
        r = self.http("POST", base + "/latest?verbose=true", {"schema": USER_NO_DEFAULT})
        self.assertEqual((r.status_code, r.json()["is_compatible"]), (200, False), r.text)
        self.assertEqual(sorted(r.json()), ["is_compatible", "messages"])
        self.assertGreaterEqual(len(r.json()["messages"]), 1)
        self.assert_answer(self.http("POST", base + "/latest", {"schema": USER_NO_DEFAULT}), 200,
                           {"is_compatible": False})
        self.assert_answer(self.http("POST", base + "/1?verbose=true", {"schema": USER_V2}), 200,
                           {"is_compatible": True, "messages": []})
        self.assert_answer(self.http("POST", base, {"schema": USER_V2}), 200,
                           {"is_compatible": True})
        # verbose: an invalid schema is an answer, not an error.
        r = self.http("POST", base + "/latest?verbose=true", {"schema": '{"type": "nope"}'})
        self.assertEqual((r.status_code, r.json()["is_compatible"], len(r.json()["messages"])),
                         (200, False, 1), r.text)
        self.assert_error(self.http("POST", base + "/latest", {"schema": '{"type": "nope"}'}),
                          422, 42201)

        self.assert_answer(self.http("GET", "/config"), 200, {"compatibilityLevel": "BACKWARD"})
        self.assert_answer(self.http("PUT", "/config/users", {"compatibility": "full"}), 200,
                           {"compatibility": "FULL"})
        self.assert_answer(self.http("GET", "/config/users"), 200, {"compatibilityLevel": "FULL"})
        self.assert_answer(self.http("DELETE", "/config/users"), 200,
                           {"compatibilityLevel": "FULL"})
        self.assert_error(self.http("GET", "/config/users"), 404, 40408)
        self.assert_answer(self.http("GET", "/config/users?defaultToGlobal=true"), 200,
                           {"compatibilityLevel": "BACKWARD"})
        self.assert_answer(self.http("PUT", "/config", {"compatibility": "NONE"}), 200,
                           {"compatibility": "NONE"})
        self.assert_answer(self.http("DELETE", "/config"), 200, {"compatibilityLevel": "NONE"})
        self.assert_answer(self.http("GET", "/config"), 200, {"compatibilityLevel": "BACKWARD"})
        self.assert_error(self.http("PUT", "/config", {"compatibility": "SIDEWAYS"}), 422, 42203)

        self.assert_answer(self.http("GET", "/mode"), 200, {"mode": "READWRITE"})
        self.assert_answer(self.http("PUT", "/mode/users", {"mode": "READONLY"}), 200,
                           {"mode": "READONLY"})
        self.assert_answer(self.http("GET", "/mode/users"), 200, {"mode": "READONLY"})
        self.assert_error(self.http("POST", "/subjects/users/versions", {"schema": ORDER_V1}),
                          422, 42205)
        self.assert_answer(self.http("DELETE", "/mode/users"), 200, {"mode": "READONLY"})
        self.assert_error(self.http("GET", "/mode/users"), 404, 40409)
        self.assert_answer(self.http("GET", "/mode/users?defaultToGlobal=true"), 200,
                           {"mode": "READWRITE"})
        self.assert_error(self.http("PUT", "/mode", {"mode": "SOMETIMES"}), 422, 42204)

    def test_e_bodies_content_types_and_limits(self):
        # Fields newer clients send are ignored.
        self.assertEqual(self.register("extras", ORDER_V1, metadata={"properties": {"a": "b"}},
                                       ruleSet={"domainRules": []}), 5)
        for ctype in ("application/json", "application/vnd.schemaregistry+json",
                      "application/octet-stream", "application/vnd.schemaregistry.v1+json; "
                      "charset=utf-8"):
            r = self.http("POST", "/subjects/extras/versions", {"schema": ORDER_V1},
                          content_type=ctype)
            self.assert_answer(r, 200, {"id": 5})
        r = self.http("POST", "/subjects/extras/versions", {"schema": ORDER_V1},
                      content_type="text/plain")
        self.assert_error(r, 415, 415)
        # Unparsable JSON: 400 with error_code 400, as Confluent's REST layer answers it.
        self.assert_error(self.http("POST", "/subjects/extras/versions", raw="{not json"), 400,
                          400)
        self.assert_error(self.http("POST", "/subjects/extras/versions", {"schemaType": "AVRO"}),
                          422, 42201, "Empty schema")
        # A schema over half the body limit: 42209; a body over the limit: 413 before it is read.
        big = avro_record("Big", [{"name": "f", "type": "string", "doc": "x" * 40000}])
        self.assert_error(self.http("POST", "/subjects/big/versions", {"schema": big}), 422,
                          42209)
        huge = avro_record("Huge", [{"name": "f", "type": "string", "doc": "x" * MAX_BODY}])
        r = self.http("POST", "/subjects/big/versions", {"schema": huge})
        self.assert_error(r, 413, 413)
        self.assertEqual(r.headers["Connection"], "close")

    def test_f_the_servers_refusals_in_confluents_envelope(self):
        msg = self.assert_error(self.http("GET", "/no/such/path"), 404, 404)
        self.assertEqual(msg, "no such endpoint: GET /registry/no/such/path")
        r = self.http("PATCH", "/subjects", {"x": 1})
        self.assert_error(r, 405, 405)
        self.assertEqual(r.headers["Allow"], "GET")
        # A bad percent-encoding (sent as it is: requests would encode the '%').
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        conn.request("GET", "/registry/subjects/a%zz/versions")
        r = conn.getresponse()
        self.assertEqual((r.status, r.getheader("Content-Type")), (400, CONTENT_TYPE))
        self.assertEqual(json.loads(r.read())["error_code"], 400)
        conn.close()
        # Outside /registry the REST API's own envelope is unchanged.
        r = requests.get(self.url.replace("/registry", "/v1/nothing-here"), timeout=60)
        self.assertEqual((r.status_code, sorted(r.json())), (404, ["error"]))
        r = requests.get(self.url + "x/subjects", timeout=60)  # /registryx: not the prefix
        self.assertEqual((r.status_code, sorted(r.json())), (404, ["error"]))


class JsonSchemaTest(ServedRegistry):
    """JSON Schema under its own server (its ids do not shift the other tests')."""

    def register(self, subject, schema, **extra):
        r = self.http("POST", "/subjects/%s/versions" % subject, dict({"schema": schema}, **extra))
        self.assertEqual(r.status_code, 200, r.text)
        return r.json()["id"]

    def test_json_type_and_soft_deleted_versions(self):
        self.assertEqual(self.register("json-users", JSON_USER, schemaType="JSON"), 1)
        self.assert_answer(self.http("GET", "/subjects/json-users/versions/1"), 200,
                           {"subject": "json-users", "version": 1, "id": 1,
                            "schemaType": "JSON", "schema": JSON_USER})
        self.assert_answer(self.http("DELETE", "/subjects/json-users/versions/1"), 200, 1)
        # No live version left: reading it without ?deleted is "subject not found", as Confluent.
        self.assert_error(self.http("GET", "/subjects/json-users/versions/1"), 404, 40401)
        r = self.http("GET", "/subjects/json-users/versions/1?deleted=true")
        self.assertEqual((r.status_code, r.json()["id"], r.json()["deleted"]), (200, 1, True))
        self.assert_answer(self.http("GET", "/subjects/json-users/versions?deleted=true"), 200,
                           [1])
        self.assertIn("json-users", self.http("GET", "/subjects?deleted=true").json())
        self.assertNotIn("json-users", self.http("GET", "/subjects").json())
        self.assert_answer(self.http("DELETE", "/subjects/json-users/versions/1?permanent=true"),
                           200, 1)
        # Its only version gone: the subject is gone (Confluent's 40401).
        self.assert_error(self.http("GET", "/subjects/json-users/versions/1?deleted=true"), 404,
                          40401)


PIPELINE = """auth:
  roles:
    team:
      subjects:
        "team-*": [read, write]
"""


class AuthEnvelopeTest(ServedRegistry):
    PIPELINE = PIPELINE
    USERS = {"ada": ("admin", "pw-admin-1"), "tom": ("team", "pw-team-1")}

    def test_401_403_and_ids_by_readable_subject(self):
        ada, tom = ("ada", "pw-admin-1"), ("tom", "pw-team-1")
        r = self.http("GET", "/subjects")
        self.assert_error(r, 401, 40101)
        self.assertIn("Basic", r.headers["WWW-Authenticate"])
        self.assert_error(self.http("GET", "/subjects", auth=("tom", "nope")), 401, 40101)
        r = self.http("POST", "/subjects/team-a/versions", {"schema": USER_V1}, auth=tom)
        self.assert_answer(r, 200, {"id": 1})
        r = self.http("POST", "/subjects/other/versions", {"schema": ORDER_V1}, auth=tom)
        self.assert_error(r, 403, 40301, "role 'team' may not write subjects 'other' (grant it "
                          "in auth.roles.team)")
        self.assert_answer(self.http("POST", "/subjects/other/versions", {"schema": ORDER_V1},
                                     auth=ada), 200, {"id": 2})
        self.assert_answer(self.http("POST", "/subjects/team-b/versions", {"schema": ORDER_V1},
                                     auth=ada), 200, {"id": 2})
        # id 2 is under other and team-b: tom reads it through team-b, and sees only team-b.
        self.assert_answer(self.http("GET", "/schemas/ids/2", auth=tom), 200, {"schema": ORDER_V1})
        self.assert_answer(self.http("GET", "/schemas/ids/2/subjects", auth=tom), 200, ["team-b"])
        self.assert_answer(self.http("GET", "/schemas/ids/2/subjects", auth=ada), 200,
                           ["other", "team-b"])
        self.assert_answer(self.http("DELETE", "/subjects/team-b", auth=tom), 200, [1])
        self.assert_answer(self.http("DELETE", "/subjects/team-b?permanent=true", auth=tom), 200,
                           [1])
        self.assert_error(self.http("GET", "/schemas/ids/2", auth=tom), 403, 40301)
        self.assert_error(self.http("PUT", "/mode", {"mode": "READONLY"}, auth=tom), 403, 40301)
        self.assert_error(self.http("DELETE", "/config", auth=tom), 403, 40301)
        self.assert_answer(self.http("GET", "/mode", auth=tom), 200, {"mode": "READWRITE"})
        self.assert_answer(self.http("GET", "/schemas/types", auth=tom), 200, ["AVRO", "JSON"])


if __name__ == "__main__":
    unittest.main()
