// Issue 22 §1, values: a PostgreSQL 15 table with a column of every built-in type
// docs/postgresql.md lists (plus arrays, an enum, domains over boolean, json/jsonb, numeric
// extremes, NaN, ±Infinity, -0) is captured with the postgres_cdc source; after inserts, updates
// and a delete the store (RocksDB, and Cassandra through `dataforge cql-serve`) is compared with
// the table value by value, from PostgreSQL's own text of each value. python3-cassandra reads the
// decimal column back as an independent client.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <map>

#include <fmt/format.h>

#include "integration/cli_helpers.h"
#include "integration/cql_endpoint.h"
#include "integration/pg_server.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

constexpr const char* kTable = "app.vals";

// How a store column holds its PostgreSQL value (docs/postgresql.md, "Values").
enum class Kind {
  kText,       // a JSON string: PostgreSQL's text output exactly
  kBool,       // 't'/'f' -> true/false
  kInteger,    // the same digits as a JSON number
  kDouble,     // a JSON number equal as a double (sign of zero included), or "NaN"/"±Infinity"
  kTimestamp,  // "YYYY-MM-DDTHH:MM:SS.mmmZ": compared with PostgreSQL's own to_char of the value
};

struct Col {
  const char* name;  // store column
  const char* type;  // process.columns type
  const char* expr;  // SQL for the expected text (a column, or to_char for timestamps)
  Kind kind;
};

// The table: one column per type. Store columns map some source columns twice (as text and as
// their own type) to show what each column type keeps.
constexpr const char* kCreate = R"sql(
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN flag AS boolean;
CREATE DOMAIN flag2 AS flag;
CREATE TABLE vals(
  id bigint PRIMARY KEY, b bool, i2 int2, i4 int4, i8 int8, o oid, f4 float4, f8 float8,
  n numeric, t text, vc varchar(10), ch char(4), u uuid, d date, tm time, ts timestamp,
  tstz timestamptz, iv interval, bt bytea, j json, jb jsonb, ia int[], ta text[], e mood,
  dm flag, dm2 flag2);
)sql";

const std::vector<Col>& Columns() {
  static const std::vector<Col> cols = {
      {"b", "boolean", "b", Kind::kBool},
      {"i2", "int", "i2", Kind::kInteger},
      {"i4", "int", "i4", Kind::kInteger},
      {"i8", "bigint", "i8", Kind::kInteger},
      {"o", "bigint", "o", Kind::kInteger},
      {"f4", "double", "f4", Kind::kDouble},
      {"f8", "double", "f8", Kind::kDouble},
      {"f8_text", "text", "f8", Kind::kText},
      {"n_text", "text", "n", Kind::kText},
      {"n_dec", "decimal", "n", Kind::kText},
      {"t", "text", "t", Kind::kText},
      {"vc", "text", "vc", Kind::kText},
      {"ch", "text", "ch", Kind::kText},
      {"u", "uuid", "u", Kind::kText},
      {"d", "timestamp", R"(to_char(d, 'YYYY-MM-DD"T00:00:00.000Z"'))", Kind::kTimestamp},
      {"d_text", "text", "d", Kind::kText},
      {"tm", "text", "tm", Kind::kText},
      {"ts", "timestamp", R"(to_char(ts, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))", Kind::kTimestamp},
      {"ts_text", "text", "ts", Kind::kText},
      {"tstz", "timestamp", R"(to_char(tstz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))",
       Kind::kTimestamp},
      {"tstz_text", "text", "tstz", Kind::kText},
      {"iv", "text", "iv", Kind::kText},
      {"bt", "text", "bt", Kind::kText},  // "by" is a CQL keyword
      {"j", "text", "j", Kind::kText},
      {"jb", "text", "jb", Kind::kText},
      {"ia", "text", "ia", Kind::kText},
      {"ta", "text", "ta", Kind::kText},
      {"e", "text", "e", Kind::kText},
      {"dm", "boolean", "dm", Kind::kBool},
      {"dm2", "boolean", "dm2", Kind::kBool},
  };
  return cols;
}

