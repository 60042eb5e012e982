// Secrets stay secret: every command (as `dataforge --help` lists them), with distinctive
// secrets in every URL and property, on flags, in a pipeline file through ${ENV} and in
// PGPASSWORD, against servers that are not there and against a real PostgreSQL; all of stdout
// and stderr is searched for each secret. Masking itself: src/common/redact_test.cc.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <list>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "integration/pg_server.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

// A loopback port that refuses connections for as long as this object lives: bound, never
// listening, so no other test can take it.
class RefusingPort {
 public:
  RefusingPort() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot bind a loopback port";
    }
    port_ = ntohs(addr.sin_port);
  }
  ~RefusingPort() {
    if (fd_ >= 0) close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// The secrets; none may appear in any output.
const std::vector<std::string> kSecrets = {
    "S3cr3tKafka",   "S3cr3tKeyPw",  "S3cr3tOauth",  "S3cr3tPgFlag", "S3cr3tCql",
    "S3cr3tServe",   "S3cr3tEnvKfk", "S3cr3tEnvCql", "S3cr3tPgEnv",  "S3cr3tPgReal",
    "S3cr3tWrongPw", "S3cr3tPgBad",  "S3cr3tPemKey", "S3cr3tShell",  "S3cr3tJwtHs256"};

// The subcommands of `prefix` listed by `dataforge PREFIX --help` (under "Subcommands:").
std::vector<std::string> Subcommands(const std::vector<std::string>& prefix) {
  std::vector<std::string> args = prefix;
  args.push_back("--help");
  ProcessResult r = RunDataforge(args, 60000);
  std::vector<std::string> names;
  bool in = false;
  for (const std::string& line : SplitLines(r.out)) {
    if (line.rfind("Subcommands:", 0) == 0) {
      in = true;
    } else if (in && line.size() > 2 && line[0] == ' ' && line[1] == ' ' && line[2] != ' ') {
      names.push_back(line.substr(2, line.find(' ', 2) - 2));
    } else if (in && !line.empty() && line[0] != ' ') {
      in = false;
    }
  }
  return names;
}

// Every command path: {"run"}, {"table", "count"}, ...: leaves of the --help tree.
std::vector<std::vector<std::string>> AllCommands() {
  std::vector<std::vector<std::string>> out;
  for (const std::string& top : Subcommands({})) {
    std::vector<std::string> subs = Subcommands({top});
    if (subs.empty()) out.push_back({top});
    for (const std::string& s : subs) out.push_back({top, s});
  }
  return out;
}

// The arguments a command needs to get past its own parsing; others run bare.
std::vector<std::string> ArgsFor(const std::vector<std::string>& cmd, const std::string& file) {
  static const std::map<std::string, std::vector<std::string>> kArgs = {
      {"run", {"--max-records", "5"}},
      {"mock-api", {"--port", "0"}},
      {"cql-serve", {"--port", "0", "--username", "u", "--password", "S3cr3tServe"}},
      {"table count", {"dataforge.created_users"}},
      {"table get", {"dataforge.created_users", "k1"}},
      {"table scan", {"dataforge.created_users"}},
      {"topic describe", {"users_created"}},
      {"topic consume", {"users_created", "--from-beginning"}},
      {"dags trigger", {"user_automation"}},
      {"dags pause", {"user_automation"}},
      {"dags unpause", {"user_automation"}},
      {"dags backfill",
       {"user_automation", "--from", "2024-01-01", "--to", "2024-01-01", "--no-progress"}},
      {"runs show", {"1"}},
      {"tasks clear", {"1", "stream_data_from_api"}},
      {"config check", {file}},
      {"reprocess", {"--from-beginning", "--into-suffix", "_v2"}},
  };
  std::string key = cmd[0] + (cmd.size() > 1 ? " " + cmd[1] : "");
  auto it = kArgs.find(key);
  return it == kArgs.end() ? std::vector<std::string>{} : it->second;
}

struct Output {
  std::string command;
  std::string text;  // stdout + stderr
};

// Fails naming the command and the line for every secret in `o`.
void ExpectNoSecret(const Output& o) {
  for (const std::string& line : SplitLines(o.text)) {
    for (const std::string& secret : kSecrets) {
      if (line.find(secret) != std::string::npos) {
        ADD_FAILURE() << "`" << o.command << "` printed the secret " << secret << " in: " << line;
      }
    }
  }
}

// Whether `child` has exited (it stays unreaped, for ChildProcess::Wait).
bool Exited(const ChildProcess& child) {
  siginfo_t info{};
  return waitid(P_PID, child.pid(), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid != 0;
}

// Runs every command with `global` flags before it, eight at a time: the next one starts as soon
// as one of the eight running exits (not in batches that each wait for their slowest).
// Long-running commands (servers, a pipeline whose backends never answer) are stopped by
// timeout(1) after 20 s: their output so far is what is searched.
std::vector<Output> RunEveryCommand(const std::vector<std::string>& global, const std::string& file,
                                    const std::vector<std::string>& env) {
  std::vector<std::vector<std::string>> commands = AllCommands();
  EXPECT_GE(commands.size(), 20u) << "dataforge --help lists fewer commands than expected";
  std::vector<Output> outputs(commands.size());
  constexpr size_t kRunning = 8;
  std::list<std::pair<size_t, ChildProcess>> running;  // ChildProcess is move-only
  for (size_t next = 0; next < commands.size() || !running.empty();) {
    while (next < commands.size() && running.size() < kRunning) {
      std::vector<std::string> argv = {"/usr/bin/timeout", "-k", "10", "20", DATAFORGE_BIN};
      argv.insert(argv.end(), global.begin(), global.end());
      argv.insert(argv.end(), commands[next].begin(), commands[next].end());
      std::vector<std::string> args = ArgsFor(commands[next], file);
      argv.insert(argv.end(), args.begin(), args.end());
      std::string name;
      for (size_t k = 5; k < argv.size(); ++k) name += (k > 5 ? " " : "") + argv[k];
      outputs[next].command = "dataforge " + name;
      running.emplace_back(next++, ChildProcess::Start(argv, env));
    }
    auto done = std::find_if(running.begin(), running.end(),
                             [](const auto& r) { return Exited(r.second); });
    if (done == running.end()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    ProcessResult r = done->second.Wait(60000);
    outputs[done->first].text = r.out + r.err;
    running.erase(done);
  }
  return outputs;
}

// A data dir made by a short run with the embedded backends, so commands get as far as the
// backends the flags name.
void MakeDataDir(const std::string& data_dir) {
  ProcessResult r = RunDataforge({"--data-dir", data_dir, "run", "--max-records", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

const Output* Find(const std::vector<Output>& outputs, const std::string& command_part) {
  for (const Output& o : outputs) {
    if (o.command.find(command_part) != std::string::npos) return &o;
  }
  return nullptr;
}

TEST(SecretsTest, FlagsWithSecretsAgainstUnreachableServers) {
  TempDir dir;
  RefusingPort kafka, pg, cql;
  WriteFile(dir.Sub("p.yaml"), "process: {group: g1}\n");
  MakeDataDir(dir.Sub("data"));
  std::vector<std::string> global = {
      "--data-dir",
      dir.Sub("data"),
      "--log",
      fmt::format("kafka://127.0.0.1:{}?sasl.password=S3cr3tKafka&ssl.key.password=S3cr3tKeyPw",
                  kafka.port()),
      "--staging",
      fmt::format("postgresql://u:S3cr3tPgFlag@127.0.0.1:{}/db", pg.port()),
      "--store",
      fmt::format("cassandra://u:S3cr3tCql@127.0.0.1:{}/ks?consistency=ONE&local_dc=dc9",
                  cql.port())};
  // The debug and trace lines (librdkafka's own log among them) are masked too: three commands
  // at --log-level trace, run beside the others (reading the unreachable Kafka takes 10 s).
  std::vector<std::string> traced_names;
  std::vector<ChildProcess> traced;
  for (std::vector<std::string> cmd : {std::vector<std::string>{"topic", "list"},
                                       {"status"},
                                       {"table", "count", "dataforge.created_users"}}) {
    std::vector<std::string> args = global;
    args.push_back("--log-level");
    args.push_back("trace");
    args.insert(args.end(), cmd.begin(), cmd.end());
    traced_names.push_back("dataforge " + fmt::format("{}", fmt::join(args, " ")));
    traced.push_back(StartDataforge(args));
  }

  std::vector<Output> outputs = RunEveryCommand(global, dir.Sub("p.yaml"), {});
  for (const Output& o : outputs) ExpectNoSecret(o);
  for (size_t i = 0; i < traced.size(); ++i) {
    ProcessResult r = traced[i].Wait();
    EXPECT_NE(r.exit_code, 0) << r.out << r.err;
    ExpectNoSecret({traced_names[i], r.out + r.err});
  }

  // The secrets were there to print: masked, not dropped.
  const Output* show = Find(outputs, "config show");
  ASSERT_NE(show, nullptr);
  EXPECT_NE(show->text.find(fmt::format(
                "kafka://127.0.0.1:{}?sasl.password=***&ssl.key.password=***\n", kafka.port())),
            std::string::npos)
      << show->text;
  EXPECT_NE(show->text.find(fmt::format("url: postgresql://u:***@127.0.0.1:{}/db", pg.port())),
            std::string::npos)
      << show->text;
  // The effective configuration includes the cassandra:// URL's options.
  EXPECT_NE(show->text.find("consistency: ONE\n"), std::string::npos) << show->text;
  EXPECT_NE(show->text.find("local_datacenter: dc9\n"), std::string::npos) << show->text;
  EXPECT_NE(show->text.find("username: u\n"), std::string::npos) << show->text;
  EXPECT_NE(show->text.find("password: \"***\"\n"), std::string::npos) << show->text;

  // A property this librdkafka build refuses: its error names the property, not the value.
  const std::string oauth =
      fmt::format("kafka://127.0.0.1:{}?sasl.oauthbearer.client.secret=S3cr3tOauth", kafka.port());
  for (std::vector<std::string> cmd :
       {std::vector<std::string>{"config", "show"}, {"topic", "list"}, {"status"}}) {
    std::vector<std::string> args = {"--data-dir", dir.Sub("data"), "--log", oauth};
    args.insert(args.end(), cmd.begin(), cmd.end());
    ProcessResult r = RunDataforge(args);
    ExpectNoSecret({"dataforge " + fmt::format("{}", fmt::join(args, " ")), r.out + r.err});
  }
}

TEST(SecretsTest, PipelineFileWithEnvSecretsAgainstUnreachableServers) {
  TempDir dir;
  RefusingPort kafka, pg, cql;
  WriteFile(dir.Sub("p.yaml"),
            fmt::format("staging: {{url: \"postgresql://u:${{PGPASSWORD}}@127.0.0.1:{}/db\"}}\n"
                        "log:\n"
                        "  url: kafka://127.0.0.1:{}\n"
                        "  properties: {{sasl.password: \"${{DF_KAFKA_PW}}\", "
                        "sasl.username: alice, ssl.key.pem: \"${{DF_KEY_PEM}}\"}}\n"
                        "store:\n"
                        "  url: cassandra://127.0.0.1:{}/ks\n"
                        "  username: u\n"
                        "  password: \"${{DF_CQL_PW}}\"\n"
                        "auth:\n"
                        "  jwt: {{hs256_secret: \"${{DF_JWT_SECRET}}\", audience: dataforge}}\n",
                        pg.port(), kafka.port(), cql.port()));
  MakeDataDir(dir.Sub("data"));
  std::vector<std::string> env = {"PGPASSWORD=S3cr3tPgEnv",
                                  "DF_KAFKA_PW=S3cr3tEnvKfk",
                                  "DF_CQL_PW=S3cr3tEnvCql",
                                  "DF_KEY_PEM=S3cr3tPemKey",
                                  "DATAFORGE_CQL_PASSWORD=S3cr3tServe",
                                  "DF_JWT_SECRET=S3cr3tJwtHs256-0123456789abcdef-0123"};
  std::vector<Output> outputs = RunEveryCommand(
      {"--data-dir", dir.Sub("data"), "--config", dir.Sub("p.yaml")}, dir.Sub("p.yaml"), env);
  for (const Output& o : outputs) ExpectNoSecret(o);

  const Output* show = Find(outputs, "config show");
  ASSERT_NE(show, nullptr);
  EXPECT_NE(show->text.find(fmt::format("url: postgresql://u:***@127.0.0.1:{}/db", pg.port())),
            std::string::npos)
      << show->text;
  EXPECT_NE(show->text.find("sasl.password: \"***\"\n"), std::string::npos) << show->text;
  EXPECT_NE(show->text.find("sasl.username: alice\n"), std::string::npos) << show->text;
  EXPECT_NE(show->text.find("ssl.key.pem: \"***\"\n"), std::string::npos) << show->text;
  EXPECT_NE(show->text.find("password: \"***\"\n"), std::string::npos) << show->text;
  EXPECT_NE(show->text.find("\nauth:\n"), std::string::npos) << show->text;
  EXPECT_NE(show->text.find("    hs256_secret: \"***\"\n"), std::string::npos) << show->text;
  EXPECT_NE(show->text.find("    audience: \"dataforge\"\n"), std::string::npos) << show->text;
}

// The scheduler and the commands that read runs, on a real PostgreSQL as staging and run store,
// with a password in the URL; and a wrong password, whose libpq error is printed.
TEST(SecretsTest, RealPostgresSchedulerAndWrongPassword) {
  PostgresServer server;
  server.Psql("CREATE ROLE df_secret LOGIN SUPERUSER PASSWORD 'S3cr3tPgReal'");
  TempDir dir;
  const std::string url = server.Url("dataforge", "df_secret", "S3cr3tPgReal");
  std::vector<Output> outputs;

  ChildProcess scheduler = StartDataforge(
      {"--data-dir", dir.Sub("data"), "--staging", url, "run", "--role", "scheduler"});
  EXPECT_TRUE(WaitFor(
      [&] { return scheduler.Stderr().find("scheduler running") != std::string::npos; }, 120))
      << scheduler.Stderr();
  scheduler.Signal(SIGTERM);
  ProcessResult r = scheduler.Wait();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  outputs.push_back({"dataforge run --role scheduler --staging " + url, r.out + r.err});
  // The line names where the scheduler runs, with the password masked.
  EXPECT_NE(outputs.back().text.find(
                fmt::format("postgresql://df_secret:***@127.0.0.1:{}/dataforge", server.port())),
            std::string::npos)
      << outputs.back().text;

  for (std::vector<std::string> cmd : {std::vector<std::string>{"dags", "list"},
                                       {"runs", "list"},
                                       {"status"},
                                       {"config", "show"},
                                       {"staging", "count"}}) {
    std::vector<std::string> args = {"--data-dir", dir.Sub("data"), "--staging", url};
    args.insert(args.end(), cmd.begin(), cmd.end());
    ProcessResult c = RunDataforge(args);
    outputs.push_back({"dataforge " + fmt::format("{}", fmt::join(args, " ")), c.out + c.err});
  }

  const std::string wrong = server.Url("dataforge", "df_secret", "S3cr3tWrongPw");
  for (std::vector<std::string> cmd :
       {std::vector<std::string>{"runs", "list"}, {"status"}, {"run", "--role", "scheduler"}}) {
    std::vector<std::string> args = {"--data-dir", dir.Sub("data"), "--staging", wrong};
    args.insert(args.end(), cmd.begin(), cmd.end());
    ProcessResult c = RunDataforge(args);
    EXPECT_NE(c.exit_code, 0) << c.out << c.err;
    outputs.push_back({"dataforge " + fmt::format("{}", fmt::join(args, " ")), c.out + c.err});
    EXPECT_NE(c.err.find("password authentication failed"), std::string::npos) << c.err;
  }
  // A password libpq cannot decode: its error quotes the bad token.
  {
    std::vector<std::string> args = {
        "--data-dir",
        dir.Sub("data"),
        "--staging",
        fmt::format("postgresql://df_secret:S3cr3tPgBad%zz@127.0.0.1:{}/dataforge", server.port()),
        "runs",
        "list"};
    ProcessResult c = RunDataforge(args);
    EXPECT_NE(c.exit_code, 0) << c.out << c.err;
    outputs.push_back({"dataforge " + fmt::format("{}", fmt::join(args, " ")), c.out + c.err});
  }
  for (const Output& o : outputs) ExpectNoSecret(o);
}

// A task's captured output and last error, as `runs show` prints them.
TEST(SecretsTest, RunsShowMasksTaskOutputAndErrors) {
  TempDir dir;
  WriteFile(
      dir.Sub("p.yaml"),
      "dags:\n"
      "  leak:\n"
      "    schedule: \"@daily\"\n"
      "    start_date: 2026-01-01\n"
      "    tasks:\n"
      "      - id: talk\n"
      "        type: shell\n"
      "        retries: 0\n"
      "        command: \"echo postgresql://u:S3cr3tShell@h/db; echo sasl.password=S3cr3tShell "
      ">&2; exit 3\"\n");
  std::vector<std::string> common = {"--data-dir", dir.Sub("data"), "--config", dir.Sub("p.yaml")};
  std::vector<std::string> trigger = common;
  trigger.insert(trigger.end(), {"dags", "trigger", "leak", "--wait"});
  ProcessResult t = RunDataforge(trigger);
  EXPECT_NE(t.exit_code, 0) << t.out << t.err;
  ExpectNoSecret({"dataforge dags trigger leak --wait", t.out + t.err});
  std::vector<std::string> show = common;
  show.insert(show.end(), {"runs", "show", "1"});
  ProcessResult r = RunDataforge(show);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectNoSecret({"dataforge runs show 1", r.out + r.err});
  EXPECT_NE(r.out.find("postgresql://u:***@h/db\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sasl.password=***"), std::string::npos) << r.out;
  show.push_back("--json");
  ProcessResult j = RunDataforge(show);
  ASSERT_EQ(j.exit_code, 0) << j.err;
  ExpectNoSecret({"dataforge runs show 1 --json", j.out + j.err});
  EXPECT_NE(j.out.find("postgresql://u:***@h/db"), std::string::npos) << j.out;
}

}  // namespace
}  // namespace dataforge::testing
