// The Cassandra store end to end: the real binary writes through its CQL client to a CQL
// endpoint that another dataforge process serves over its embedded store (`dataforge
// cql-serve`), over loopback TCP. Faults are real: kill -9 of the endpoint and of consumer-group
// members, SIGSTOP of the endpoint. The Python driver (python3-cassandra) reads the endpoint as
// an independent client.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include <fmt/format.h>

#include "integration/cli_helpers.h"
#include "integration/cql_endpoint.h"
#include "integration/kafka_cluster.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

constexpr const char* kTable = "dataforge.created_users";

int64_t CountThrough(const std::vector<std::string>& where) {
  std::vector<std::string> args = {"table", "count", kTable};
  args.insert(args.end(), where.begin(), where.end());
  auto r = RunDataforge(args, 60000);
  return r.exit_code == 0 ? std::stoll(r.out) : -1;
}

// What the Python driver (an independent CQL client) sees: SELECT COUNT(*).
int64_t PythonDriverCount(int port) {
  TempDir dir;
  std::string script = dir.Sub("count.py");
  WriteFile(script, fmt::format(R"py(
from cassandra.cluster import Cluster
cluster = Cluster(['127.0.0.1'], port={}, protocol_version=4)
session = cluster.connect()
print(session.execute('SELECT COUNT(*) FROM {}').one()[0])
cluster.shutdown()
)py",
                                port, kTable));
  auto p = ChildProcess::Start({"/usr/bin/python3", script});
  auto r = p.Wait(60000);
  if (r.exit_code != 0) {
    ADD_FAILURE() << r.err;
    return -1;
  }
  return std::stoll(r.out);
}

