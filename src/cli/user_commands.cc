// `dataforge users add|list|remove` and `dataforge keys create|list|revoke`: the users and API
// keys of the REST API and the CQL endpoint, kept in the staging database (auth/credential_store.h;
// docs/security.md "Users and API keys"). They work beside a running pipeline: SQLite staging is
// shared through WAL, PostgreSQL staging by every server on it.
#include <pwd.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <iostream>

#include <fmt/format.h>

#include "auth/access_policy.h"
#include "auth/audit_log.h"
#include "auth/credential_store.h"
#include "cli/commands.h"
#include "common/clock.h"
#include "common/escape.h"
#include "common/json_writer.h"
#include "common/redact.h"
#include "pipeline/data_dir.h"
#include "schedule/schedule.h"

namespace dataforge {
namespace {

constexpr size_t kMaxNameLength = 64;
constexpr const char* kNameRule = "use 1 to 64 letters, digits, '.', '_', '-' or '@'";

Status CheckUserName(const std::string& name) {
  if (name.empty()) {
    return Status::ConfigError(fmt::format("the user name is empty; {}", kNameRule));
  }
  bool ok = name.size() <= kMaxNameLength;
  for (char c : name) {
    ok &= (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '_' || c == '-' || c == '@';
  }
  if (ok) return Status::OK();
  return Status::ConfigError(
      fmt::format("user name '{}' is not allowed; {}", EscapeControlChars(name), kNameRule));
}

// The role must be one of the access policy's: a built-in one or one of auth.roles.
Status CheckRole(const PipelineConfig& config, const std::string& role) {
  DF_ASSIGN_OR_RETURN(auto policy, auth::AccessPolicy::FromConfig(config.auth));
  if (policy.HasRole(role)) return Status::OK();
  return Status::ConfigError(fmt::format(
      "unknown role '{}'; the roles are: {} (define others under auth.roles in the pipeline file)",
      EscapeControlChars(role), fmt::join(policy.RoleNames(), ", ")));
}

// The user running the command, for the audit log.
std::string OsUser() {
  if (const char* user = std::getenv("USER"); user != nullptr && *user != '\0') return user;
  if (const passwd* pw = getpwuid(geteuid()); pw != nullptr) return pw->pw_name;
  return fmt::format("uid {}", geteuid());
}

std::string AuditLogPath(const PipelineConfig& config, const std::string& data_dir) {
  const std::string& path = config.auth.audit_log;
  return !path.empty() && path[0] == '/' ? path : data_dir + "/" + path;
}

// Appends one line to the audit log (auth.audit_log, relative paths in the data dir): who (the
// OS user, acting with the admin role: the CLI works on the data dir's files directly), method
// "local", from "cli", what, and the result ("ok" or the error code). Never a password or key.
// A log that cannot be written is a warning: the change is made already.
void Audit(const PipelineConfig& config, const std::string& data_dir, const std::string& action,
           const Status& result) {
  auto log = auth::AuditLog::Open(AuditLogPath(config, data_dir));
  if (!log.ok()) {
    spdlog::warn("{}", log.status().message());
    return;
  }
  (*log)->Record(auth::AuditEntry{auth::Principal{OsUser(), "admin", "local", ""}, "cli", action,
                                  result.ok() ? "ok" : std::string(StatusCodeName(result.code()))});
}

// The credential store of the data dir's staging database. Writing creates the data dir (and
// the SQLite file) when missing; reading never creates anything.
Result<std::unique_ptr<auth::CredentialStore>> OpenStore(const CliContext& ctx,
                                                         const PipelineConfig& config,
                                                         OpenMode mode) {
  std::string url = ResolveUrls(config, ctx.data_dir).staging;
  // The data dir holds the audit log of the change, whatever the staging database.
  if (mode == OpenMode::kReadWrite) {
    DF_RETURN_IF_ERROR(PrepareDataDir(ctx.data_dir, /*create=*/true));
  }
  return auth::OpenCredentialStore(url, mode);
}

std::string Time(int64_t unix_s) {
  return unix_s == 0 ? "-" : FormatIso8601(unix_s * 1'000'000, "UTC");
}

// Reads the password: one line of stdin, without its line ending.
Result<std::string> ReadPassword() {
  std::string line;
  if (!std::getline(std::cin, line) && line.empty()) {
    return Status::ConfigError(
        "--password-stdin: nothing on stdin; pipe the password as one line, e.g. "
        "printf '%s\\n' \"$PASSWORD\" | dataforge users add ...");
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) return Status::ConfigError("--password-stdin: the password is empty");
  return line;
}

// Runs a change through `body` and records it in the audit log, whatever the outcome.
template <typename Fn>
void Change(CliContext& ctx, int* exit_code, std::function<std::string()> action, Fn body) {
  WithConfig(ctx, exit_code, [&](const PipelineConfig& c) -> Status {
    Status s = body(c);
    // Usage errors changed nothing and reached no store: they are not audited.
    if (s.code() != StatusCode::kConfigError) Audit(c, ctx.data_dir, action(), s);
    return s;
  });
}

void AddUsersCommands(CLI::App& app, CliContext& ctx, int* exit_code) {
  auto* users = app.add_subcommand(
      "users", "Users of the REST API and the CQL endpoint (authentication is on once one exists)");
  users->require_subcommand(1);

  auto name = std::make_shared<std::string>();
  auto role = std::make_shared<std::string>();
  auto password_stdin = std::make_shared<bool>(false);
  auto* add = users->add_subcommand(
      "add",
      "Add user NAME with role ROLE; with --password-stdin it may log in with a password "
      "(HTTP Basic, CQL), otherwise only with API keys (dataforge keys create) or JWTs");
  add->add_option("NAME", *name, "User name: 1 to 64 letters, digits, '.', '_', '-' or '@'")
      ->required();
  add->add_option("--role", *role,
                  "Role: admin, operator, reader, or one defined under auth.roles in the "
                  "pipeline file")
      ->required();
  auto* stdin_flag =
      add->add_flag("--password-stdin", *password_stdin,
                    "Read the password from stdin (one line); only its argon2id hash is stored");
  auto password_env = std::make_shared<std::string>();
  add->add_option("--password-env", *password_env,
                  "Read the password from this environment variable (a container's secret, "
                  "e.g. from docker compose's env file); only its argon2id hash is stored")
      ->excludes(stdin_flag);
  auto exists_ok = std::make_shared<bool>(false);
  add->add_flag("--exists-ok", *exists_ok,
                "A user NAME with role ROLE already there is success, left as it is (its "
                "password too): for init jobs that run at every start");
  add->callback([&ctx, exit_code, name, role, password_stdin, password_env, exists_ok] {
    auto action = [&] { return fmt::format("users add {} --role {}", *name, *role); };
    Change(ctx, exit_code, action, [&](const PipelineConfig& c) -> Status {
      DF_RETURN_IF_ERROR(CheckUserName(*name));
      DF_RETURN_IF_ERROR(CheckRole(c, *role));
      auth::UserRecord user{*name, *role, "", Clock::Real()->NowMicros() / 1'000'000};
      if (*password_stdin) {
        DF_ASSIGN_OR_RETURN(std::string password, ReadPassword());
        DF_ASSIGN_OR_RETURN(user.password_hash, auth::HashSecret(password));
      }
      if (!password_env->empty()) {
        const char* password = std::getenv(password_env->c_str());
        if (password == nullptr || *password == '\0') {
          return Status::ConfigError(fmt::format(
              "--password-env {}: the environment variable is {}; set it to the password",
              EscapeControlChars(*password_env), password == nullptr ? "not set" : "empty"));
        }
        RegisterSecret(password);  // never in a log line
        DF_ASSIGN_OR_RETURN(user.password_hash, auth::HashSecret(password));
      }
      DF_ASSIGN_OR_RETURN(auto store, OpenStore(ctx, c, OpenMode::kReadWrite));
      if (*exists_ok) {
        DF_ASSIGN_OR_RETURN(auto existing, store->FindUser(*name));
        if (existing && existing->role == *role) {
          fmt::print("user {} exists already with role {}; left as it is\n", *name, *role);
          return Status::OK();
        }
        if (existing) {
          return Status::FailedPrecondition(fmt::format(
              "user {} exists with role {}, not {}; remove it first (dataforge users remove {})",
              *name, existing->role, *role, *name));
        }
      }
      Status s = store->AddUser(user);
      if (s.code() == StatusCode::kFailedPrecondition) {
        return Status::FailedPrecondition(
            fmt::format("{}; see: dataforge users list", s.message()));
      }
      DF_RETURN_IF_ERROR(s);
      fmt::print("user {} added with role {}, {}\n", user.name, user.role,
                 !user.password_hash.empty()
                     ? "with a password"
                     : "without a password (dataforge keys create gives it a key)");
      return Status::OK();
    });
  });

  auto json = std::make_shared<bool>(false);
  auto* list = users->add_subcommand("list",
                                     "List users: name, role, whether it has a password, "
                                     "when it was added");
  list->add_flag("--json", *json, "One JSON object per line");
  list->callback([&ctx, exit_code, json] {
    WithConfig(ctx, exit_code, [&](const PipelineConfig& c) -> Status {
      DF_ASSIGN_OR_RETURN(auto store, OpenStore(ctx, c, OpenMode::kReadOnly));
      DF_ASSIGN_OR_RETURN(auto rows, store->ListUsers());
      if (rows.empty() && !*json) {
        fmt::print(
            "no users (authentication is off); add one: dataforge users add NAME --role "
            "ROLE\n");
        return Status::OK();
      }
      if (!*json) fmt::print("{:<24} {:<16} {:<9} {}\n", "NAME", "ROLE", "PASSWORD", "CREATED");
      for (const auto& u : rows) {
        if (*json) {
          fmt::print("{}\n", JsonObjectWriter()
                                 .String("name", u.name)
                                 .String("role", u.role)
                                 .Bool("password", !u.password_hash.empty())
                                 .String("created", Time(u.created_unix))
                                 .Finish());
        } else {
          fmt::print("{:<24} {:<16} {:<9} {}\n", u.name, u.role,
                     u.password_hash.empty() ? "no" : "yes", Time(u.created_unix));
        }
      }
      return Status::OK();
    });
  });

  auto* remove = users->add_subcommand("remove", "Remove user NAME and revoke all its API keys");
  remove->add_option("NAME", *name, "User name")->required();
  remove->callback([&ctx, exit_code, name] {
    auto action = [&] { return fmt::format("users remove {}", *name); };
    Change(ctx, exit_code, action, [&](const PipelineConfig& c) -> Status {
      DF_RETURN_IF_ERROR(CheckUserName(*name));
      DF_ASSIGN_OR_RETURN(auto store, OpenStore(ctx, c, OpenMode::kReadWrite));
      Status s = store->RemoveUser(*name, Clock::Real()->NowMicros() / 1'000'000);
      if (s.code() == StatusCode::kNotFound) {
        return Status::NotFound(fmt::format("{}; see: dataforge users list", s.message()));
      }
      DF_RETURN_IF_ERROR(s);
      fmt::print("user {} removed; its API keys are revoked\n", *name);
      return Status::OK();
    });
  });
}

// "90d", "12h", "30m", "1h30m" -> seconds; at least one second.
Result<int64_t> ParseExpiry(const std::string& text) {
  auto us = ParseDuration(text);
  if (!us.ok()) return Status::ConfigError(fmt::format("--expires: {}", us.status().message()));
  if (*us < 1'000'000) {
    return Status::ConfigError(
        fmt::format("--expires '{}' is shorter than one second; write e.g. 90d, 12h or 30m", text));
  }
  return *us / 1'000'000;
}

const char* KeyState(const auth::ApiKeyRecord& k, int64_t now) {
  if (k.revoked_unix != 0) return "revoked";
  if (k.expires_unix != 0 && k.expires_unix <= now) return "expired";
  return "active";
}

void AddKeysCommands(CLI::App& app, CliContext& ctx, int* exit_code) {
  auto* keys = app.add_subcommand(
      "keys", "API keys: each acts as its user, with the user's role (Authorization: Bearer KEY)");
  keys->require_subcommand(1);

  auto user = std::make_shared<std::string>();
  auto expires = std::make_shared<std::string>();
  auto* create = keys->add_subcommand(
      "create",
      "Create an API key for USER and print it, once, on stdout (only its argon2id "
      "hash is stored: it cannot be shown again)");
  create->add_option("USER", *user, "The user the key acts as (dataforge users add)")->required();
  create->add_option("--expires", *expires,
                     "Valid for this long, e.g. 90d, 12h, 30m (default: until revoked)");
  create->callback([&ctx, exit_code, user, expires] {
    std::string key_id;
    auto action = [&] {
      return fmt::format("keys create {}{}", *user,
                         key_id.empty() ? "" : fmt::format(" (key {})", key_id));
    };
    Change(ctx, exit_code, action, [&](const PipelineConfig& c) -> Status {
      DF_RETURN_IF_ERROR(CheckUserName(*user));
      int64_t lifetime = 0;
      if (!expires->empty()) {
        DF_ASSIGN_OR_RETURN(lifetime, ParseExpiry(*expires));
      }
      DF_ASSIGN_OR_RETURN(auto store, OpenStore(ctx, c, OpenMode::kReadWrite));
      DF_ASSIGN_OR_RETURN(auto owner, store->FindUser(*user));
      if (!owner) {
        return Status::NotFound(fmt::format("no user '{}'; see: dataforge users list", *user));
      }
      int64_t now = Clock::Real()->NowMicros() / 1'000'000;
      DF_ASSIGN_OR_RETURN(auto key,
                          auth::GenerateApiKey(*user, now, lifetime ? now + lifetime : 0));
      Status s = store->AddKey(key.record);
      if (s.code() == StatusCode::kNotFound) {
        return Status::NotFound(fmt::format("{}; see: dataforge users list", s.message()));
      }
      DF_RETURN_IF_ERROR(s);
      key_id = key.record.key_id;
      fmt::print("{}\n", key.text);
      std::fflush(stdout);
      fmt::print(stderr,
                 "API key {} created for user {} (role {}), {}; it is printed only this once\n",
                 key_id, *user, owner->role,
                 lifetime ? fmt::format("expires {}", Time(now + lifetime)) : "never expires");
      return Status::OK();
    });
  });

  auto json = std::make_shared<bool>(false);
  auto* list = keys->add_subcommand(
      "list", "List API keys: id, user, created, expires, revoked, state (never the key itself)");
  list->add_flag("--json", *json, "One JSON object per line");
  list->callback([&ctx, exit_code, json] {
    WithConfig(ctx, exit_code, [&](const PipelineConfig& c) -> Status {
      DF_ASSIGN_OR_RETURN(auto store, OpenStore(ctx, c, OpenMode::kReadOnly));
      DF_ASSIGN_OR_RETURN(auto rows, store->ListKeys());
      if (rows.empty() && !*json) {
        fmt::print("no API keys; create one: dataforge keys create USER\n");
        return Status::OK();
      }
      int64_t now = Clock::Real()->NowMicros() / 1'000'000;
      if (!*json) {
        fmt::print("{:<12}  {:<24} {:<25} {:<25} {:<25} {}\n", "KEY ID", "USER", "CREATED",
                   "EXPIRES", "REVOKED", "STATE");
      }
      for (const auto& k : rows) {
        if (*json) {
          fmt::print("{}\n", JsonObjectWriter()
                                 .String("key_id", k.key_id)
                                 .String("user", k.user)
                                 .String("created", Time(k.created_unix))
                                 .String("expires", k.expires_unix ? Time(k.expires_unix) : "")
                                 .String("revoked", k.revoked_unix ? Time(k.revoked_unix) : "")
                                 .String("state", KeyState(k, now))
                                 .Finish());
        } else {
          fmt::print("{:<12}  {:<24} {:<25} {:<25} {:<25} {}\n", k.key_id, k.user,
                     Time(k.created_unix), k.expires_unix ? Time(k.expires_unix) : "never",
                     Time(k.revoked_unix), KeyState(k, now));
        }
      }
      return Status::OK();
    });
  });

  auto key_arg = std::make_shared<std::string>();
  auto* revoke = keys->add_subcommand(
      "revoke", "Revoke API key KEY_ID at once (servers refuse it within a second)");
  revoke->add_option("KEY_ID", *key_arg, "The key's id, as dataforge keys list shows it")
      ->required();
  revoke->callback([&ctx, exit_code, key_arg] {
    // The whole key is accepted too; only its id is ever printed or logged.
    std::string id = auth::ApiKeyId(*key_arg).value_or(*key_arg);
    auto action = [&] { return fmt::format("keys revoke {}", id); };
    Change(ctx, exit_code, action, [&](const PipelineConfig& c) -> Status {
      bool hex = id.size() == 12;
      for (char ch : id) hex &= (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
      if (!hex) {
        // Not echoed: it may be a mistyped key.
        return Status::ConfigError(
            "KEY_ID is the 12 hex characters of the key's id, as dataforge keys list shows it");
      }
      DF_ASSIGN_OR_RETURN(auto store, OpenStore(ctx, c, OpenMode::kReadWrite));
      Status s = store->RevokeKey(id, Clock::Real()->NowMicros() / 1'000'000);
      if (s.code() == StatusCode::kNotFound) {
        return Status::NotFound(fmt::format("{}; see: dataforge keys list", s.message()));
      }
      DF_RETURN_IF_ERROR(s);
      fmt::print("API key {} revoked\n", id);
      return Status::OK();
    });
  });
}

}  // namespace

void AddUserCommands(CLI::App& app, CliContext& ctx, int* exit_code) {
  AddUsersCommands(app, ctx, exit_code);
  AddKeysCommands(app, ctx, exit_code);
}

}  // namespace dataforge
