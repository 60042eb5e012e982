// Every command README.md shows, run in the order it shows them, on a fresh directory, against
// the real binary: each must exit 0 with the expected output (exact where it is deterministic:
// counts, ids, table names). The commands are read from README.md itself (the lines of its
// ```sh blocks): a command added to README without a step here fails the test, naming it.
//
// Where README names a server that is not here, the test substitutes one that is, as README
// itself suggests:
//  - Kafka broker1:9092,broker2:9092: librdkafka's mock brokers (MockKafkaCluster);
//  - PostgreSQL localhost:5432: a throwaway PostgreSQL 15 (PostgresServer) with the role `user`
//    (password `password`) and the database `pipeline` that README's URL names;
//  - Cassandra 10.0.0.1:9042,10.0.0.2:9042: `dataforge cql-serve` over a data dir of its own;
//  - https://randomuser.me/api/: there is no network here, so the built-in mock API
//    (`dataforge mock-api`) on loopback answers the same path and query instead;
//  - fixed ports (8080, 9042) become free ones: other tests run at the same time;
//  - $PWD/../shared/fixtures (README runs from the repository root) is the fixtures dir.
// Commands that run until Ctrl-C run in the background and are stopped with SIGINT, which
// must end them cleanly (exit 0).
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <httplib.h>
#include <simdjson.h>

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <sstream>

#include <fmt/format.h>

#include "integration/cli_helpers.h"
#include "integration/kafka_cluster.h"
#include "integration/pg_server.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

namespace fs = std::filesystem;

constexpr int kStepTimeoutMs = 400000;

// Each line of README's ```sh blocks, without its comment, trimmed; blank lines dropped.
std::vector<std::string> ReadmeCommands() {
  std::string text = ReadFile(std::string(DATAFORGE_SOURCE_DIR) + "/README.md");
  EXPECT_FALSE(text.empty()) << "cannot read README.md";
  std::vector<std::string> out;
  bool in_sh = false;
  for (const std::string& line : SplitLines(text)) {
    if (!in_sh) {
      in_sh = line == "```sh";
      continue;
    }
    if (line.rfind("```", 0) == 0) {
      in_sh = false;
      continue;
    }
    // A comment starts at a '#' after a blank, outside quotes.
    std::string cmd;
    char quote = 0;
    for (size_t i = 0; i < line.size(); ++i) {
      char c = line[i];
      if (quote) {
        if (c == quote) quote = 0;
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '#' && (i == 0 || line[i - 1] == ' ')) {
        break;
      }
      cmd += c;
    }
    while (!cmd.empty() && cmd.back() == ' ') cmd.pop_back();
    size_t start = cmd.find_first_not_of(' ');
    if (start != std::string::npos) out.push_back(cmd.substr(start));
  }
  return out;
}

// One simple command of a README line: its words (quotes removed) and where `>` sends stdout.
struct ShellCommand {
  std::vector<std::string> argv;
  std::string stdout_file;
};

// Splits `line` into simple commands at `&&`. Words as sh forms them from '…', "…" and bare
// text; README's commands use no other shell syntax, and a `$` left unexpanded (after the
// test's substitutions) fails the test rather than being passed on literally.
std::vector<ShellCommand> ParseShell(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (char c : line) {
    if (quote) {
      if (c == quote) {
        quote = 0;
      } else {
        word += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == ' ') {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
    } else {
      if (c == '$') ADD_FAILURE() << "unexpanded $ in README command: " << line;
      word += c;
      in_word = true;
    }
  }
  EXPECT_EQ(quote, 0) << "unbalanced quote in README command: " << line;
  if (in_word) words.push_back(word);
  std::vector<ShellCommand> out(1);
  for (size_t i = 0; i < words.size(); ++i) {
    if (words[i] == "&&") {
      out.emplace_back();
    } else if (words[i] == ">" && i + 1 < words.size()) {
      out.back().stdout_file = words[++i];
    } else {
      out.back().argv.push_back(words[i]);
    }
  }
  return out;
}

// The numbers of a run summary's line `  <name>  <this run>  <data dir total>`.
std::pair<int64_t, int64_t> SummaryLine(const std::string& out, const std::string& name) {
  std::pair<int64_t, int64_t> v{-1, -1};
  size_t at = out.find("\n  " + name + " ");
  if (at == std::string::npos ||
      !(std::istringstream(out.substr(at + 3 + name.size())) >> v.first >> v.second)) {
    ADD_FAILURE() << "no '" << name << "' line in the run summary:\n" << out;
  }
  return v;
}

std::vector<std::string> Words(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

bool AllDigits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// `dags list`'s row of the default DAG before any run: next run due at a midnight (UTC), no
// last state, one task.
void ExpectFreshDagRow(const std::string& row) {
  auto w = Words(row);
  ASSERT_EQ(w.size(), 6u) << row;
  EXPECT_EQ(w[0], "user_automation");
  EXPECT_EQ(w[1], "@daily");
  EXPECT_EQ(w[2], "no");
  EXPECT_EQ(w[3].size(), 25u) << w[3];
  EXPECT_TRUE(w[3].ends_with("T00:00:00+00:00")) << w[3];
  EXPECT_EQ(w[4], "-");
  EXPECT_EQ(w[5], "1");
}

int64_t JsonInt(const std::string& json, const char* key) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  int64_t v = -1;
  if (parser.parse(json).get(doc) != simdjson::SUCCESS || doc[key].get(v) != simdjson::SUCCESS) {
    ADD_FAILURE() << "no integer " << key << " in " << json;
  }
  return v;
}

size_t FixtureRecords(const std::string& path) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array results;
  if (parser.load(path).get(doc) != simdjson::SUCCESS ||
      doc["results"].get(results) != simdjson::SUCCESS) {
    ADD_FAILURE() << "cannot read the results of " << path;
    return 0;
  }
  return results.size();
}

