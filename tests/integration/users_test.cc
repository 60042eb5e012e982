// `dataforge users` and `dataforge keys` through the real binary: on a fresh data dir, beside a
// running pipeline, and on a PostgreSQL staging database that two data dirs share.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>

#include <unistd.h>

#include <map>
#include <regex>

#include <fmt/format.h>

#include "auth/credential_store.h"
#include "integration/cli_helpers.h"
#include "integration/pg_server.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

const char* const kNoUsers =
    "no users (authentication is off); add one: dataforge users add NAME --role ROLE\n";

ProcessResult Df(const std::string& data_dir, std::vector<std::string> args,
                 const std::vector<std::string>& extra = {}) {
  args.insert(args.end(), {"--data-dir", data_dir});
  args.insert(args.end(), extra.begin(), extra.end());
  return RunDataforge(args, 60000);
}

// `dataforge ARGS` with `input` on its stdin (through /bin/sh: the test helpers give children
// /dev/null).
ProcessResult DfWithStdin(const std::string& input, const std::vector<std::string>& args) {
  std::string cmd = fmt::format("printf '%s' '{}' | '{}'", input, DATAFORGE_BIN);
  for (const auto& a : args) cmd += fmt::format(" '{}'", a);
  return ChildProcess::Start({"/bin/sh", "-c", cmd}).Wait(60000);
}

// The JSON lines of `users list --json` without the "created" field (the time varies).
std::vector<std::string> UserLines(const std::string& data_dir,
                                   const std::vector<std::string>& extra = {}) {
  auto r = Df(data_dir, {"users", "list", "--json"}, extra);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> out;
  for (auto line : SplitLines(r.out)) {
    auto at = line.find(",\"created\":\"");
    EXPECT_NE(at, std::string::npos) << line;
    if (at != std::string::npos) line = line.substr(0, at) + "}";
    out.push_back(line);
  }
  return out;
}

// The staging database's bytes (the file and its WAL), to show a secret is not in them.
std::string StagingBytes(const std::string& data_dir) {
  std::string bytes = ReadFile(data_dir + "/staging.db");
  if (access((data_dir + "/staging.db-wal").c_str(), F_OK) == 0) {
    bytes += ReadFile(data_dir + "/staging.db-wal");
  }
  return bytes;
}

