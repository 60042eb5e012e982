"""Shared by the endpoint tests: a driver Cluster for a local port, and one `cql-serve` per test
class."""
import unittest

import dataforge_server
from cassandra.cluster import Cluster
from cassandra.policies import RoundRobinPolicy


def make_cluster(port, **kwargs):
    kwargs.setdefault("connect_timeout", 30)
    kwargs.setdefault("control_connection_timeout", 30)
    return Cluster(["127.0.0.1"], port=port, load_balancing_policy=RoundRobinPolicy(), **kwargs)


def stop_cleanly(test_class, server):
    """SIGTERM: exit code 0, the summary line last, no sanitizer report."""
    code, out = server.stop()
    err = server.stderr()
    test_class.assertEqual(code, 0, err)
    test_class.assertRegex(out.strip().splitlines()[-1], dataforge_server.SUMMARY)
    test_class.assertNotIn("Sanitizer", err)
    test_class.assertNotIn("runtime error", err)


class ServerTestCase(unittest.TestCase):
    """One cql-serve per test class; SERVER_ARGS / SERVER_ENV configure it. The server is
    stopped with SIGTERM at the end, while the class's driver connections are still open."""
    SERVER_ARGS = ()
    SERVER_ENV = None

    @classmethod
    def setUpClass(cls):
        cls.server = dataforge_server.CqlServe(args=cls.SERVER_ARGS, env=cls.SERVER_ENV)
        cls.addClassCleanup(cls.server.cleanup)
        cls.server.start()
        cls.port = cls.server.port

    @classmethod
    def tearDownClass(cls):
        stop_cleanly(cls(), cls.server)