// Runs the test in `dir` and returns to where it was (the children inherit the working dir).
class ScopedCwd {
 public:
  explicit ScopedCwd(const std::string& dir) : old_(fs::current_path()) { fs::current_path(dir); }
  ~ScopedCwd() { fs::current_path(old_); }

 private:
  fs::path old_;
};

// A child that prints `marker` followed by the port it listens on; returns that port (0 on
// time-out, after a test failure).
int WaitListening(ChildProcess& child, const std::string& marker) {
  bool up = WaitFor(
      [&] { return (child.Stdout() + child.Stderr()).find(marker) != std::string::npos; }, 60);
  std::string all = child.Stdout() + child.Stderr();
  EXPECT_TRUE(up) << "no '" << marker << "' from the child:\n" << all;
  if (!up) return 0;
  return std::stoi(all.substr(all.find(marker) + marker.size()));
}

// SIGINT (README's Ctrl-C), then the exit status: a clean stop exits 0.
ProcessResult Interrupt(ChildProcess& child) {
  child.Signal(SIGINT);
  auto r = child.Wait(180000);
  EXPECT_EQ(r.exit_code, 0) << "after SIGINT; stderr:\n" << r.err;
  return r;
}

// The README's world: a fresh directory to run in and the stand-in servers.
class Flow {
 public:
  Flow()
      : work_(root_.Sub("work")),
        cassandra_dir_(root_.Sub("cassandra")),
        empty_dir_(root_.Sub("empty")),
        kafka_(3) {
    fs::create_directories(work_);
    fs::create_directories(empty_dir_);
    // README's PostgreSQL URL, as a server would have it.
    pg_.Psql("CREATE ROLE \"user\" LOGIN SUPERUSER PASSWORD 'password'; CREATE DATABASE pipeline");
    // The stand-in Cassandra cluster.
    cassandra_.emplace(StartDataforge({"cql-serve", "--port", "0", "--data-dir", cassandra_dir_}));
    cassandra_port_ = WaitListening(*cassandra_, "listening on 127.0.0.1:");
    // The stand-in for https://randomuser.me.
    api_.emplace(StartDataforge({"mock-api", "--port", "0"}));
    api_port_ = WaitListening(*api_, "serving http://127.0.0.1:");
    cql_serve_port_ = FreePort();
    cql_run_port_ = FreePort();
    mock_api_port_ = FreePort();
    substitutions_ = {
        {"$PWD/../shared/fixtures/randomuser", DATAFORGE_FIXTURES_DIR},
        {"https://randomuser.me/api/", fmt::format("http://127.0.0.1:{}/api/", api_port_)},
        {"broker1:9092,broker2:9092", kafka_.bootstrap()},
        {"broker1:9092", kafka_.bootstrap()},
        {"localhost:5432", fmt::format("127.0.0.1:{}", pg_.port())},
        {"10.0.0.1:9042,10.0.0.2:9042", fmt::format("127.0.0.1:{}", cassandra_port_)},
        {"10.0.0.1:9042", fmt::format("127.0.0.1:{}", cassandra_port_)},
        {"cql-serve --port 9042", fmt::format("cql-serve --port {}", cql_serve_port_)},
        {"--cql-port 9042", fmt::format("--cql-port {}", cql_run_port_)},
        {"port=9042", fmt::format("port={}", cql_run_port_)},
        {"--port 8080", fmt::format("--port {}", mock_api_port_)},
    };
  }

  const std::string& work() const { return work_; }
  const std::string& empty_dir() const { return empty_dir_; }
  const MockKafkaCluster& kafka() const { return kafka_; }
  PostgresServer& pg() { return pg_; }
  int cassandra_port() const { return cassandra_port_; }
  int cql_serve_port() const { return cql_serve_port_; }
  int cql_run_port() const { return cql_run_port_; }
  int mock_api_port() const { return mock_api_port_; }

  std::string Substitute(std::string line) const {
    for (const auto& [from, to] : substitutions_) {
      for (size_t at = line.find(from); at != std::string::npos;
           at = line.find(from, at + to.size())) {
        line.replace(at, from.size(), to);
      }
    }
    return line;
  }

  // Runs every simple command of README's `line` in turn (after the substitutions), as sh
  // would with `&&`: stops after the first that fails.
  std::vector<ProcessResult> Run(const std::string& line, int timeout_ms = kStepTimeoutMs) {
    std::vector<ProcessResult> out;
    for (const ShellCommand& cmd : ParseShell(Substitute(line))) {
      ProcessResult r = Start(cmd.argv).Wait(timeout_ms);
      if (!cmd.stdout_file.empty()) WriteFile(cmd.stdout_file, r.out);
      out.push_back(r);
      if (r.exit_code != 0) break;
    }
    return out;
  }
  // The one command of `line`, which must exit 0.
  ProcessResult RunOk(const std::string& line, int timeout_ms = kStepTimeoutMs) {
    auto results = Run(line, timeout_ms);
    EXPECT_EQ(results.size(), 1u) << line;
    ProcessResult r = results.empty() ? ProcessResult{} : results.back();
    EXPECT_EQ(r.exit_code, 0) << line << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err;
    return r;
  }
  // Starts README's `line` (one command) in the background as `name`.
  ChildProcess& StartBackground(const std::string& name, const std::string& line) {
    auto cmds = ParseShell(Substitute(line));
    EXPECT_EQ(cmds.size(), 1u) << line;
    return background_.emplace(name, Start(cmds.at(0).argv)).first->second;
  }
  ChildProcess& Background(const std::string& name) { return background_.at(name); }
  void Forget(const std::string& name) { background_.erase(name); }

