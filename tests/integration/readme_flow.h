// The machinery of readme_test.cc: README.md's commands, a shell-like runner for them, and the
// stand-in servers README's commands are pointed at (see readme_test.cc for what stands in for
// what). One Flow per test: it starts the servers, and its steps share what they learn.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "integration/kafka_cluster.h"
#include "integration/pg_server.h"
#include "integration/subprocess.h"

namespace dataforge::testing::readme {

namespace fs = std::filesystem;

constexpr int kStepTimeoutMs = 400000;

// Each line of README's ```sh blocks, without its comment, trimmed; blank lines dropped.
std::vector<std::string> ReadmeCommands();

// One simple command of a README line: its words (quotes removed) and where `>` sends stdout.
struct ShellCommand {
  std::vector<std::string> argv;
  std::string stdout_file;
};

// Splits `line` into simple commands at `&&`. Words as sh forms them from '…', "…" and bare
// text; README's commands use no other shell syntax, and a `$` left unexpanded (after the
// test's substitutions) fails the test rather than being passed on literally.
std::vector<ShellCommand> ParseShell(const std::string& line);

// The numbers of a run summary's line `  <name>  <this run>  <data dir total>`.
std::pair<int64_t, int64_t> SummaryLine(const std::string& out, const std::string& name);
std::vector<std::string> Words(const std::string& line);
bool AllDigits(const std::string& s);
// `dags list`'s row of the default DAG before any run: next run due at a midnight (UTC), no
// last state, one task.
void ExpectFreshDagRow(const std::string& row);
// The integer `key` of a JSON object (-1, after a test failure, if there is none).
int64_t JsonInt(const std::string& json, const char* key);
// The number of records in a randomuser response file.
size_t FixtureRecords(const std::string& path);

// Runs the test in `dir` and returns to where it was (the children inherit the working dir).
class ScopedCwd {
 public:
  explicit ScopedCwd(const std::string& dir) : old_(fs::current_path()) { fs::current_path(dir); }
  ~ScopedCwd() { fs::current_path(old_); }

 private:
  fs::path old_;
};

// Calls `pred` until it holds or `seconds` have passed (a deadline, unlike WaitFor's count of
// polls: these predicates run `dataforge` and take a while each).
template <typename Pred>
bool WaitUntil(Pred pred, int seconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return pred();
}

// A child that prints `marker` followed by the port it listens on; returns that port (0 on
// time-out, after a test failure).
int WaitListening(ChildProcess& child, const std::string& marker);
// SIGINT (README's Ctrl-C), then the exit status: a clean stop exits 0.
ProcessResult Interrupt(ChildProcess& child);

// The README's world: a fresh directory to run in and the stand-in servers.
class Flow {
 public:
  // Starts the stand-in servers (a failure to start fails the test).
  Flow();

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
void ExpectBalanced(Flow& f);
// A command that runs until Ctrl-C: started, left running until the data dir's `fetched` grew
// (as `status` sees it), then stopped with SIGINT. Returns the stopped run's summary.
// `also`, when given, must hold as well before the SIGINT.
std::string RunUntilFetchedGrows(Flow& f, const std::string& line,
                                 const std::function<bool()>& also = {});
// The default data dir's runs (`runs list --json`) in `state` (e.g. "success", "queued").
int64_t RunsInState(Flow& f, const std::string& type, const std::string& state);

struct Step {
  std::string command;  // exactly as README shows it, without its comment
  std::function<void(Flow&, const std::string&)> run;
};
// README's commands and what each must do, in README's order (readme_steps.cc).
std::vector<Step> Steps();

}  // namespace dataforge::testing::readme
