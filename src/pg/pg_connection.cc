#include "pg/pg_connection.h"

#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "common/redact.h"

namespace dataforge {
namespace {

bool Contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

// SQLSTATEs after which the same statement may succeed on a fresh connection or a second try.
bool RetryableSqlState(std::string_view state) {
  if (state.size() != 5) return false;
  std::string_view cls = state.substr(0, 2);
  return cls == "08" ||                           // connection exception
         state == "57P01" || state == "57P02" ||  // admin / crash shutdown
         state == "57P03" ||                      // cannot connect now (starting up)
         state == "57014" ||                      // query canceled (statement_timeout)
         state == "40001" || state == "40P01" ||  // serialization failure, deadlock
         cls == "53" ||                           // insufficient resources (too many connections)
         state == "55P03" ||                      // lock not available (lock_timeout)
         state == "55006";  // object in use: a replication slot a dead client still holds
}

// Connection failures carry no SQLSTATE; the text says which kind.
bool ConfigConnectFailure(std::string_view msg) {
  return Contains(msg, "password authentication failed") || Contains(msg, "does not exist") ||
         Contains(msg, "no pg_hba.conf entry") || Contains(msg, "could not translate host name") ||
         Contains(msg, "invalid URI") || Contains(msg, "invalid connection option") ||
         Contains(msg, "missing \"=\"") || Contains(msg, "password is required") ||
         Contains(msg, "no password supplied") || Contains(msg, "SSL") ||
         Contains(msg, "not permitted to log in") || Contains(msg, "permission denied") ||
         Contains(msg, "invalid sslmode") || Contains(msg, "invalid integer value");
}

std::string FixFor(std::string_view msg, const std::string& what) {
  if (Contains(msg, "password authentication failed") || Contains(msg, "no password supplied") ||
      Contains(msg, "password is required")) {
    return fmt::format(
        "check the user and password in the {} url (a pipeline file can use "
        "${{ENV_VAR}} for the password)",
        what);
  }
  if (Contains(msg, "database") && Contains(msg, "does not exist")) {
    return "create the database (createdb NAME) or fix its name in the url";
  }
  if (Contains(msg, "role") && Contains(msg, "does not exist")) {
    return "create the role (createuser NAME) or fix the user in the url";
  }
  if (Contains(msg, "no pg_hba.conf entry")) {
    return "allow this host and user in the server's pg_hba.conf, or fix sslmode in the url";
  }
  if (Contains(msg, "could not translate host name")) return "fix the host name in the url";
  if (Contains(msg, "Connection refused") || Contains(msg, "timeout expired") ||
      Contains(msg, "No route to host")) {
    return fmt::format("is PostgreSQL running there? check the host and port in the {} url", what);
  }
  return "";
}

}  // namespace

PgResult& PgResult::operator=(PgResult&& o) noexcept {
  if (this != &o) {
    if (r_) PQclear(r_);
    r_ = o.r_;
    o.r_ = nullptr;
  }
  return *this;
}

PgResult::~PgResult() {
  if (r_) PQclear(r_);
}

int64_t PgResult::Int(int row, int col) const {
  if (IsNull(row, col)) return 0;
  std::string_view t = Text(row, col);
  int64_t v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

std::string OneLine(std::string_view message) {
  std::string out;
  size_t start = 0;
  while (start < message.size()) {
    size_t end = message.find('\n', start);
    if (end == std::string_view::npos) end = message.size();
    std::string_view line = message.substr(start, end - start);
    start = end + 1;
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
    if (line.empty()) continue;
    // "connection to server at "h" (addr), port p failed: FATAL:  msg" -> "msg"
    if (line.rfind("connection to server", 0) == 0) {
      size_t failed = line.find("failed: ");
      if (failed != std::string_view::npos) line.remove_prefix(failed + 8);
    }
    for (std::string_view sev : {"FATAL:  ", "ERROR:  ", "FATAL: ", "ERROR: "}) {
      if (line.rfind(sev, 0) == 0) line.remove_prefix(sev.size());
    }
    if (!out.empty()) out += "; ";
    out += line;
  }
  return out;
}

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(const std::string& url,
                                                            const std::string& what,
                                                            bool replication) {
  std::unique_ptr<PgConnection> c(new PgConnection());
  c->what_ = what;
  // Earlier keywords are defaults; the URL (dbname, expanded) overrides them.
  std::vector<const char*> keys = {"connect_timeout", "application_name"};
  std::vector<const char*> values = {"10", "dataforge"};
  if (replication) {
    keys.push_back("replication");
    values.push_back("database");
  }
  keys.push_back("dbname");
  values.push_back(url.c_str());
  keys.push_back(nullptr);
  values.push_back(nullptr);
  c->conn_ = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (c->conn_ == nullptr) return Status::Internal("libpq: out of memory");
  if (PQstatus(c->conn_) != CONNECTION_OK) {
    const char* host = PQhost(c->conn_);
    const char* port = PQport(c->conn_);
    const char* db = PQdb(c->conn_);
    const char* user = PQuser(c->conn_);
    c->endpoint_ = fmt::format("{}:{}/{}", host ? host : "?", port ? port : "?", db ? db : "?");
    c->user_ = user ? user : "";
    return c->ConnectionError("connecting");
  }
  c->endpoint_ = fmt::format("{}:{}/{}", PQhost(c->conn_), PQport(c->conn_), PQdb(c->conn_));
  c->user_ = PQuser(c->conn_);
  return c;
}

PgConnection::~PgConnection() {
  if (conn_) PQfinish(conn_);
}

bool PgConnection::Broken() const {
  return conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK;
}

Status PgConnection::ConnectionError(std::string_view doing) const {
  std::string msg = OneLine(conn_ ? PQerrorMessage(conn_) : "no connection");
  if (msg.empty()) msg = "connection lost";
  std::string fix = FixFor(msg, what_);
  // libpq's text can quote the connection string or a badly encoded password.
  std::string text = Redact(fmt::format("{} at {}{}: {} failed: {}{}", what_, endpoint_,
                                        user_.empty() ? "" : " as " + user_, doing, msg,
                                        fix.empty() ? "" : "; " + fix));
  if (ConfigConnectFailure(msg)) return Status::ConfigError(text);
  return Status::Unavailable(text);
}

Status PgConnection::ResultError(const PGresult* r, std::string_view doing) const {
  if (r == nullptr || Broken()) return ConnectionError(doing);
  const char* state_c = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  const char* primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
  std::string state = state_c ? state_c : "";
  std::string msg = primary ? primary : OneLine(PQresultErrorMessage(r));
  if (msg.empty()) msg = OneLine(PQerrorMessage(conn_));
  std::string text =
      fmt::format("{} at {}: {}: {} (SQLSTATE {})", what_, endpoint_, doing, msg, state);
  if (state.empty() || RetryableSqlState(state)) return Status::Unavailable(text);
  std::string_view cls = std::string_view(state).substr(0, 2);
  if (cls == "22" || cls == "54") return Status::InvalidArgument(msg);
  if (state == "42501") {
    return Status::ConfigError(fmt::format(
        "{}; grant the privilege to user '{}' (or connect as a user that has it)", text, user_));
  }
  if (cls == "28" || state == "3D000" || state == "55000" || cls == "42") {
    return Status::ConfigError(text);
  }
  return Status::Internal(text);
}

Status PgConnection::Exec(std::string_view sql) {
  PgResult r(PQexec(conn_, std::string(sql).c_str()));
  ExecStatusType st = r.get() ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) {
    return Status::OK();
  }
  return ResultError(r.get(), "running SQL");
}

Result<PgResult> PgConnection::Query(const std::string& sql,
                                     const std::vector<std::optional<std::string>>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  PgResult r(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                          values.data(), nullptr, nullptr, 0));
  ExecStatusType st = r.get() ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return r;
  return ResultError(r.get(), "running SQL");
}

Status PgConnection::CopyIn(const std::string& copy_sql, std::string_view data) {
  PgResult start(PQexec(conn_, copy_sql.c_str()));
  if (!start.get() || PQresultStatus(start.get()) != PGRES_COPY_IN) {
    return ResultError(start.get(), "starting COPY");
  }
  constexpr size_t kChunk = 1 << 20;
  for (size_t off = 0; off < data.size(); off += kChunk) {
    size_t n = std::min(kChunk, data.size() - off);
    if (PQputCopyData(conn_, data.data() + off, static_cast<int>(n)) != 1) {
      return ConnectionError("sending COPY data");
    }
  }
  if (PQputCopyEnd(conn_, nullptr) != 1) return ConnectionError("ending COPY");
  Status status;
  while (PGresult* raw = PQgetResult(conn_)) {
    PgResult r(raw);
    if (PQresultStatus(raw) != PGRES_COMMAND_OK && status.ok()) {
      status = ResultError(raw, "COPY");
    }
  }
  return status;
}

}  // namespace dataforge