  // `dataforge ARGS...` of the test's own (checks between README's steps).
  ProcessResult Dataforge(const std::vector<std::string>& args) {
    return RunDataforge(args, kStepTimeoutMs);
  }
  std::string StatusJsonText(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"status", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = Dataforge(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  // What the steps learn and later steps check against.
  int64_t fetched = 0;  // the default data dir's fetched total
  int64_t store_rows = -1;
  int64_t staging_rows = -1;
  int64_t dead_lettered = -1;
  int64_t ingest_fetched = -1;  // the Kafka ingest role's data dir
  int64_t cassandra_rows = -1;

 private:
  // "dataforge" is the binary under test; "python3" is Debian's (with python3-cassandra).
  ChildProcess Start(std::vector<std::string> argv) {
    EXPECT_FALSE(argv.empty());
    if (argv.empty()) argv = {"true"};
    if (argv[0] == "dataforge") {
      return StartDataforge(std::vector<std::string>(argv.begin() + 1, argv.end()));
    }
    if (argv[0] == "python3") argv[0] = "/usr/bin/python3";
    return ChildProcess::Start(argv);
  }

  TempDir root_;
  std::string work_, cassandra_dir_, empty_dir_;
  MockKafkaCluster kafka_;
  PostgresServer pg_;
  std::optional<ChildProcess> cassandra_, api_;
  int cassandra_port_ = 0, api_port_ = 0;
  int cql_serve_port_ = 0, cql_run_port_ = 0, mock_api_port_ = 0;
  std::vector<std::pair<std::string, std::string>> substitutions_;
  std::map<std::string, ChildProcess> background_;
};

// The default data dir's totals after a step: balanced, and `fetched` what the steps counted.
void ExpectBalanced(Flow& f) {
  std::string json = f.StatusJsonText();
  int64_t fetched = JsonInt(json, "fetched");
  EXPECT_EQ(fetched, f.fetched) << json;
  EXPECT_EQ(JsonInt(json, "stored") + JsonInt(json, "dead_lettered"), fetched) << json;
}

// A command that runs until Ctrl-C: started, left running until the data dir's `fetched` grew
// (as `status` sees it), then stopped with SIGINT. Returns the stopped run's summary.
std::string RunUntilFetchedGrows(Flow& f, const std::string& line) {
  auto& child = f.StartBackground("run", line);
  int64_t before = f.fetched;
  bool grew = WaitFor(
      [&] {
        auto r = RunDataforge({"status", "--json"}, 30000);
        return r.exit_code == 0 && JsonInt(r.out, "fetched") > before;
      },
      120);
  EXPECT_TRUE(grew) << line << ": fetched stayed at " << before << "\n" << child.Stderr();
  auto r = Interrupt(child);
  f.Forget("run");
  EXPECT_NE(r.out.find("dataforge run: "), std::string::npos) << r.out;
  f.fetched = SummaryLine(r.out, "fetched").second;
  EXPECT_GT(f.fetched, before);
  return r.out;
}

struct Step {
  std::string command;  // exactly as README shows it, without its comment
  std::function<void(Flow&, const std::string&)> run;
};

std::vector<Step> Steps() {
  return {
      // --- The two commands.
      {"scripts/run.sh",
       [](Flow& f, const std::string&) {
         // scripts/run.sh installs packages, builds (the binary under test) and then runs
         // exactly `dataforge run --max-records 100000`: that is what runs here.
         std::string script = ReadFile(std::string(DATAFORGE_SOURCE_DIR) + "/scripts/run.sh");
         ASSERT_NE(script.find("\nexec build/src/dataforge run --max-records 100000\n"),
                   std::string::npos)
             << "scripts/run.sh changed: update this step";
         auto r = f.RunOk("dataforge run --max-records 100000");
         EXPECT_EQ(SummaryLine(r.out, "fetched"), std::make_pair(int64_t{100000}, int64_t{100000}));
         EXPECT_NE(r.out.find("stored + dead-lettered == fetched: yes"), std::string::npos)
             << r.out;
         f.fetched = 100000;
         ExpectBalanced(f);
         // Issue 14: the DAG commands work right after it, though no scheduler ran.
         auto dags = f.Dataforge({"dags", "list"});
         EXPECT_EQ(dags.exit_code, 0) << dags.err;
         auto lines = SplitLines(dags.out);
         ASSERT_EQ(lines.size(), 2u) << dags.out;
         EXPECT_EQ(lines[0].rfind("DAG ", 0), 0u) << dags.out;
         ExpectFreshDagRow(lines[1]);
         auto runs = f.Dataforge({"runs", "list"});
         EXPECT_EQ(runs.exit_code, 0) << runs.err;
         EXPECT_EQ(runs.out,
                   "no runs yet; `dataforge dags trigger DAG` queues one, and the scheduler in "
                   "`dataforge run` starts scheduled ones\n");
       }},
      {"scripts/test.sh",
       [](Flow&, const std::string&) {
         // Not run: it runs this test (and every other one).
         EXPECT_EQ(access((std::string(DATAFORGE_SOURCE_DIR) + "/scripts/test.sh").c_str(), X_OK),
                   0);
       }},
      // --- Using it.
      {"export PATH=$PWD/build/src:$PATH",
       [](Flow&, const std::string&) {
         // The steps run the binary by its path: the build under test.
         EXPECT_TRUE(std::string(DATAFORGE_BIN).ends_with("/src/dataforge")) << DATAFORGE_BIN;
       }},
      {"dataforge run --max-records 10000",
       [](Flow& f, const std::string& line) {
         auto r = f.RunOk(line);
         EXPECT_EQ(SummaryLine(r.out, "fetched"),
                   std::make_pair(int64_t{10000}, f.fetched + 10000));
         f.fetched += 10000;
         ExpectBalanced(f);
       }},
      {"dataforge run",
       [](Flow& f, const std::string& line) {
         RunUntilFetchedGrows(f, line);
         ExpectBalanced(f);  // SIGINT drains
       }},
      {"dataforge run --source-url file://$PWD/../shared/fixtures/randomuser/v1.4-persona-gen.json",
       [](Flow& f, const std::string& line) {
         auto n = static_cast<int64_t>(
             FixtureRecords(std::string(DATAFORGE_FIXTURES_DIR) + "/v1.4-persona-gen.json"));
         ASSERT_GT(n, 0);
         auto r = f.RunOk(line);  // a file:// source ends by itself
         EXPECT_EQ(SummaryLine(r.out, "fetched"), std::make_pair(n, f.fetched + n));
         f.fetched += n;
         ExpectBalanced(f);
       }},
      {"dataforge run --source-url 'https://randomuser.me/api/?results=500'",
       [](Flow& f, const std::string& line) {
         // No network here: the built-in mock API on loopback answers instead (see the top).
         std::string out = RunUntilFetchedGrows(f, line);
         EXPECT_NE(out.find(fmt::format("from http://127.0.0.1:")), std::string::npos) << out;
         ExpectBalanced(f);
       }},
      {"dataforge status",
       [](Flow& f, const std::string& line) {
         auto r = f.RunOk(line);
         EXPECT_NE(r.out.find(fmt::format("  fetched        {:>12}\n", f.fetched)),
                   std::string::npos)
             << r.out;
         EXPECT_NE(r.out.find("  stored + dead-lettered == fetched: yes\n"), std::string::npos)
             << r.out;
       }},
      {"dataforge status --json",
       [](Flow& f, const std::string& line) {
         auto r = f.RunOk(line);
         EXPECT_EQ(JsonInt(r.out, "fetched"), f.fetched);
         f.store_rows = JsonInt(r.out, "store_rows");
         f.staging_rows = JsonInt(r.out, "staging_rows");
         f.dead_lettered = JsonInt(r.out, "dead_lettered");
         EXPECT_EQ(JsonInt(r.out, "stored") + f.dead_lettered, f.fetched);
         EXPECT_GE(f.store_rows, 110000);
         EXPECT_EQ(JsonInt(r.out, "log_lag"), 0);
       }},
      {"dataforge table count dataforge.created_users",
       [](Flow& f, const std::string& line) {
         EXPECT_EQ(f.RunOk(line).out, fmt::format("{}\n", f.store_rows));
       }},
      {"dataforge table scan dataforge.created_users --limit 3",
       [](Flow& f, const std::string& line) {
         auto lines = SplitLines(f.RunOk(line).out);
         ASSERT_EQ(lines.size(), 3u);
         std::vector<std::string> ids;
         for (const auto& l : lines) ids.push_back(JsonField(l, "id"));
         for (const auto& id : ids) EXPECT_EQ(id.size(), 36u) << id;
         EXPECT_LT(ids[0], ids[1]);  // key order
         EXPECT_LT(ids[1], ids[2]);
       }},
      {"dataforge table get dataforge.created_users 91c38129-e067-4af8-8705-7d8376747cef",
       [](Flow& f, const std::string& line) {
         // The first user of the v1.4 capture that README's file:// run loaded.
         std::string row = f.RunOk(line).out;
         EXPECT_EQ(JsonField(row, "id"), "91c38129-e067-4af8-8705-7d8376747cef");
         EXPECT_EQ(JsonField(row, "first_name"), "Mathis");
         EXPECT_EQ(JsonField(row, "email"), "mathis.berthelsen@example.com");
       }},
      {"dataforge topic list",
       [](Flow& f, const std::string& line) { EXPECT_EQ(f.RunOk(line).out, "users_created\n"); }},
      {"dataforge topic describe users_created",
       [](Flow& f, const std::string& line) {
         auto lines = SplitLines(f.RunOk(line).out);
         ASSERT_EQ(lines.size(), 4u);  // log.partitions: 4
         int64_t records = 0;
         for (size_t p = 0; p < lines.size(); ++p) {
           EXPECT_EQ(JsonField(lines[p], "topic"), "users_created");
           EXPECT_EQ(JsonInt(lines[p], "partition"), static_cast<int64_t>(p));
           EXPECT_EQ(JsonInt(lines[p], "lag"), 0) << lines[p];  // everything is processed
           records += JsonInt(lines[p], "end_offset") - JsonInt(lines[p], "start_offset");
         }
         EXPECT_GE(records, f.fetched - f.dead_lettered);
       }},
      {"dataforge topic consume users_created --from-beginning --max 5",
       [](Flow& f, const std::string& line) {
         auto lines = SplitLines(f.RunOk(line).out);
         ASSERT_EQ(lines.size(), 5u);
         for (const auto& l : lines) {
           EXPECT_EQ(JsonField(l, "topic"), "users_created");
           EXPECT_EQ(JsonField(l, "key").size(), 36u) << l;
         }
       }},
      {"dataforge staging count",
       [](Flow& f, const std::string& line) {
         EXPECT_EQ(f.RunOk(line).out, fmt::format("{}\n", f.staging_rows));
       }},
      {"dataforge deadletter list --limit 10",
       [](Flow& f, const std::string& line) {
         auto lines = SplitLines(f.RunOk(line).out);
         EXPECT_EQ(static_cast<int64_t>(lines.size()), std::min<int64_t>(10, f.dead_lettered));
         for (const auto& l : lines) EXPECT_FALSE(JsonField(l, "reason").empty()) << l;
       }},
      {"dataforge config show",
       [](Flow& f, const std::string& line) {
         std::string out = f.RunOk(line).out;
         EXPECT_EQ(out.rfind("# effective pipeline (built-in default)\n", 0), 0u) << out;
         EXPECT_NE(out.find("table: dataforge.created_users"), std::string::npos) << out;
         EXPECT_NE(out.find("user_automation"), std::string::npos) << out;
       }},
      {"dataforge config show > my-pipeline.yaml",
       [](Flow& f, const std::string& line) {
         f.RunOk(line);
         EXPECT_EQ(ReadFile("my-pipeline.yaml"), f.Dataforge({"config", "show"}).out);
       }},
      {"dataforge config check my-pipeline.yaml",
       [](Flow& f, const std::string& line) {
         std::string out = f.RunOk(line).out;
         std::string head = "my-pipeline.yaml: ok (";
         std::string tail =
             " columns into dataforge.created_users, topic users_created with 4 "
             "partitions)\n";
         ASSERT_TRUE(out.starts_with(head) && out.ends_with(tail)) << out;
         EXPECT_TRUE(AllDigits(out.substr(head.size(), out.size() - head.size() - tail.size())))
             << out;
       }},
      {"dataforge mock-api --port 8080",
       [](Flow& f, const std::string& line) {
         auto& child = f.StartBackground("mock-api", line);
         int port = WaitListening(child, "serving http://127.0.0.1:");
         EXPECT_EQ(port, f.mock_api_port());
         httplib::Client client("127.0.0.1", port);
         auto res = client.Get("/api/?results=3&seed=readme");
         ASSERT_TRUE(res) << "no answer from mock-api";
         EXPECT_EQ(res->status, 200);
         EXPECT_EQ(ResultUuids(res->body).size(), 3u);
         Interrupt(child);
         f.Forget("mock-api");
       }},
      // --- Scheduled DAGs.
      {"dataforge dags list",
       [](Flow& f, const std::string& line) {
         auto lines = SplitLines(f.RunOk(line).out);
         ASSERT_EQ(lines.size(), 2u);
         EXPECT_EQ(lines[0].rfind("DAG ", 0), 0u);
         EXPECT_EQ(lines[1].rfind("user_automation ", 0), 0u);
       }},
      {"dataforge dags trigger user_automation --wait",
       [](Flow& f, const std::string& line) {
         std::string out = f.RunOk(line).out;
         auto lines = SplitLines(out);
         ASSERT_EQ(lines.size(), 2u) << out;
         auto w = Words(lines[0]);  // run N of DAG user_automation queued (logical date …)
         ASSERT_EQ(w.size(), 9u) << out;
         EXPECT_TRUE(AllDigits(w[1])) << out;
         EXPECT_EQ(lines[0].substr(4 + w[1].size()),
                   " of DAG user_automation queued (logical date " + w[8]);
         EXPECT_EQ(lines[1], "run " + w[1] + ": success");
       }},
      {"dataforge dags backfill user_automation --from 2026-01-01 --to 2026-01-30",
       [](Flow& f, const std::string& line) {
         std::string out = f.RunOk(line).out;
         EXPECT_NE(out.find("backfill user_automation: 30 intervals from 2026-01-01 to "
                            "2026-01-30: 30 runs created, 0 existed already\n"),
                   std::string::npos)
             << out;
         EXPECT_NE(out.find("backfill user_automation: 30 of 30 runs succeeded, 0 failed, 0 not "
                            "finished, in "),
                   std::string::npos)
             << out;
       }},
      {"dataforge runs list && dataforge runs show 1",
       [](Flow& f, const std::string& line) {
         auto results = f.Run(line);
         ASSERT_EQ(results.size(), 2u);
         EXPECT_EQ(results[0].exit_code, 0) << results[0].err;
         auto lines = SplitLines(results[0].out);
         ASSERT_EQ(lines.size(), 21u) << results[0].out;  // the header and --limit 20 runs
         for (size_t i = 1; i < lines.size(); ++i) {
           EXPECT_NE(lines[i].find(" user_automation "), std::string::npos) << lines[i];
           EXPECT_NE(lines[i].find(" success "), std::string::npos) << lines[i];
         }
         EXPECT_EQ(results[1].exit_code, 0) << results[1].err;
         EXPECT_EQ(results[1].out.rfind("run 1 of DAG user_automation (", 0), 0u) << results[1].out;
         EXPECT_NE(results[1].out.find("stream_data_from_api"), std::string::npos);
       }},
      // --- Kafka.
      {"dataforge run --log kafka://broker1:9092,broker2:9092 --max-records 10000 --data-dir "
       "kafka-all",
       [](Flow& f, const std::string& line) {
         auto r = f.RunOk(line);
         EXPECT_EQ(SummaryLine(r.out, "fetched"), std::make_pair(int64_t{10000}, int64_t{10000}));
         EXPECT_NE(r.out.find("stored + dead-lettered == fetched: yes"), std::string::npos)
             << r.out;
         auto st = f.StatusJsonText({"--data-dir", "kafka-all", "--log", f.kafka().url()});
         EXPECT_EQ(JsonInt(st, "stored") + JsonInt(st, "dead_lettered"), 10000) << st;
       }},
      {"dataforge run --log kafka://broker1:9092 --role ingest  --data-dir ingest",
       [](Flow& f, const std::string& line) {
         auto& child = f.StartBackground("ingest", line);
         std::vector<std::string> where = {"--data-dir", "ingest", "--log", f.kafka().url()};
         bool streamed = WaitFor(
             [&] {
               std::vector<std::string> args = {"status", "--json"};
               args.insert(args.end(), where.begin(), where.end());
               auto r = RunDataforge(args, 30000);
               return r.exit_code == 0 && JsonInt(r.out, "streamed") >= 2000;
             },
             120);
         EXPECT_TRUE(streamed) << child.Stderr();
         auto r = Interrupt(child);
         f.Forget("ingest");
         EXPECT_NE(r.out.find("staged + dead-lettered == fetched, all streamed: yes"),
                   std::string::npos)
             << r.out;
         std::string st = f.StatusJsonText(where);
         f.ingest_fetched = JsonInt(st, "fetched");
         EXPECT_EQ(JsonInt(st, "streamed") + JsonInt(st, "dead_lettered"), f.ingest_fetched);
       }},
      {"dataforge run --log kafka://broker1:9092 --role process --data-dir member1",
       [](Flow& f, const std::string& line) {
         auto& child = f.StartBackground("member1", line);
         bool stored = WaitFor(
             [&] {
               return StoredNow("member1", {"--log", f.kafka().url()}) > 0;
             },
             120);
         EXPECT_TRUE(stored) << child.Stderr();
       }},
      {"dataforge run --log kafka://broker1:9092 --role process --data-dir member2",
       [](Flow& f, const std::string& line) {
         f.StartBackground("member2", line);
         // Between them the two members store every record the ingest role streamed, once.
         std::vector<std::string> log = {"--log", f.kafka().url()};
         auto rows = [&](const std::string& dir) {
           auto r = RunDataforge({"status", "--json", "--data-dir", dir, "--log", f.kafka().url()},
                                 30000);
           return r.exit_code == 0 ? JsonInt(r.out, "store_rows") : -1;
         };
         bool all =
             WaitFor([&] { return rows("member1") + rows("member2") == f.ingest_fetched; }, 180);
         EXPECT_TRUE(all) << rows("member1") << " + " << rows("member2")
                          << " != " << f.ingest_fetched;
         for (const char* member : {"member1", "member2"}) {
           auto r = Interrupt(f.Background(member));
           f.Forget(member);
           EXPECT_NE(r.out.find("dataforge run --role process: stopped"), std::string::npos)
               << r.out;
         }
         EXPECT_EQ(rows("member1") + rows("member2"), f.ingest_fetched);
       }},
      {"dataforge topic describe users_created --log kafka://broker1:9092",
       [](Flow& f, const std::string& line) {
         auto lines = SplitLines(f.RunOk(line).out);
         ASSERT_EQ(lines.size(), 4u);
         int64_t records = 0;
         for (const auto& l : lines) {
           EXPECT_EQ(JsonField(l, "group"), "dataforge");
           EXPECT_EQ(JsonInt(l, "lag"), 0) << l;  // both runs' records all processed
           records += JsonInt(l, "end_offset");
         }
         EXPECT_EQ(records, 10000 + f.ingest_fetched);
       }},
      // --- PostgreSQL.
      {"dataforge run --staging "
       "'postgresql://user:password@localhost:5432/pipeline?sslmode=prefer' "
       "--max-records 10000 --data-dir pg",
       [](Flow& f, const std::string& line) {
         auto r = f.RunOk(line);
         EXPECT_EQ(SummaryLine(r.out, "fetched"), std::make_pair(int64_t{10000}, int64_t{10000}));
         EXPECT_NE(r.out.find("stored + dead-lettered == fetched: yes"), std::string::npos)
             << r.out;
         EXPECT_EQ(f.pg().Psql("SELECT count(*) FROM dataforge.outbox", "pipeline"), "10000");
       }},
      {"dataforge status --staging 'postgresql://user:password@localhost:5432/pipeline' "
       "--data-dir pg",
       [](Flow& f, const std::string& line) {
         std::string out = f.RunOk(line).out;
         EXPECT_NE(out.find(fmt::format("  fetched        {:>12}\n", 10000)), std::string::npos)
             << out;
         EXPECT_NE(out.find("  stored + dead-lettered == fetched: yes\n"), std::string::npos)
             << out;
       }},
      // --- Cassandra.
      {"dataforge run --store cassandra://10.0.0.1:9042,10.0.0.2:9042/spark_streams "
       "--max-records 10000 --data-dir cassandra-run",
       [](Flow& f, const std::string& line) {
         auto r = f.RunOk(line);
         EXPECT_EQ(SummaryLine(r.out, "fetched"), std::make_pair(int64_t{10000}, int64_t{10000}));
         EXPECT_NE(r.out.find("stored + dead-lettered == fetched: yes"), std::string::npos)
             << r.out;
         std::string st = f.StatusJsonText(
             {"--data-dir", "cassandra-run", "--store",
              fmt::format("cassandra://127.0.0.1:{}/spark_streams", f.cassandra_port())});
         f.cassandra_rows = JsonInt(st, "store_rows");
         EXPECT_EQ(f.cassandra_rows + JsonInt(st, "dead_lettered"), 10000) << st;
       }},
      {"dataforge table count dataforge.created_users --store "
       "cassandra://10.0.0.1:9042/spark_streams",
       [](Flow& f, const std::string& line) {
         EXPECT_EQ(f.RunOk(line).out, fmt::format("{}\n", f.cassandra_rows));
       }},
      {"dataforge cql-serve --port 9042",
       [](Flow& f, const std::string& line) {
         auto& child = f.StartBackground("cql-serve", line);
         EXPECT_EQ(WaitListening(child, "cql-serve: listening on 127.0.0.1:"), f.cql_serve_port());
         auto count = RunDataforge({"table", "count", "--store",
                                    fmt::format("cassandra://127.0.0.1:{}", f.cql_serve_port())});
         EXPECT_EQ(count.out, fmt::format("{}\n", f.store_rows)) << count.err;
         Interrupt(child);
         f.Forget("cql-serve");
       }},
      {"dataforge run --cql-port 9042",
       [](Flow& f, const std::string& line) {
         // Left running for README's next command, the Python driver's query.
         auto& child = f.StartBackground("run-cql", line);
         EXPECT_EQ(WaitListening(child, "cql-serve: listening on 127.0.0.1:"), f.cql_run_port());
       }},
      {"python3 -c \"from cassandra.cluster import Cluster; s = Cluster(['127.0.0.1'], "
       "port=9042).connect(); print(s.execute('SELECT COUNT(*) FROM "
       "dataforge.created_users').one()[0])\"",
       [](Flow& f, const std::string& line) {
         std::string out = f.RunOk(line, 120000).out;
         ASSERT_TRUE(out.ends_with("\n") && AllDigits(out.substr(0, out.size() - 1))) << out;
         EXPECT_GE(std::stoll(out), f.store_rows);  // the pipeline is still adding rows
         Interrupt(f.Background("run-cql"));
         f.Forget("run-cql");
       }},
      // --- Performance: benchmarks, not run here (docs/benchmarks.md has their figures; the
      // sanitizer build has no bench targets).
      {"build/bench/pipeline_bench --records 200000", nullptr},
      {"build/bench/pipeline_bench --records 100000 --rate 10000 --page 100 --batch 100", nullptr},
      {"bench/kafka_bench.sh 100000", nullptr},
      {"bench/postgres_bench.sh 200000", nullptr},
      {"build/bench/scheduler_bench", nullptr},
      {"build/bench/cql_bench --records 100000", nullptr},
      {"bench/cql_bench.sh 100000", nullptr},
  };
}

const Step* FindStep(const std::vector<Step>& steps, const std::string& command) {
  for (const auto& s : steps) {
    if (s.command == command) return &s;
  }
  return nullptr;
}

// README and this test list the same commands in the same order.
TEST(ReadmeTest, EveryCommandHasAStep) {
  auto commands = ReadmeCommands();
  auto steps = Steps();
  ASSERT_FALSE(commands.empty());
  for (const auto& c : commands) {
    EXPECT_NE(FindStep(steps, c), nullptr)
        << "README.md shows `" << c << "`, which readme_test.cc does not run: add a step for it";
  }
  std::vector<std::string> listed;
  for (const auto& s : steps) {
    listed.push_back(s.command);
    EXPECT_NE(std::find(commands.begin(), commands.end(), s.command), commands.end())
        << "readme_test.cc has a step for `" << s.command << "`, which README.md no longer shows";
  }
  EXPECT_EQ(commands, listed) << "README.md and readme_test.cc list the commands in another order";
}

// The whole README, top to bottom, in one fresh directory.
TEST(ReadmeTest, CommandsWorkInOrderOnAFreshDirectory) {
  Flow f;
  ASSERT_FALSE(::testing::Test::HasFailure()) << "the stand-in servers did not start";
  auto steps = Steps();
  {
    ScopedCwd cwd(f.work());
    for (const std::string& command : ReadmeCommands()) {
      SCOPED_TRACE("README command: " + command);
      const Step* step = FindStep(steps, command);
      ASSERT_NE(step, nullptr) << "no step for README's `" << command << "`";
      if (!step->run) continue;  // a benchmark
      step->run(f, command);
      ASSERT_FALSE(::testing::Test::HasFailure()) << "stopping after README's `" << command << "`";
    }
  }

  // Then every inspection command reads the external backends from a directory that has no
  // data dir, and creates none.
  ScopedCwd cwd(f.empty_dir());
  std::string pg = fmt::format("postgresql://user:password@127.0.0.1:{}/pipeline", f.pg().port());
  std::string cassandra = fmt::format("cassandra://127.0.0.1:{}/spark_streams", f.cassandra_port());
  std::string kafka = f.kafka().url();
  auto ok = [&](std::vector<std::string> args) {
    auto r = f.Dataforge(args);
    EXPECT_EQ(r.exit_code, 0) << fmt::format("{}", fmt::join(args, " ")) << ": " << r.err;
    return r.out;
  };
  EXPECT_EQ(ok({"table", "count", "dataforge.created_users", "--store", cassandra}),
            fmt::format("{}\n", f.cassandra_rows));
  auto rows = SplitLines(ok({"table", "scan", "--limit", "2", "--store", cassandra}));
  ASSERT_EQ(rows.size(), 2u);
  std::string id = JsonField(rows[0], "id");
  EXPECT_EQ(
      JsonField(ok({"table", "get", "dataforge.created_users", id, "--store", cassandra}), "id"),
      id);
  // Every instance of the shared staging database: the pg data dir's 10,000.
  EXPECT_EQ(ok({"staging", "count", "--staging", pg}), "10000\n");
  EXPECT_EQ(ok({"deadletter", "list", "--staging", pg, "--store", cassandra}), "");
  std::string st = ok({"status", "--json", "--staging", pg, "--log", kafka, "--store", cassandra});
  EXPECT_EQ(JsonInt(st, "fetched"), 10000) << st;
  EXPECT_EQ(JsonInt(st, "store_rows"), f.cassandra_rows) << st;
  EXPECT_EQ(ok({"topic", "list", "--log", kafka}), "users_created\n");
  EXPECT_EQ(SplitLines(ok({"topic", "describe", "users_created", "--log", kafka})).size(), 4u);
  EXPECT_EQ(SplitLines(ok({"topic", "consume", "users_created", "--from-beginning", "--max", "3",
                           "--log", kafka}))
                .size(),
            3u);
  auto dags = SplitLines(ok({"dags", "list", "--staging", pg}));
  ASSERT_EQ(dags.size(), 2u);
  EXPECT_EQ(dags[1].rfind("user_automation ", 0), 0u);
  EXPECT_EQ(ok({"runs", "list", "--staging", pg}).rfind("no runs yet;", 0), 0u);
  // What only a data dir has is named, with the fix, in one line.
  auto status = f.Dataforge({"status", "--staging", pg});
  EXPECT_EQ(status.exit_code, 1);
  EXPECT_EQ(status.err,
            "dataforge: data dir ./dataforge-data does not exist, and the log is in it: pass the "
            "--data-dir of a pipeline that ran, or --log kafka://… for an external one\n");
  auto count = f.Dataforge({"table", "count"});
  EXPECT_EQ(count.exit_code, 1);
  EXPECT_EQ(count.err,
            "dataforge: data dir ./dataforge-data does not exist, and the store is in it: pass "
            "the --data-dir of a pipeline that ran, or --store cassandra://… for an external "
            "one\n");
  EXPECT_TRUE(fs::is_empty(f.empty_dir())) << "a read-only command created files";
}

// Issue 14: after a bounded run (which hosts no scheduler) and on a data dir that never ran,
// `dags list` lists the pipeline file's DAGs and `runs list` says there are no runs: exit 0.
TEST(ReadmeTest, DagsAndRunsListWithoutSchedulerState) {
  TempDir dir;
  std::string data = dir.Sub("data");
  for (bool ran : {false, true}) {
    SCOPED_TRACE(ran ? "after run --max-records" : "no data dir");
    if (ran) {
      ASSERT_EQ(RunDataforge({"run", "--max-records", "100", "--data-dir", data}).exit_code, 0);
    }
    auto dags = RunDataforge({"dags", "list", "--data-dir", data});
    EXPECT_EQ(dags.exit_code, 0) << dags.err;
    auto lines = SplitLines(dags.out);
    ASSERT_EQ(lines.size(), 2u) << dags.out;
    ExpectFreshDagRow(lines[1]);
    auto json = RunDataforge({"dags", "list", "--json", "--data-dir", data});
    EXPECT_EQ(json.exit_code, 0) << json.err;
    EXPECT_EQ(JsonField(json.out, "last_run_state"), "");
    auto runs = RunDataforge({"runs", "list", "--data-dir", data});
    EXPECT_EQ(runs.exit_code, 0) << runs.err;
    EXPECT_EQ(runs.out,
              "no runs yet; `dataforge dags trigger DAG` queues one, and the scheduler in "
              "`dataforge run` starts scheduled ones\n");
    auto runs_json = RunDataforge({"runs", "list", "--json", "--data-dir", data});
    EXPECT_EQ(runs_json.exit_code, 0) << runs_json.err;
    EXPECT_EQ(runs_json.out, "");
    auto show = RunDataforge({"runs", "show", "1", "--data-dir", data});
    EXPECT_EQ(show.exit_code, 1);
    EXPECT_EQ(show.err, "dataforge: run 1 not found: nothing has run here\n");
    // Reading created nothing.
    EXPECT_EQ(fs::exists(data), ran);
  }
}

// `table count|get|scan` of a table the store does not have: exit 1, naming the tables.
TEST(ReadmeTest, TableCommandsNameTheTablesOfTheStore) {
  TempDir dir;
  ASSERT_EQ(RunDataforge({"run", "--max-records", "50", "--data-dir", dir.path()}).exit_code, 0);
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{{"table", "count", "nosuch.table"},
                                             {"table", "get", "nosuch.table", "k"},
                                             {"table", "scan", "nosuch.table"}}) {
    args.push_back("--data-dir");
    args.push_back(dir.path());
    auto r = RunDataforge(args);
    EXPECT_EQ(r.exit_code, 1) << args[1];
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "dataforge: no table nosuch.table; tables: dataforge.created_users\n")
        << args[1];
  }
  EXPECT_EQ(RunDataforge({"table", "count", "--data-dir", dir.path()}).out, "50\n");
}

}  // namespace
}  // namespace dataforge::testing
