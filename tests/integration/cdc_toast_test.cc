// Issue 22: an UPDATE that does not touch a TOASTed column sends no value for it (pgoutput's
// "unchanged TOAST" 'u'), and the store used to lose the column. Against a real PostgreSQL 15:
// a row with a large random text and a large bytea (stored out of line), then an UPDATE of
// another column, of the large text, and the large text SET NULL; after each the store row is
// compared whole, on the embedded RocksDB store and on the Cassandra store (`cql-serve`).
#include <signal.h>

#include <gtest/gtest.h>

#include <optional>

#include <fmt/format.h>

#include "integration/cli_helpers.h"
#include "integration/pg_server.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

std::string CdcConfig(const std::string& url) {
  return fmt::format(R"(source:
  name: docs
  type: postgres_cdc
  url: {}
  tables: [public.docs]
log: {{topic: docs_changes, partitions: 2}}
process:
  table: app.docs
  key_column: id
  delete_when: {{path: op, equals: delete}}
  columns:
    - {{name: id, type: bigint, path: data.id, required: true}}
    - {{name: title, path: data.title}}
    - {{name: body, path: data.body}}
    - {{name: blob, path: data.blob}}
tuning: {{batch_records: 100}}
)",
                     url);
}

// `dataforge cql-serve` over a data dir of its own, as the Cassandra store.
class CqlServe {
 public:
  explicit CqlServe(const std::string& data_dir)
      : process_(StartDataforge({"cql-serve", "--port", "0", "--data-dir", data_dir})) {
    const std::string marker = "listening on 127.0.0.1:";
    std::string all;
    EXPECT_TRUE(WaitFor(
        [&] {
          all = process_.Stdout() + process_.Stderr();
          return all.find(marker) != std::string::npos;
        },
        30))
        << all;
    if (auto at = all.find(marker); at != std::string::npos) {
      port_ = std::stoi(all.substr(at + marker.size()));
    }
  }
  ~CqlServe() {
    process_.Signal(SIGTERM);
    process_.Wait(30000);
  }
  std::string url() const { return fmt::format("cassandra://127.0.0.1:{}", port_); }

 private:
  ChildProcess process_;
  int port_ = 0;
};

class CdcToastTest : public ::testing::TestWithParam<bool> {
 protected:
  // The row as the store holds it, through `dataforge table get`.
  std::string StoreRow(const std::string& id) {
    auto r = RunDataforge(Args({"table", "get", "app.docs", id}));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.empty() ? r.out : r.out.substr(0, r.out.size() - 1);  // without its newline
  }
  std::vector<std::string> Args(std::vector<std::string> args) {
    args.insert(args.end(), {"--config", config_, "--data-dir", data_});
    if (!store_.empty()) args.insert(args.end(), {"--store", store_});
    return args;
  }
  void WaitForStored(int64_t n, ChildProcess& run) {
    std::vector<std::string> extra = {"--config", config_};
    if (!store_.empty()) extra.insert(extra.end(), {"--store", store_});
    int64_t stored = -1;
    ASSERT_TRUE(WaitFor(
        [&] {
          stored = StoredNow(data_, extra);
          return stored >= n;
        },
        60))
        << "stored " << stored << " of " << n << ": " << run.Stderr();
    ASSERT_EQ(stored, n);
  }

  std::string config_, data_, store_;
};

// `{"id":ID,"title":...,"body":...,"blob":...}` as the mapping writes it; nullopt = null.
std::string Row(int id, const std::string& title, const std::optional<std::string>& body,
                const std::string& blob_hex) {
  return fmt::format(R"({{"id":{},"title":"{}","body":{},"blob":"\\x{}"}})", id, title,
                     body ? "\"" + *body + "\"" : "null", blob_hex);
}