std::string Config(const std::string& url) {
  std::string columns = "    - {name: id, type: bigint, path: data.id, required: true}\n";
  for (const Col& c : Columns()) {
    std::string source = c.name;
    source = source.substr(0, source.find('_'));
    columns += fmt::format("    - {{name: {}, type: {}, path: data.{}}}\n", c.name, c.type, source);
  }
  return fmt::format(R"(source:
  name: vals
  type: postgres_cdc
  url: {}
  tables: [public.vals]
log: {{topic: vals_changes}}
process:
  table: {}
  key_column: id
  delete_when: {{path: op, equals: delete}}
  columns:
{})",
                     url, kTable, columns);
}

const std::string kHuge = "1" + std::string(400, '0');  // numeric '1e400': beyond any double

// Inserts (row 3 has numeric NaN: its decimal column cannot hold it, so the row is
// dead-lettered naming that column), then updates and a delete: 9 change events.
std::string Changes() {
  return R"sql(
INSERT INTO vals VALUES
 (1, true, -32768, 2147483647, 9223372036854775807, 4294967295, 3.14, '-0',
  12345678901234567890.123456789, 'tab	"quote" \back', 'varchar', 'ab', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
  '2026-01-02', '03:04:05.123456', '2026-01-02 03:04:05.123456', '2026-01-02 03:04:05.987654+00',
  '1 year 2 mons 3 days 04:05:06.789', '\x0001ff', '{"a": {"b": [1, 2.50, 1e400]}, "n": null}',
  'null', '{1,2,3}', '{"a b",c,NULL}', 'happy', true, false),
 (2, false, 0, 0, 0, 0, 'NaN', 'NaN', 0.000000000000000000000000000001, '', '', '', NULL,
  '1970-01-01', '00:00:00', '1969-12-31 23:59:59.999999', '2026-06-30 23:59:59.5-08',
  '-1 days', '\x', '[18446744073709551616, -0, 1e-400]', '{"x": null, "big": 18446744073709551616}',
  '{}', '{}', 'sad', false, true),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'NaN', 'row three', NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (4, true, 1, 1, 1, 1, 'Infinity', 'Infinity', )sql" +
         kHuge + R"sql(, 'four', NULL, NULL, NULL, NULL, NULL,
  NULL, '2026-01-02 08:34:05.123456+05:30', NULL, NULL, '"just a string"', '[]', NULL, NULL, 'ok', NULL, NULL),
 (5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
UPDATE vals SET f8 = '-Infinity', f4 = '-0', n = -0.5, jb = '{"k": [true, null]}',
  tstz = '2030-12-31 23:59:59.999999+00', dm = NULL WHERE id = 4;
UPDATE vals SET n = -12345678901234567890.123456789000, t = 'updated', f8 = 1e300 WHERE id = 1;
DELETE FROM vals WHERE id = 2;
UPDATE vals SET b = false, jb = NULL, j = 'null', n = 1e400 WHERE id = 5;
UPDATE vals SET n = 7 WHERE id = 3;
)sql";
}

constexpr int64_t kEvents = 10;  // 5 inserts, 4 updates, 1 delete
constexpr int64_t kDeadLettered = 1;

