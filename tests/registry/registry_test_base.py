"""What the schema registry's end-to-end tests share: `dataforge serve` on a fresh data dir (one per
test class), users, schemas, and a raw HTTP helper (python3-requests).

    python3 tests/registry/<test>.py /path/to/dataforge [unittest args]
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
    os.environ["DATAFORGE_BIN"] = os.path.abspath(sys.argv.pop(1))

import dataforge_server  # noqa: E402
import requests  # noqa: E402

dataforge_server.BINARY = os.environ.get("DATAFORGE_BIN", dataforge_server.BINARY)
# Each SchemaRegistryClient keeps a requests session open; the tests make many on purpose (a new
# client has no cache, so the answer is the server's).
warnings.simplefilter("ignore", ResourceWarning)

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


def avro_record(name, fields):
    return json.dumps({"type": "record", "name": name, "fields": fields})


USER_V1 = avro_record("User", [{"name": "id", "type": "string"}])
# v2 adds a field with a default: BACKWARD compatible with v1.
USER_V2 = avro_record("User", [{"name": "id", "type": "string"},
                               {"name": "age", "type": "int", "default": 0}])
# Adds a field without a default: a reader of this schema cannot read v2's records.
USER_NO_DEFAULT = avro_record("User", [{"name": "id", "type": "string"},
                                       {"name": "age", "type": "int", "default": 0},
                                       {"name": "email", "type": "string"}])
ORDER_V1 = avro_record("Order", [{"name": "id", "type": "long"}])
ORDER_V2 = avro_record("Order", [{"name": "id", "type": "long"},
                                 {"name": "note", "type": ["null", "string"], "default": None}])
ORDER_V3 = avro_record("Order", [{"name": "id", "type": "long"},
                                 {"name": "note", "type": ["null", "string"], "default": None},
                                 {"name": "qty", "type": "int", "default": 1}])
JSON_USER = json.dumps({"type": "object", "properties": {"id": {"type": "string"}}})


def users_add(data_dir, name, role, password, config=None):
    global_args = ["--data-dir", data_dir] + (["--config", config] if config else [])
    p = subprocess.run([dataforge_server.BINARY] + global_args + ["users", "add", name,
                        "--role", role, "--password-stdin"], input=password + "\n",
                       capture_output=True, text=True, timeout=dataforge_server.STOP_BOUND_S)
    if p.returncode != 0:
        raise AssertionError("users add %s failed (%d): %s%s" % (name, p.returncode, p.stdout,
                                                                   p.stderr))


class ServedRegistry(unittest.TestCase):
    """One `dataforge serve --http-port 0` per test class on its own data dir. Subclasses set
    PIPELINE (the pipeline file's text, or None), USERS ({name: (role, password)}) and ARGS."""
    PIPELINE = None
    USERS = {}
    ARGS = ()

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="df-registry-")
        cls.data_dir = os.path.join(cls.tmp.name, "data")
        cls.config = None
        args = ["serve", "--http-port", "0"] + list(cls.ARGS)
        if cls.PIPELINE is not None:
            cls.config = os.path.join(cls.tmp.name, "pipeline.yaml")
            with open(cls.config, "w") as f:
                f.write(cls.PIPELINE)
        for name, (role, password) in cls.USERS.items():
            users_add(cls.data_dir, name, role, password, cls.config)
        command = (["--config", cls.config] if cls.config else []) + args
        cls.server = dataforge_server.CqlServe(data_dir=cls.data_dir, command=command,
                                               ready=dataforge_server.SERVE_READY)
        # CqlServe puts --data-dir before the command; a global --config goes there too.
        cls.server.start()
        cls.url = "http://127.0.0.1:%d/registry" % cls.server.port

    @classmethod
    def tearDownClass(cls):
        code, out = cls.server.stop()
        cls.server.cleanup()
        cls.tmp.cleanup()
        if code != 0:
            raise AssertionError("serve exited %d: %s" % (code, out))

    def http(self, method, path, body=None, auth=None, content_type=CONTENT_TYPE, raw=None):
        """`method` `path` (under /registry) with a JSON body; the response."""
        headers = {}
        data = raw
        if body is not None:
            data = json.dumps(body)
        if data is not None and content_type is not None:
            headers["Content-Type"] = content_type
        return requests.request(method, self.url + path, data=data, headers=headers, auth=auth,
                                timeout=60)

    def assert_answer(self, r, status, body):
        """Exact status, Confluent's content type and the JSON body."""
        self.assertEqual((r.status_code, r.json()), (status, body), r.text)
        self.assertEqual(r.headers["Content-Type"], CONTENT_TYPE)

    def assert_error(self, r, status, error_code, message=None):
        """Confluent's envelope {"error_code","message"} with exactly these keys."""
        self.assertEqual(r.status_code, status, r.text)
        self.assertEqual(r.headers["Content-Type"], CONTENT_TYPE, r.text)
        body = r.json()
        self.assertEqual(sorted(body), ["error_code", "message"], r.text)
        self.assertEqual(body["error_code"], error_code, r.text)
        if message is not None:
            self.assertEqual(body["message"], message)
        return body["message"]
