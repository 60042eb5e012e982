// Authentication and access control of the REST API end to end: users and keys made with the
// real CLI, `dataforge serve` with the pipeline file's roles and JWT settings, curl as the client.
// 401 without or with bad credentials, 403 per role and resource, API keys, HTTP Basic, HS256
// JWTs (good, expired, tampered, wrong audience), revocation within a second, the failed-login
// limit, the audit log, and two servers sharing their users through one PostgreSQL.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <fmt/format.h>

#include "integration/pg_server.h"
#include "integration/serve_process.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

const char kTable[] = "dataforge.created_users";
const char kSecret[] = "an-hs256-secret-of-at-least-32-bytes!!";

// `dataforge ARGS` with `input` on its stdin.
ProcessResult DfWithStdin(const std::string& input, const std::vector<std::string>& args,
                          const std::vector<std::string>& env) {
  std::string cmd = fmt::format("printf '%s\\n' '{}' | '{}'", input, DATAFORGE_BIN);
  for (const auto& a : args) cmd += fmt::format(" '{}'", a);
  return ChildProcess::Start({"/bin/sh", "-c", cmd}, env).Wait(60000);
}

// Adds a user (with a password when `password` is not empty); ASSERTs it worked.
void AddUser(const std::vector<std::string>& where, const std::string& name,
             const std::string& role, const std::string& password = "",
             const std::vector<std::string>& env = {}) {
  std::vector<std::string> args{"users", "add", name, "--role", role};
  if (!password.empty()) args.push_back("--password-stdin");
  args.insert(args.end(), where.begin(), where.end());
  auto r = password.empty() ? RunDataforge(args, 60000, env) : DfWithStdin(password, args, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

// A new API key of `user`: the one line `keys create` prints.
std::string CreateKey(const std::vector<std::string>& where, const std::string& user,
                      const std::vector<std::string>& env = {}) {
  std::vector<std::string> args{"keys", "create", user};
  args.insert(args.end(), where.begin(), where.end());
  auto r = RunDataforge(args, 60000, env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto lines = SplitLines(r.out);
  EXPECT_EQ(lines.size(), 1u) << r.out;
  return lines.empty() ? "" : lines[0];
}

// curl arguments: the Authorization header, then `more`.
std::vector<std::string> Bearer(const std::string& token, std::vector<std::string> more = {}) {
  more.insert(more.begin(), {"-H", "Authorization: Bearer " + token});
  return more;
}

// HS256 tokens made by Python's hmac (an independent signer), one per line:
// good (role reader, aud dataforge), expired, tampered (payload says admin, signature of the
// good one), wrong audience, signed with another secret.
std::vector<std::string> Tokens() {
  const char script[] = R"py(
import base64, hashlib, hmac, json, sys, time
secret = sys.argv[1].encode()
def b64(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def token(claims, key=secret):
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    sig = b64(hmac.new(key, (head + "." + body).encode(), hashlib.sha256).digest())
    return head + "." + body + "." + sig
now = int(time.time())
good = {"sub": "jo", "role": "reader", "aud": "dataforge", "iss": "test-idp", "exp": now + 600}
print(token(good))
print(token(dict(good, exp=now - 3600)))
h, b, s = token(good).split(".")
print(h + "." + b64(json.dumps(dict(good, role="admin")).encode()) + "." + s)
print(token(dict(good, aud="another-api")))
print(token(good, b"another-secret-of-at-least-32-bytes!!!"))
)py";
  auto r = ChildProcess::Start({"/usr/bin/python3", "-c", script, kSecret}).Wait(30000);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return SplitLines(r.out);
}

std::string ErrorBody(const std::string& code, const std::string& message) {
  return fmt::format(R"({{"error":{{"code":"{}","message":"{}"}}}})", code, message);
}

class HttpAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.Sub("data");
    config_ = dir_.Sub("pipeline.yaml");
    WriteConfig(100);
    where_ = {"--config", config_, "--data-dir", data_};
    env_ = {std::string("DF_TEST_JWT_SECRET=") + kSecret};
  }
  void WriteConfig(int max_failed_logins_per_minute) {
    WriteFile(config_,
              "auth:\n"
              "  max_failed_logins_per_minute: " +
                  std::to_string(max_failed_logins_per_minute) +
                  "\n"
                  "  jwt:\n"
                  "    hs256_secret: ${DF_TEST_JWT_SECRET}\n"
                  "    issuer: test-idp\n"
                  "    audience: dataforge\n"
                  "  roles:\n"
                  "    analyst:\n"
                  "      tables: {\"dataforge.created_*\": [read]}\n");
  }
  ProcessResult Df(std::vector<std::string> args) {
    args.insert(args.end(), where_.begin(), where_.end());
    return RunDataforge(args, 180000, env_);
  }
  TempDir dir_;
  std::string data_, config_;
  std::vector<std::string> where_, env_;
};

TEST_F(HttpAuthTest, RolesKeysBasicAndJwtsOverHttp) {
  auto run = Df({"run", "--no-progress", "--max-records", "50"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  AddUser(where_, "root", "admin", "root-password-1", env_);
  AddUser(where_, "rita", "reader", "", env_);
  AddUser(where_, "ann", "analyst", "", env_);
  const std::string rita = CreateKey(where_, "rita", env_);
  const std::string ann = CreateKey(where_, "ann", env_);

  ServeProcess s({"serve", "--http-port", "0", "--config", config_, "--data-dir", data_}, env_);
  ASSERT_TRUE(s.up());
  EXPECT_EQ(s.details(), "store rocksdb://" + data_ + "/store, auth on, tls off");
  const std::string rows = s.Url(fmt::format("/v1/tables/{}/rows", kTable));
  const std::string one = rows + "/00000000-0000-4000-8000-00000000000a";

  // No credentials: 401 everywhere but /health.
  auto r = Curl({}, s.Url("/health"));
  EXPECT_EQ(r.status, 200);
  for (const char* path : {"/v1/tables", "/v1/status", "/v1/dags"}) {
    r = Curl({}, s.Url(path));
    EXPECT_EQ(r.status, 401) << path;
    EXPECT_EQ(r.body,
              ErrorBody("unauthenticated",
                        "missing credentials: send 'Authorization: Bearer <API key or JWT>' or "
                        "HTTP Basic"))
        << path;
    EXPECT_NE(r.headers.find("WWW-Authenticate: Basic realm=\"dataforge\", Bearer"),
              std::string::npos)
        << r.headers;
  }

  // reader: reads tables and pipeline state, writes nothing, triggers nothing.
  r = Curl(Bearer(rita), rows + "?limit=3&select=id");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.rfind("{\"rows\":[{\"id\":", 0), 0u) << r.body;
  EXPECT_EQ(Curl(Bearer(rita), s.Url("/v1/status")).status, 200);
  r = Curl(Bearer(rita, {"-X", "PUT", "-d", R"({"first_name":"X"})"}), one);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, ErrorBody("forbidden",
                              "role 'reader' may not write tables 'dataforge.created_users' "
                              "('reader' is a built-in role: give the user a role from "
                              "auth.roles that grants it)"));

  // analyst (from the pipeline file): its tables only, no pipeline state.
  r = Curl(Bearer(ann), s.Url("/v1/tables"));
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(kTable), std::string::npos) << r.body;
  r = Curl(Bearer(ann), s.Url("/v1/status"));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, ErrorBody("forbidden",
                              "role 'analyst' may not read pipeline (grant it in "
                              "auth.roles.analyst)"));

  // admin over HTTP Basic writes; a wrong password is 401 with the same text as an unknown user.
  r = Curl({"-u", "root:root-password-1", "-X", "PUT", "-H", "Content-Type: application/json", "-d",
            R"({"first_name":"Ann"})"},
           one);
  EXPECT_EQ(r.status, 200) << r.body;
  r = Curl({"-u", "root:root-password-1"}, one);
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(R"("first_name":"Ann")"), std::string::npos) << r.body;
  for (const char* bad : {"root:wrong", "nobody:root-password-1"}) {
    r = Curl({"-u", bad}, one);
    EXPECT_EQ(r.status, 401) << bad;
    EXPECT_EQ(r.body, ErrorBody("unauthenticated", "wrong user name or password")) << bad;
  }

  // JWTs: a good one reads with its role; expired, tampered, wrong audience, wrong key: 401.
  auto tokens = Tokens();
  ASSERT_EQ(tokens.size(), 5u);
  EXPECT_EQ(Curl(Bearer(tokens[0]), rows + "?limit=1").status, 200);
  r = Curl(Bearer(tokens[0], {"-X", "DELETE"}), one);
  EXPECT_EQ(r.status, 403) << r.body;
  r = Curl(Bearer(tokens[1]), rows);
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find("\"message\":\"token expired at "), std::string::npos) << r.body;
  for (size_t i : {2u, 4u}) {
    r = Curl(Bearer(tokens[i]), rows);
    EXPECT_EQ(r.status, 401) << i;
    EXPECT_EQ(r.body, ErrorBody("unauthenticated", "token signature is invalid")) << i;
  }
  r = Curl(Bearer(tokens[3]), rows);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, ErrorBody("unauthenticated", "token audience does not include 'dataforge'"));

  // A revoked key stops working within a second (the server re-checks cached keys).
  std::string key_id = rita.substr(4, rita.find('_', 4) - 4);
  auto revoke = Df({"keys", "revoke", key_id});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  EXPECT_TRUE(WaitFor([&] { return Curl(Bearer(rita), rows).status == 401; }, 3));
  r = Curl(Bearer(rita), rows);
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find(fmt::format("API key '{}' was revoked at ", key_id)), std::string::npos)
      << r.body;

  // The audit log: the write, the refused write, never a key or password.
  std::string audit = ReadFile(data_ + "/audit.log");
  EXPECT_NE(
      audit.find(fmt::format(
          R"("who":"root","role":"admin","method":"basic","from":"127.0.0.1","action":"PUT /v1/tables/{}/rows/00000000-0000-4000-8000-00000000000a","result":200)",
          kTable)),
      std::string::npos)
      << audit;
  EXPECT_NE(audit.find(R"("who":"rita","role":"reader","method":"key")"), std::string::npos)
      << audit;
  EXPECT_NE(audit.find(R"("result":403)"), std::string::npos) << audit;
  for (const std::string& secret : {rita, ann, std::string("root-password-1"), tokens[0]}) {
    EXPECT_EQ(audit.find(secret), std::string::npos);
    EXPECT_EQ(s.process().Stdout().find(secret), std::string::npos);
    EXPECT_EQ(s.process().Stderr().find(secret), std::string::npos);
  }
  auto stopped = s.Stop();
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
}