std::unique_ptr<auth::CredentialStore> OpenStore(const std::string& url) {
  auto s = auth::OpenCredentialStore(url, OpenMode::kReadOnly);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

TEST(UsersTest, AddListRemove) {
  TempDir dir;
  std::string data = dir.Sub("data");
  auto r = Df(data, {"users", "list"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, kNoUsers);
  EXPECT_EQ(Df(data, {"users", "list", "--json"}).out, "");

  r = Df(data, {"users", "add", "alice", "--role", "admin"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "user alice added with role admin, without a password (dataforge keys create gives "
            "it a key)\n");
  EXPECT_EQ(r.err, "");
  r = Df(data, {"users", "add", "bob.smith@example", "--role", "reader"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = Df(data, {"users", "add", "Op-1", "--role", "operator"});
  EXPECT_EQ(r.exit_code, 0) << r.err;

  EXPECT_EQ(UserLines(data), (std::vector<std::string>{
                                 R"({"name":"Op-1","role":"operator","password":false})",
                                 R"({"name":"alice","role":"admin","password":false})",
                                 R"({"name":"bob.smith@example","role":"reader","password":false})",
                             }));
  r = Df(data, {"users", "list"});
  auto lines = SplitLines(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;
  EXPECT_EQ(lines[0], "NAME                     ROLE             PASSWORD  CREATED");
  EXPECT_TRUE(std::regex_match(
      lines[2], std::regex(R"(alice {20}admin {12}no {8}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00)")))
      << lines[2];

  r = Df(data, {"users", "remove", "alice"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "user alice removed; its API keys are revoked\n");
  EXPECT_EQ(UserLines(data), (std::vector<std::string>{
                                 R"({"name":"Op-1","role":"operator","password":false})",
                                 R"({"name":"bob.smith@example","role":"reader","password":false})",
                             }));
}

TEST(UsersTest, BadInputGetsOneLineAndTheRightExitCode) {
  TempDir dir;
  std::string data = dir.Sub("data");
  ASSERT_EQ(Df(data, {"users", "add", "alice", "--role", "admin"}).exit_code, 0);
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string err;
  };
  const std::vector<Case> cases = {
      {{"users", "add", "alice", "--role", "reader"},
       1,
       "dataforge: user 'alice' exists already; see: dataforge users list\n"},
      {{"users", "add", "carol", "--role", "superuser"},
       2,
       "dataforge: unknown role 'superuser'; the roles are: admin, operator, reader (define "
       "others under auth.roles in the pipeline file)\n"},
      {{"users", "add", "", "--role", "admin"},
       2,
       "dataforge: the user name is empty; use 1 to 64 letters, digits, '.', '_', '-' or '@'\n"},
      {{"users", "add", "carol smith", "--role", "admin"},
       2,
       "dataforge: user name 'carol smith' is not allowed; use 1 to 64 letters, digits, '.', "
       "'_', '-' or '@'\n"},
      {{"users", "add", "carol\x01\n", "--role", "admin"},
       2,
       "dataforge: user name 'carol\\x01\\n' is not allowed; use 1 to 64 letters, digits, '.', "
       "'_', '-' or '@'\n"},
      {{"users", "add", std::string(65, 'a'), "--role", "admin"},
       2,
       fmt::format("dataforge: user name '{}' is not allowed; use 1 to 64 letters, digits, '.', "
                   "'_', '-' or '@'\n",
                   std::string(65, 'a'))},
      {{"users", "remove", "nobody"},
       1,
       "dataforge: no user 'nobody'; see: dataforge users list\n"},
      {{"keys", "create", "nobody"}, 1, "dataforge: no user 'nobody'; see: dataforge users list\n"},
      {{"keys", "create", "alice", "--expires", "90x"},
       2,
       "dataforge: --expires: duration '90x' has unknown unit 'x'; use whole numbers with units "
       "ms, s, m, h or d, such as 30s, 15m or 1h30m\n"},
      {{"keys", "create", "alice", "--expires", "500ms"},
       2,
       "dataforge: --expires '500ms' is shorter than one second; write e.g. 90d, 12h or 30m\n"},
      {{"keys", "revoke", "0123456789ab"},
       1,
       "dataforge: no API key '0123456789ab'; see: dataforge keys list\n"},
      {{"keys", "revoke", "not-a-key"},
       2,
       "dataforge: KEY_ID is the 12 hex characters of the key's id, as dataforge keys list shows "
       "it\n"},
  };
  for (const auto& c : cases) {
    auto r = Df(data, c.args);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.args[0] << " " << c.args[1] << " " << c.args[2];
    EXPECT_EQ(r.err, c.err);
    EXPECT_EQ(r.out, "");
  }
  // Nothing changed.
  EXPECT_EQ(UserLines(data),
            std::vector<std::string>{R"({"name":"alice","role":"admin","password":false})"});
  EXPECT_EQ(Df(data, {"keys", "list"}).out,
            "no API keys; create one: dataforge keys create USER\n");
}

TEST(UsersTest, PasswordFromStdinIsKeptOnlyAsAnArgon2idHash) {
  TempDir dir;
  std::string data = dir.Sub("data");
  const std::string password = "Tr0ub4dor-and-3-horses";
  auto r = DfWithStdin(password + "\n", {"users", "add", "carol", "--role", "operator",
                                         "--password-stdin", "--data-dir", data});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "user carol added with role operator, with a password\n");
  EXPECT_EQ(r.err, "");
  // No newline at the end of the input is one line too.
  r = DfWithStdin("other-pw", {"users", "add", "dave", "--role", "reader", "--password-stdin",
                               "--data-dir", data});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(UserLines(data), (std::vector<std::string>{
                                 R"({"name":"carol","role":"operator","password":true})",
                                 R"({"name":"dave","role":"reader","password":true})",
                             }));
  auto store = OpenStore("sqlite://" + data + "/staging.db");
  ASSERT_NE(store, nullptr);
  auto carol = store->FindUser("carol");
  ASSERT_TRUE(carol.ok() && carol->has_value());
  EXPECT_EQ((*carol)->password_hash.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u);
  EXPECT_TRUE(auth::VerifySecret((*carol)->password_hash, password));
  EXPECT_FALSE(auth::VerifySecret((*carol)->password_hash, password + "\n"));
  EXPECT_TRUE(auth::VerifySecret(store->FindUser("dave")->value().password_hash, "other-pw"));
  EXPECT_EQ(StagingBytes(data).find(password), std::string::npos);

  r = DfWithStdin(
      "", {"users", "add", "erin", "--role", "reader", "--password-stdin", "--data-dir", data});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "dataforge: --password-stdin: nothing on stdin; pipe the password as one line, e.g. "
            "printf '%s\\n' \"$PASSWORD\" | dataforge users add ...\n");
  r = DfWithStdin(
      "\n", {"users", "add", "erin", "--role", "reader", "--password-stdin", "--data-dir", data});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "dataforge: --password-stdin: the password is empty\n");
  EXPECT_EQ(*store->FindUser("erin"), std::nullopt);
}

TEST(UsersTest, ChangesAreAuditedAndRolesComeFromThePipelineFile) {
  TempDir dir;
  std::string data = dir.Sub("data");
  std::string config = dir.Sub("pipeline.yaml");
  WriteFile(config, "auth:\n  roles:\n    analyst:\n      tables: {\"sales.*\": [read]}\n");
  // Without the file, only the built-in roles exist.
  auto r = Df(data, {"users", "add", "ann", "--role", "analyst"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "dataforge: unknown role 'analyst'; the roles are: admin, operator, reader (define "
            "others under auth.roles in the pipeline file)\n");
  r = Df(data, {"users", "add", "ann", "--role", "analist", "--config", config});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "dataforge: unknown role 'analist'; the roles are: admin, analyst, operator, reader "
            "(define others under auth.roles in the pipeline file)\n");
  r = Df(data, {"users", "add", "ann", "--role", "analyst", "--config", config});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = Df(data, {"users", "add", "ann", "--role", "analyst", "--config", config});
  EXPECT_EQ(r.exit_code, 1);
  r = DfWithStdin("pat-s-passw0rd\n", {"users", "add", "pat", "--role", "reader",
                                       "--password-stdin", "--data-dir", data});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = Df(data, {"keys", "create", "ann"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string key = SplitLines(r.out).at(0);
  std::string id = auth::ApiKeyId(key).value_or("?");
  EXPECT_EQ(Df(data, {"keys", "revoke", id}).exit_code, 0);
  EXPECT_EQ(Df(data, {"keys", "revoke", "000000000000"}).exit_code, 1);
  EXPECT_EQ(Df(data, {"users", "remove", "ann"}).exit_code, 0);

  std::string who = getenv("USER") != nullptr && *getenv("USER") ? getenv("USER") : "";
  auto lines = SplitLines(ReadFile(data + "/audit.log"));
  const std::vector<std::pair<std::string, std::string>> want = {
      {"users add ann --role analyst", "ok"},
      {"users add ann --role analyst", "FailedPrecondition"},
      {"users add pat --role reader", "ok"},
      {"keys create ann (key " + id + ")", "ok"},
      {"keys revoke " + id, "ok"},
      {"keys revoke 000000000000", "NotFound"},
      {"users remove ann", "ok"},
  };
  ASSERT_EQ(lines.size(), want.size()) << ReadFile(data + "/audit.log");
  for (size_t i = 0; i < want.size(); ++i) {
    const std::string& line = lines[i];
    EXPECT_TRUE(std::regex_match(
        line, std::regex(
                  R"(\{"at":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z","who":"[^"]+","role":"admin",)"
                  R"("method":"local","from":"cli","action":"[^"]+","result":"[A-Za-z]+"\})")))
        << line;
    EXPECT_EQ(JsonField(line, "action"), want[i].first) << line;
    EXPECT_EQ(JsonField(line, "result"), want[i].second) << line;
    if (!who.empty()) {
      EXPECT_EQ(JsonField(line, "who"), who) << line;
    }
  }
  std::string audit = ReadFile(data + "/audit.log");
  EXPECT_EQ(audit.find(key.substr(17)), std::string::npos);
  EXPECT_EQ(audit.find("pat-s-passw0rd"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(stat((data + "/audit.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(KeysTest, CreatePrintsTheKeyOnceAndListNeverShowsIt) {
  TempDir dir;
  std::string data = dir.Sub("data");
  ASSERT_EQ(Df(data, {"users", "add", "bob", "--role", "reader"}).exit_code, 0);
  auto r = Df(data, {"keys", "create", "bob", "--expires", "90d"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Exactly one line on stdout: the key.
  std::smatch m;
  ASSERT_TRUE(std::regex_match(r.out, m, std::regex("^(dfk_([0-9a-f]+)_[A-Za-z0-9_-]+)\n$")))
      << r.out;
  const std::string key = m[1], id = m[2];
  EXPECT_EQ(id.size(), 12u);
  // stderr names the key by its id, never the secret.
  EXPECT_EQ(SplitLines(r.err).size(), 1u) << r.err;
  EXPECT_NE(r.err.find("API key " + id + " created for user bob (role reader), expires "),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find(key), std::string::npos);

  for (auto args :
       std::vector<std::vector<std::string>>{{"keys", "list"}, {"keys", "list", "--json"}}) {
    auto list = Df(data, args);
    EXPECT_EQ(list.exit_code, 0) << list.err;
    EXPECT_EQ(list.out.find(key.substr(17)), std::string::npos) << list.out;
    EXPECT_EQ(list.out.find("argon2"), std::string::npos) << list.out;
    EXPECT_NE(list.out.find(id), std::string::npos) << list.out;
  }
  auto list = Df(data, {"keys", "list"});
  auto lines = SplitLines(list.out);
  ASSERT_EQ(lines.size(), 2u) << list.out;
  EXPECT_EQ(lines[0],
            "KEY ID        USER                     CREATED                   EXPIRES          "
            "         REVOKED                   STATE");
  EXPECT_TRUE(std::regex_match(lines[1], std::regex(id + "  bob {22}\\S+ \\S+ - {25}active")))
      << lines[1];

  // Only the hash is stored, and it verifies the printed key; 90 days exactly.
  auto store = OpenStore("sqlite://" + data + "/staging.db");
  ASSERT_NE(store, nullptr);
  auto record = store->FindKey(id);
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->user, "bob");
  EXPECT_EQ((*record)->expires_unix - (*record)->created_unix, 90 * 86400);
  EXPECT_TRUE(auth::VerifySecret((*record)->secret_hash, key));
  EXPECT_EQ(StagingBytes(data).find(key.substr(17)), std::string::npos);

  // A key without --expires never expires.
  r = Df(data, {"keys", "create", "bob"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto second = auth::ApiKeyId(SplitLines(r.out).at(0));
  ASSERT_TRUE(second.has_value()) << r.out;
  EXPECT_EQ(store->FindKey(*second)->value().expires_unix, 0);
  EXPECT_NE(r.err.find("never expires"), std::string::npos) << r.err;
}

TEST(KeysTest, RevokedAndExpiredKeysAreListedAsSuch) {
  TempDir dir;
  std::string data = dir.Sub("data");
  ASSERT_EQ(Df(data, {"users", "add", "bob", "--role", "reader"}).exit_code, 0);
  auto create = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"keys", "create", "bob"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = Df(data, args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return SplitLines(r.out).empty() ? std::string() : SplitLines(r.out)[0];
  };
  std::string short_lived = create({"--expires", "1s"});
  std::string revoked = create({});
  std::string active = create({"--expires", "12h"});
  auto id = [](const std::string& key) { return auth::ApiKeyId(key).value_or("?"); };

  auto r = Df(data, {"keys", "revoke", id(revoked)});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "API key " + id(revoked) + " revoked\n");
  // Again: still revoked, no error. The whole key works too, and is never echoed.
  r = Df(data, {"keys", "revoke", revoked});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "API key " + id(revoked) + " revoked\n");

  auto states = [&] {
    std::map<std::string, std::string> out;
    for (const auto& line : SplitLines(Df(data, {"keys", "list", "--json"}).out)) {
      out[JsonField(line, "key_id")] = JsonField(line, "state");
    }
    return out;
  };
  // The 1-second key expires by itself.
  ASSERT_TRUE(WaitFor([&] { return states()[id(short_lived)] == "expired"; }, 20));
  EXPECT_EQ(states(),
            (std::map<std::string, std::string>{
                {id(short_lived), "expired"}, {id(revoked), "revoked"}, {id(active), "active"}}));
  auto list = Df(data, {"keys", "list", "--json"});
  for (const auto& line : SplitLines(list.out)) {
    if (JsonField(line, "key_id") == id(revoked)) {
      EXPECT_NE(JsonField(line, "revoked"), "") << line;
      EXPECT_EQ(JsonField(line, "expires"), "") << line;
    }
  }
  // Removing the user revokes its remaining keys.
  ASSERT_EQ(Df(data, {"users", "remove", "bob"}).exit_code, 0);
  EXPECT_EQ(states()[id(active)], "revoked");
}

TEST(UsersTest, UsersAddedBeforeTheFirstRun) {
  TempDir dir;
  std::string data = dir.Sub("data");
  ASSERT_EQ(Df(data, {"users", "add", "alice", "--role", "admin"}).exit_code, 0);
  // staging.db holds only the user tables: inspection says "run first", as before any user.
  auto r = Df(data, {"status"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "dataforge: staging database " + data +
                       "/staging.db has no pipeline tables yet (run `dataforge run` first)\n");
  r = RunDataforge({"run", "--max-records", "300", "--data-dir", data});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  StatusJson s = Status(data);
  EXPECT_EQ(s.fetched, 300);
  EXPECT_EQ(s.stored + s.dead_lettered, 300);
  EXPECT_EQ(UserLines(data),
            std::vector<std::string>{R"({"name":"alice","role":"admin","password":false})"});
}

TEST(UsersTest, WorkWhileAPipelineRunsOnTheDataDir) {
  TempDir dir;
  std::string data = dir.Sub("data");
  // Without --max-records it runs until the signal: the commands below run beside it.
  auto run = StartDataforge({"run", "--data-dir", data});
  ASSERT_TRUE(WaitFor([&] { return StoredNow(data) > 0; }, 60)) << run.Stderr();
  auto r = Df(data, {"users", "add", "alice", "--role", "admin"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = Df(data, {"keys", "create", "alice"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(SplitLines(r.out).size(), 1u);
  EXPECT_EQ(UserLines(data),
            std::vector<std::string>{R"({"name":"alice","role":"admin","password":false})"});
  EXPECT_EQ(SplitLines(Df(data, {"keys", "list", "--json"}).out).size(), 1u);
  // The pipeline did not notice, and was running all along.
  EXPECT_GT(StoredNow(data), 0);
  EXPECT_EQ(run.Stdout().find("drained"), std::string::npos) << run.Stdout();
  run.Signal(SIGTERM);
  auto done = run.Wait(120000);
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_NE(done.out.find("dataforge run: drained"), std::string::npos) << done.out;
  StatusJson s = Status(data);
  EXPECT_GT(s.fetched, 0);
  EXPECT_EQ(s.stored + s.dead_lettered, s.fetched);
  EXPECT_EQ(UserLines(data),
            std::vector<std::string>{R"({"name":"alice","role":"admin","password":false})"});
}

TEST(UsersTest, TwoDataDirsOnOnePostgresStagingShareUsersAndKeys) {
  PostgresServer pg;
  TempDir dir;
  std::string a = dir.Sub("a"), b = dir.Sub("b");
  const std::vector<std::string> staging = {"--staging", pg.Url()};
  // A database DataForge never touched reads as no users, and is left untouched.
  auto r = Df(b, {"users", "list"}, staging);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, kNoUsers);
  EXPECT_EQ(pg.Psql("SELECT count(*) FROM pg_namespace WHERE nspname = 'dataforge'"), "0");

  r = Df(a, {"users", "add", "alice", "--role", "operator"}, staging);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(UserLines(b, staging),
            std::vector<std::string>{R"({"name":"alice","role":"operator","password":false})"});
  r = Df(b, {"users", "add", "alice", "--role", "reader"}, staging);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "dataforge: user 'alice' exists already; see: dataforge users list\n");
  r = Df(b, {"keys", "create", "alice"}, staging);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string id = auth::ApiKeyId(SplitLines(r.out).at(0)).value_or("?");
  auto listed = SplitLines(Df(a, {"keys", "list", "--json"}, staging).out);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(JsonField(listed[0], "key_id"), id);
  EXPECT_EQ(JsonField(listed[0], "state"), "active");
  EXPECT_EQ(pg.Psql("SELECT count(*) FROM dataforge.auth_api_keys WHERE secret_hash LIKE "
                    "'$argon2id$%'"),
            "1");
  // Neither data dir has a SQLite staging file: the users are in PostgreSQL only.
  EXPECT_NE(access((a + "/staging.db").c_str(), F_OK), 0);
  EXPECT_NE(access((b + "/staging.db").c_str(), F_OK), 0);

  r = Df(a, {"users", "remove", "alice"}, staging);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Df(b, {"users", "list"}, staging).out, kNoUsers);
  listed = SplitLines(Df(b, {"keys", "list", "--json"}, staging).out);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(JsonField(listed[0], "state"), "revoked");

  // An unreachable database is a runtime error (exit 1), in one line, password masked.
  std::string down =
      fmt::format("postgresql://postgres:hunter2@127.0.0.1:{}/dataforge", FreePort());
  for (auto args : std::vector<std::vector<std::string>>{
           {"users", "list"}, {"users", "add", "x", "--role", "admin"}}) {
    r = Df(a, args, {"--staging", down});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(SplitLines(r.err).size(), 1u) << r.err;
    EXPECT_EQ(r.err.rfind("dataforge: ", 0), 0u) << r.err;
    EXPECT_EQ(r.err.find("hunter2"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
  }
}

}  // namespace
}  // namespace dataforge::testing
