#include "integration/readme_flow.h"

#include <signal.h>

#include <gtest/gtest.h>
#include <simdjson.h>

#include <sstream>

#include "integration/cli_helpers.h"

namespace dataforge::testing::readme {

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
// A child that prints `marker` followed by the port it listens on; returns that port (0 on
// time-out, after a test failure).
int WaitListening(ChildProcess& child, const std::string& marker) {
  bool up = WaitUntil(
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
Flow::Flow()
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

// The default data dir's totals after a step: balanced, and `fetched` what the steps counted.
void ExpectBalanced(Flow& f) {
  std::string json = f.StatusJsonText();
  int64_t fetched = JsonInt(json, "fetched");
  EXPECT_EQ(fetched, f.fetched) << json;
  EXPECT_EQ(JsonInt(json, "stored") + JsonInt(json, "dead_lettered"), fetched) << json;
}

// A command that runs until Ctrl-C: started, left running until the data dir's `fetched` grew
// (as `status` sees it), then stopped with SIGINT. Returns the stopped run's summary.
std::string RunUntilFetchedGrows(Flow& f, const std::string& line,
                                 const std::function<bool()>& also) {
  auto& child = f.StartBackground("run", line);
  int64_t before = f.fetched;
  bool grew = WaitUntil(
      [&] {
        auto r = RunDataforge({"status", "--json"}, 30000);
        return r.exit_code == 0 && JsonInt(r.out, "fetched") > before && (!also || also());
      },
      120);
  EXPECT_TRUE(grew) << line << ": fetched stayed at " << before << " (or the other condition "
                    << "did not hold)\n"
                    << child.Stderr();
  auto r = Interrupt(child);
  f.Forget("run");
  EXPECT_NE(r.out.find("dataforge run: "), std::string::npos) << r.out;
  f.fetched = SummaryLine(r.out, "fetched").second;
  EXPECT_GT(f.fetched, before);
  return r.out;
}

int64_t RunsInState(Flow& f, const std::string& type, const std::string& state) {
  auto r = f.Dataforge({"runs", "list", "--json", "--limit", "1000"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  int64_t n = 0;
  for (const auto& l : SplitLines(r.out)) {
    n += JsonField(l, "type") == type && JsonField(l, "state") == state;
  }
  return n;
}

}  // namespace dataforge::testing::readme