TEST_F(HttpAuthTest, FailedLoginsAreLimitedPerClientAddress) {
  WriteConfig(5);
  AddUser(where_, "root", "admin", "root-password-1", env_);
  ServeProcess s({"serve", "--http-port", "0", "--config", config_, "--data-dir", data_}, env_);
  ASSERT_TRUE(s.up());
  // auth.max_failed_logins_per_minute: 5. The 6th failure in a row is refused unchecked, and
  // so is the right password while the address is limited.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Curl({"-u", "root:wrong"}, s.Url("/v1/tables")).status, 401) << i;
  }
  auto r = Curl({"-u", "root:wrong"}, s.Url("/v1/tables"));
  EXPECT_EQ(r.status, 429);
  EXPECT_NE(r.body.find("too many failed logins from 127.0.0.1; retry in "), std::string::npos)
      << r.body;
  EXPECT_NE(r.headers.find("Retry-After: "), std::string::npos) << r.headers;
  EXPECT_EQ(Curl({"-u", "root:root-password-1"}, s.Url("/v1/tables")).status, 429);
  EXPECT_EQ(Curl({}, s.Url("/health")).status, 200);
}

// Two servers on two data dirs whose staging is one PostgreSQL: a key made through one data dir
// works on both, and revoking it through the other stops it on both.
TEST(HttpAuthSharedTest, TwoServersShareUsersThroughPostgres) {
  PostgresServer pg;
  TempDir dir;
  const std::vector<std::string> a{"--staging", pg.Url(), "--data-dir", dir.Sub("a")};
  const std::vector<std::string> b{"--staging", pg.Url(), "--data-dir", dir.Sub("b")};
  AddUser(a, "carol", "reader");
  const std::string key = CreateKey(a, "carol");
  ASSERT_FALSE(key.empty());

  std::vector<std::string> args_a{"serve", "--http-port", "0", "--host", "0.0.0.0"};
  args_a.insert(args_a.end(), a.begin(), a.end());
  std::vector<std::string> args_b{"serve", "--http-port", "0"};
  args_b.insert(args_b.end(), b.begin(), b.end());
  // Authentication is on (a user exists), so listening off loopback needs no flag.
  ServeProcess sa(args_a);
  ServeProcess sb(args_b);
  ASSERT_TRUE(sa.up() && sb.up());
  EXPECT_NE(sa.details().find("auth on"), std::string::npos) << sa.details();
  EXPECT_NE(sb.details().find("auth on"), std::string::npos) << sb.details();
  for (ServeProcess* s : {&sa, &sb}) {
    EXPECT_EQ(Curl({}, s->Url("/v1/tables")).status, 401);
    auto r = Curl(Bearer(key), s->Url("/v1/tables"));
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, R"({"tables":[]})");
  }
  std::vector<std::string> revoke{"keys", "revoke", key};
  revoke.insert(revoke.end(), b.begin(), b.end());
  auto r = RunDataforge(revoke, 60000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (ServeProcess* s : {&sa, &sb}) {
    EXPECT_TRUE(WaitFor([&] { return Curl(Bearer(key), s->Url("/v1/tables")).status == 401; }, 3));
  }
}

}  // namespace
}  // namespace dataforge::testing