TEST_P(CdcToastTest, UpdatesThatLeaveToastedColumnsOutKeepThem) {
  const bool cassandra = GetParam();
  PostgresServer pg;
  TempDir dir;
  std::optional<CqlServe> cql;
  if (cassandra) {
    cql.emplace(dir.Sub("cassandra"));
    store_ = cql->url();
  }
  // Random text and bytes do not compress below the ~2 kB TOAST threshold: PostgreSQL stores
  // the 9,600-character texts and the 4,800-byte blobs out of line.
  pg.Psql(
      "CREATE TABLE docs(id bigint PRIMARY KEY, title text, body text, blob bytea);"
      "CREATE TABLE big AS SELECT n, "
      "  (SELECT string_agg(md5(random()::text || n || g), '') "
      "     FROM generate_series(1, 300) g) AS hex "
      "FROM generate_series(1, 3) n;");
  std::vector<std::string> big;  // random hex: a body as it is, a blob's bytes once decoded
  for (int n = 1; n <= 3; ++n) {
    big.push_back(pg.Psql(fmt::format("SELECT hex FROM big WHERE n = {}", n)));
    ASSERT_EQ(big.back().size(), 9600u);
  }

  config_ = dir.Sub("cdc.yaml");
  data_ = dir.Sub("data");
  WriteFile(config_, CdcConfig(pg.Url()));
  auto run = StartDataforge(Args({"run"}));
  ASSERT_TRUE(WaitFor(
      [&] {
        return pg.Psql(
                   "SELECT count(*) FROM pg_replication_slots "
                   "WHERE slot_name='dataforge_docs' AND active") == "1";
      },
      60))
      << run.Stderr();

  pg.Psql(
      "INSERT INTO docs SELECT 1, 't1', hex, (SELECT decode(hex, 'hex') FROM big WHERE n = 3) "
      "  FROM big WHERE n = 1;"
      "INSERT INTO docs SELECT 2, 'other', hex, decode(hex, 'hex') FROM big WHERE n = 2;");
  // Both large values of both rows are out of line (the TOAST table has their chunks).
  EXPECT_EQ(pg.Psql("SELECT count(DISTINCT chunk_id) FROM pg_toast.pg_toast_" +
                    pg.Psql("SELECT oid FROM pg_class WHERE relname = 'docs'")),
            "4");
  WaitForStored(2, run);
  EXPECT_EQ(StoreRow("1"), Row(1, "t1", big[0], big[2]));
  EXPECT_EQ(StoreRow("2"), Row(2, "other", big[1], big[1]));

  // An UPDATE of another column: the event carries neither body nor blob; both stay.
  pg.Psql("UPDATE docs SET title = 't2' WHERE id = 1");
  WaitForStored(3, run);
  EXPECT_EQ(StoreRow("1"), Row(1, "t2", big[0], big[2]));

  // An UPDATE of the large text: the new text, the blob stays.
  pg.Psql("UPDATE docs SET body = (SELECT hex FROM big WHERE n = 3) WHERE id = 1");
  WaitForStored(4, run);
  EXPECT_EQ(StoreRow("1"), Row(1, "t2", big[2], big[2]));

  // SET NULL is an explicit null: it clears the column.
  pg.Psql("UPDATE docs SET body = NULL WHERE id = 1");
  WaitForStored(5, run);
  EXPECT_EQ(StoreRow("1"), Row(1, "t2", std::nullopt, big[2]));
  EXPECT_EQ(StoreRow("2"), Row(2, "other", big[1], big[1]));

  run.Signal(SIGTERM);
  auto r = run.Wait(60000);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> extra = {"--config", config_};
  if (!store_.empty()) extra.insert(extra.end(), {"--store", store_});
  StatusJson s = Status(data_, extra);
  EXPECT_EQ(s.stored, 5);
  EXPECT_EQ(s.dead_lettered, 0);
}

INSTANTIATE_TEST_SUITE_P(Stores, CdcToastTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Cassandra" : "RocksDb"; });

}  // namespace
}  // namespace dataforge::testing