// PostgreSQL's text of each expected value of row `id` (nullopt = NULL, or no such row).
std::optional<std::vector<std::optional<std::string>>> TableRow(PostgresServer& pg, int id) {
  std::string select;
  for (const Col& c : Columns()) select += std::string(select.empty() ? "" : ", ") + c.expr;
  std::string out = pg.Psql(fmt::format(
      "\\pset null '<NULL>'\n\\pset fieldsep '\x1e'\nSELECT {} FROM vals WHERE id = {};", select,
      id));
  if (out.empty()) return std::nullopt;
  std::vector<std::optional<std::string>> values;
  size_t start = 0;
  while (true) {
    size_t end = out.find('\x1e', start);
    std::string v = out.substr(start, end == std::string::npos ? std::string::npos : end - start);
    values.push_back(v == "<NULL>" ? std::nullopt : std::optional<std::string>(v));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  EXPECT_EQ(values.size(), Columns().size()) << out;
  return values;
}

// Compares one store value (a JSON element) with PostgreSQL's text of it; "" when equal, else
// what differs.
std::string Compare(const Col& c, const std::optional<std::string>& pg, simdjson::dom::element v) {
  auto differ = [&] {
    return fmt::format("column {}: table {}, store {}", c.name, pg ? "'" + *pg + "'" : "NULL",
                       simdjson::minify(v));
  };
  if (!pg) return v.is_null() ? "" : differ();
  switch (c.kind) {
    case Kind::kText:
    case Kind::kTimestamp:
      return v.is_string() && std::string(v.get_string().value()) == *pg ? "" : differ();
    case Kind::kBool:
      return v.is_bool() && v.get_bool().value() == (*pg == "t") ? "" : differ();
    case Kind::kInteger:
      return (v.is_int64() || v.is_uint64()) && simdjson::minify(v) == *pg ? "" : differ();
    case Kind::kDouble: {
      if (*pg == "NaN" || *pg == "Infinity" || *pg == "-Infinity") {
        return v.is_string() && std::string(v.get_string().value()) == *pg ? "" : differ();
      }
      if (!v.is_number()) return differ();
      const double want = std::stod(*pg), got = v.get_double().value();
      return want == got && std::signbit(want) == std::signbit(got) ? "" : differ();
    }
  }
  return differ();
}

// `table get` of every row id in 1..5 compared with the table; every difference, one a line.
std::string Differences(PostgresServer& pg, const std::vector<std::string>& where) {
  std::string diffs;
  for (int id = 1; id <= 5; ++id) {
    auto want = TableRow(pg, id);
    std::vector<std::string> args = {"table", "get", kTable, std::to_string(id)};
    args.insert(args.end(), where.begin(), where.end());
    auto r = RunDataforge(args);
    if (!want) {
      if (r.exit_code == 0)
        diffs += fmt::format("row {}: deleted in the table, stored: {}\n", id, r.out);
      continue;
    }
    if (r.exit_code != 0) {
      diffs += fmt::format("row {}: not in the store: {}\n", id, r.err);
      continue;
    }
    simdjson::dom::parser parser;
    simdjson::dom::element row;
    if (parser.parse(r.out).get(row) != simdjson::SUCCESS) {
      diffs += fmt::format("row {}: store row is not valid JSON: {}\n", id, r.out);
      continue;
    }
    for (size_t i = 0; i < Columns().size(); ++i) {
      simdjson::dom::element v;
      if (row[Columns()[i].name].get(v) != simdjson::SUCCESS) {
        diffs += fmt::format("row {}: column {} missing from {}\n", id, Columns()[i].name, r.out);
        continue;
      }
      std::string d = Compare(Columns()[i], (*want)[i], v);
      if (!d.empty()) diffs += fmt::format("row {}: {}\n", id, d);
    }
  }
  return diffs;
}

struct CdcRun {
  std::string data;                // the pipeline's data dir
  std::vector<std::string> extra;  // --config and the store flags, for the inspection commands
  std::vector<std::string> Where() const {
    std::vector<std::string> w = extra;
    w.push_back("--data-dir");
    w.push_back(data);
    return w;
  }
};

// Creates the table, runs the pipeline (with `store_flags`), makes the changes, waits until all
// are stored or dead-lettered, stops it, and checks the counts and the dead letter.
void CaptureChanges(PostgresServer& pg, TempDir& dir, const std::vector<std::string>& store_flags,
                    CdcRun* run) {
  // timestamptz is printed in the walsender's TimeZone: +05:30 here.
  pg.Psql(std::string(kCreate) + "ALTER DATABASE dataforge SET timezone = 'Asia/Kolkata';");
  std::string config = dir.Sub("vals.yaml");
  WriteFile(config, Config(pg.Url()));
  run->data = dir.Sub("data");
  run->extra = {"--config", config};
  run->extra.insert(run->extra.end(), store_flags.begin(), store_flags.end());
  std::vector<std::string> args = {"run"};
  for (const auto& a : run->Where()) args.push_back(a);
  auto child = StartDataforge(args);
  ASSERT_TRUE(WaitFor(
      [&] {
        return pg.Psql(
                   "SELECT count(*) FROM pg_replication_slots WHERE slot_name = "
                   "'dataforge_vals' AND active") == "1";
      },
      60))
      << child.Stderr();
  pg.Psql(Changes());
  bool failed = false;  // the run ended with an error: no need to wait
  ASSERT_TRUE(WaitFor(
      [&] {
        const std::string err = child.Stderr();
        failed = err.rfind("dataforge: ", 0) == 0 || err.find("\ndataforge: ") != std::string::npos;
        return failed || (StoredNow(run->data, run->extra) >= kEvents - kDeadLettered &&
                          Status(run->data, run->extra).dead_lettered >= kDeadLettered);
      },
      60))
      << child.Stderr();
  ASSERT_FALSE(failed) << child.Stderr();
  child.Signal(SIGTERM);
  auto r = child.Wait(60000);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  StatusJson s = Status(run->data, run->extra);
  EXPECT_EQ(s.fetched, kEvents);
  EXPECT_EQ(s.stored, kEvents - kDeadLettered);
  EXPECT_EQ(s.dead_lettered, kDeadLettered);
  auto dead = DeadLetters(run->data, run->extra);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_NE(dead[0].find(R"(column \"n_dec\": value \"NaN\" at data.n is not a decimal)"),
            std::string::npos)
      << dead[0];
}

std::string Get(const CdcRun& run, int id) {
  std::vector<std::string> args = {"table", "get", kTable, std::to_string(id)};
  for (const auto& a : run.Where()) args.push_back(a);
  auto r = RunDataforge(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

TEST(CdcValuesTest, EveryTypeArrivesUnchangedInTheEmbeddedStore) {
  PostgresServer pg;
  TempDir dir;
  CdcRun run;
  CaptureChanges(pg, dir, {}, &run);
  EXPECT_EQ(Differences(pg, run.Where()), "");
  // Spot checks of the exact bytes stored for the values the issue names.
  std::string row = Get(run, 1);
  EXPECT_NE(row.find(R"("n_dec":"-12345678901234567890.123456789000")"), std::string::npos) << row;
  EXPECT_NE(row.find(R"("jb":"null")"), std::string::npos) << row;
  row = Get(run, 4);
  EXPECT_NE(row.find(R"("f4":-0.0,"f8":"-Infinity")"), std::string::npos) << row;
  EXPECT_NE(
      row.find(
          R"("tstz":"2030-12-31T23:59:59.999Z","tstz_text":"2031-01-01 05:29:59.999999+05:30")"),
      std::string::npos)
      << row;
  row = Get(run, 5);
  EXPECT_NE(row.find(R"("n_text":")" + kHuge + "\""), std::string::npos) << row;
  EXPECT_NE(row.find(R"("n_dec":")" + kHuge + "\""), std::string::npos) << row;
  EXPECT_NE(row.find(R"("j":"null","jb":null)"), std::string::npos) << row;
}

TEST(CdcValuesTest, EveryTypeArrivesUnchangedInCassandra) {
  PostgresServer pg;
  TempDir dir;
  CqlEndpoint cql(dir.Sub("endpoint"));
  CdcRun run;
  CaptureChanges(pg, dir, {"--store", cql.url()}, &run);
  EXPECT_EQ(Differences(pg, run.Where()), "");
  // An independent driver reads the decimal column: every digit.
  std::string script = dir.Sub("read.py");
  WriteFile(script, fmt::format(R"py(
from cassandra.cluster import Cluster
cluster = Cluster(['127.0.0.1'], port={}, protocol_version=4)
session = cluster.connect()
for row in sorted(session.execute('SELECT id, n_dec FROM {}')):
    print(row.id, 'null' if row.n_dec is None else format(row.n_dec, 'f'))
cluster.shutdown()
)py",
                                cql.port(), kTable));
  auto p = ChildProcess::Start({"/usr/bin/python3", script});
  auto r = p.Wait(60000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1 -12345678901234567890.123456789000\n3 7\n4 -0.5\n5 " + kHuge + "\n");
}

}  // namespace
}  // namespace dataforge::testing