TEST(CassandraTest, DefaultPipelineIntoTheEndpoint) {
  TempDir dir;
  CqlEndpoint cql(dir.Sub("endpoint"));
  std::string p = dir.Sub("pipeline");
  auto r =
      RunDataforge({"run", "--max-records", "5000", "--store", cql.url(), "--data-dir", p}, 180000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto st = Status(p, {"--store", cql.url()});
  EXPECT_EQ(st.fetched, 5000);
  EXPECT_EQ(st.stored, 5000);
  EXPECT_EQ(st.dead_lettered, 0);
  auto ids = ScanIds(p, {"--store", cql.url()});  // fails on a duplicate
  EXPECT_EQ(ids.size(), 5000u);
  EXPECT_EQ(CountThrough({"--store", cql.url(), "--data-dir", p}), 5000);
  // The endpoint's own store, read while cql-serve runs, and the independent driver agree.
  EXPECT_EQ(CountThrough({"--data-dir", dir.Sub("endpoint")}), 5000);
  EXPECT_EQ(PythonDriverCount(cql.port()), 5000);
  // A row reads the same through CQL as from the embedded store under the endpoint.
  auto via_cql =
      RunDataforge({"table", "get", kTable, ids[17], "--store", cql.url(), "--data-dir", p});
  auto direct = RunDataforge({"table", "get", kTable, ids[17], "--data-dir", dir.Sub("endpoint")});
  ASSERT_EQ(via_cql.exit_code, 0) << via_cql.err;
  EXPECT_EQ(via_cql.out, direct.out);
  EXPECT_NE(via_cql.out.find("\"id\":\"" + ids[17] + "\""), std::string::npos) << via_cql.out;
  // A second run continues: 2,000 more, nothing stored twice.
  r = RunDataforge({"run", "--max-records", "2000", "--store", cql.url(), "--data-dir", p}, 180000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  st = Status(p, {"--store", cql.url()});
  EXPECT_EQ(st.fetched, 7000);
  EXPECT_EQ(st.stored, 7000);
  EXPECT_EQ(CountThrough({"--store", cql.url(), "--data-dir", p}), 7000);
  auto stopped = cql.Stop();
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
}

// A paced pipeline file: about 1,000 records/s in small batches, so that faults land mid-run.
std::string PacedConfig(const TempDir& dir, const std::string& extra = "") {
  std::string path = dir.Sub("pipeline.yaml");
  WriteFile(path,
            "source:\n  seed: cassandra-faults\n  results_per_page: 100\n"
            "  rate_limit_per_sec: 10\n"
            "tuning:\n  batch_records: 100\n" +
                extra);
  return path;
}

// Starts an 8,000-record run of `config` into `cql` and returns once 1,000 (and not all) are
// stored, so that a fault lands mid-run.
ChildProcess StartPacedRun(const std::string& config, const std::string& data_dir,
                           const CqlEndpoint& cql) {
  auto run = StartDataforge({"run", "--max-records", "8000", "--config", config, "--store",
                             cql.url(), "--data-dir", data_dir});
  int64_t stored = -1;
  EXPECT_TRUE(WaitFor(
      [&] {
        stored = StoredNow(data_dir, {"--config", config, "--store", cql.url()});
        return stored >= 1000;
      },
      60))
      << run.Stderr();
  EXPECT_LT(stored, 8000) << "the run ended before the fault";
  return run;
}

TEST(CassandraTest, EndpointKilledAndRestartedMidRunLosesNothing) {
  TempDir dir;
  CqlEndpoint cql(dir.Sub("endpoint"));
  std::string config = PacedConfig(dir);
  std::string p = dir.Sub("pipeline");
  auto run = StartPacedRun(config, p, cql);
  cql.Kill();
  sleep(5);  // the fault's length: writes fail and are retried, reconnects back off meanwhile
  cql.Restart();
  auto r = run.Wait(180000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("retrying with backoff"), std::string::npos) << r.err;
  auto st = Status(p, {"--config", config, "--store", cql.url()});
  EXPECT_EQ(st.fetched, 8000);
  EXPECT_EQ(st.stored, 8000);
  EXPECT_EQ(st.dead_lettered, 0);
  EXPECT_EQ(ScanIds(p, {"--config", config, "--store", cql.url()}).size(), 8000u);
  EXPECT_EQ(PythonDriverCount(cql.port()), 8000);
}

// Peak resident memory of a live process, in kB (VmHWM).
int64_t PeakRssKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

TEST(CassandraTest, StalledEndpointBoundsMemoryAndLosesNothing) {
  TempDir dir;
  CqlEndpoint cql(dir.Sub("endpoint"));
  // Requests time out after 1 s while the endpoint is stopped: they are retried with backoff.
  std::string config = PacedConfig(dir, "store:\n  request_timeout_ms: 1000\n");
  std::string p = dir.Sub("pipeline");
  auto run = StartPacedRun(config, p, cql);
  cql.process().Signal(SIGSTOP);
  sleep(4);  // the fault's length, not a wait for a condition
  int64_t rss_stalled = PeakRssKb(run.pid());
  cql.process().Signal(SIGCONT);
  auto r = run.Wait(180000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("retrying with backoff"), std::string::npos) << r.err;
  EXPECT_GT(rss_stalled, 0);
#if !defined(__SANITIZE_ADDRESS__)  // ASan's quarantine keeps freed memory: ~400 MB there
  EXPECT_LT(rss_stalled, 200 * 1024) << "peak RSS while the endpoint was stopped";
#endif
  auto st = Status(p, {"--config", config, "--store", cql.url()});
  EXPECT_EQ(st.fetched, 8000);
  EXPECT_EQ(st.stored, 8000);
  EXPECT_EQ(CountThrough({"--config", config, "--store", cql.url(), "--data-dir", p}), 8000);
}

TEST(CassandraTest, TwoProcessMembersShareTheStoreAndOneIsKilled) {
  MockKafkaCluster kafka(3, {"users_created:12"});
  TempDir dir;
  CqlEndpoint cql(dir.Sub("endpoint"));
  std::string config = dir.Sub("pipeline.yaml");
  WriteFile(config, fmt::format("source:\n  seed: cassandra-group\n  results_per_page: 100\n"
                                "  rate_limit_per_sec: 20\n"
                                "log:\n  url: {}\n  partitions: 12\n  properties:\n"
                                "    session.timeout.ms: 6000\n"
                                "    heartbeat.interval.ms: 500\n"
                                "store:\n  url: {}\n"
                                "tuning:\n  batch_records: 100\n",
                                kafka.url(), cql.url()));
  std::vector<std::string> cfg = {"--config", config};
  auto member_a =
      StartDataforge({"run", "--role", "process", "--config", config, "--data-dir", dir.Sub("a")});
  auto member_b =
      StartDataforge({"run", "--role", "process", "--config", config, "--data-dir", dir.Sub("b")});
  auto owns = [](const ChildProcess& m) {
    return m.Stderr().find("gave this member partitions") != std::string::npos;
  };
  ASSERT_TRUE(WaitFor([&] { return owns(member_a) && owns(member_b); }, 60))
      << member_a.Stderr() << member_b.Stderr();
  auto ingest = StartDataforge({"run", "--role", "ingest", "--config", config, "--data-dir",
                                dir.Sub("ingest"), "--max-records", "20000"});
  ASSERT_TRUE(WaitFor(
      [&] {
        return CountThrough({"--config", config, "--data-dir", dir.Sub("a")}) >= 4000;
      },
      90))
      << member_b.Stderr();
  member_b.Signal(SIGKILL);
  ASSERT_EQ(member_b.Wait(10000).signal, SIGKILL);
  auto r = ingest.Wait(180000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto expected = KcatConsume(kafka.bootstrap(), "users_created");
  std::set<std::string> keys;
  for (const auto& k : expected) keys.insert(k.key);
  ASSERT_EQ(keys.size(), 20000u);
  // A takes over B's partitions and the shared store ends exact: every key once, and the
  // counters count each record once although B died between its rows and its offsets.
  ASSERT_TRUE(WaitFor([&] { return StoredNow(dir.Sub("a"), cfg) == 20000; }, 120))
      << StoredNow(dir.Sub("a"), cfg) << member_a.Stderr();
  member_a.Signal(SIGTERM);
  EXPECT_EQ(member_a.Wait(30000).exit_code, 0);
  auto ids = ScanIds(dir.Sub("a"), cfg);  // fails on a duplicate
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()), keys);
  auto st = Status(dir.Sub("a"), cfg);
  EXPECT_EQ(st.stored, 20000);
  EXPECT_EQ(st.dead_lettered, 0);
  EXPECT_EQ(PythonDriverCount(cql.port()), 20000);
}

// A column added to the mapping: the run stops and quotes the ALTER TABLE to run (DataForge never
// alters a table itself); run through the endpoint by an independent driver, it adds the column
// (the driver's schema metadata sees it), and the next run stores it.
TEST(CassandraTest, AColumnAddedToTheMappingIsAddedByAlterTableThroughTheEndpoint) {
  TempDir dir;
  CqlEndpoint cql(dir.Sub("endpoint"));
  std::string p = dir.Sub("pipeline");
  auto shown = RunDataforge({"config", "show"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  const std::string picture = "    - {name: picture, type: text, path: [picture.medium]}\n";
  std::string v2 = shown.out;
  size_t at = v2.find(picture);
  ASSERT_NE(at, std::string::npos) << v2;
  v2.insert(at + picture.size(), "    - {name: nationality, path: nat}\n");
  WriteFile(dir.Sub("v2.yaml"), v2);

  auto r =
      RunDataforge({"run", "--max-records", "500", "--store", cql.url(), "--data-dir", p}, 180000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunDataforge({"run", "--max-records", "500", "--config", dir.Sub("v2.yaml"), "--store",
                    cql.url(), "--data-dir", p},
                   180000);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  const std::string alter = "ALTER TABLE dataforge.created_users ADD nationality text";
  EXPECT_NE(r.err.find("run `" + alter + "` and start again"), std::string::npos) << r.err;

  std::string script = dir.Sub("alter.py");
  WriteFile(script, fmt::format(R"py(
from cassandra.cluster import Cluster
cluster = Cluster(['127.0.0.1'], port={}, protocol_version=4)
s = cluster.connect()
s.execute("{}")
print(sorted(cluster.metadata.keyspaces['dataforge'].tables['created_users'].columns))
cluster.shutdown()
)py",
                                cql.port(), alter));
  auto py = ChildProcess::Start({"/usr/bin/python3", script}).Wait(60000);
  ASSERT_EQ(py.exit_code, 0) << py.err;
  EXPECT_EQ(py.out,
            "['address', 'dob', 'email', 'first_name', 'gender', 'id', 'last_name', "
            "'nationality', 'phone', 'picture', 'post_code', 'registered_date', 'username']\n");

  r = RunDataforge({"run", "--max-records", "500", "--config", dir.Sub("v2.yaml"), "--store",
                    cql.url(), "--data-dir", p},
                   180000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto st = Status(p, {"--store", cql.url()});
  EXPECT_EQ(st.fetched, 1000);
  EXPECT_EQ(st.stored, 1000);
  // The rows stored before the column existed read it as null; the new ones have it.
  WriteFile(script, fmt::format(R"py(
from cassandra.cluster import Cluster
cluster = Cluster(['127.0.0.1'], port={}, protocol_version=4)
s = cluster.connect()
values = [r.nationality for r in s.execute("SELECT nationality FROM dataforge.created_users")]
print(len(values), sum(v is None for v in values), sum(v is not None and len(v) == 2 for v in values))
cluster.shutdown()
)py",
                                cql.port()));
  py = ChildProcess::Start({"/usr/bin/python3", script}).Wait(60000);
  ASSERT_EQ(py.exit_code, 0) << py.err;
  EXPECT_EQ(py.out, "1000 500 500\n");
}

TEST(CassandraTest, ConflictingTableAndBadUrlsAreOneLineErrors) {
  TempDir dir;
  CqlEndpoint cql(dir.Sub("endpoint"));
  std::string script = dir.Sub("create.py");
  WriteFile(script, fmt::format(R"py(
from cassandra.cluster import Cluster
cluster = Cluster(['127.0.0.1'], port={}, protocol_version=4)
s = cluster.connect()
s.execute("CREATE KEYSPACE dataforge WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}")
s.execute("CREATE TABLE dataforge.created_users (id uuid PRIMARY KEY, dob text)")
cluster.shutdown()
)py",
                                cql.port()));
  auto py = ChildProcess::Start({"/usr/bin/python3", script}).Wait(60000);
  ASSERT_EQ(py.exit_code, 0) << py.err;
  auto r = RunDataforge(
      {"run", "--max-records", "10", "--store", cql.url(), "--data-dir", dir.Sub("p")});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("column dob is text in Cassandra but the pipeline maps it as timestamp"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(SplitLines(r.err).size(), 1u) << r.err;

  auto bad =
      RunDataforge({"table", "count", "--store", "cassandra://", "--data-dir", dir.Sub("p")});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_EQ(SplitLines(bad.err).size(), 1u) << bad.err;
  auto refused = RunDataforge(
      {"table", "count", "--store", "cassandra://127.0.0.1:1", "--data-dir", dir.Sub("p")});
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_NE(refused.err.find("127.0.0.1:1"), std::string::npos) << refused.err;
}

}  // namespace
}  // namespace dataforge::testing
