#include "staging/sqlite/sqlite_db.h"

#include <fmt/format.h>

namespace dataforge {

SqliteStatement& SqliteStatement::operator=(SqliteStatement&& o) noexcept {
  if (this != &o) {
    sqlite3_finalize(stmt_);
    db_ = o.db_;
    stmt_ = o.stmt_;
    o.stmt_ = nullptr;
  }
  return *this;
}

SqliteStatement::~SqliteStatement() {
  sqlite3_finalize(stmt_);
}

Result<bool> SqliteStatement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  std::string sql = sqlite3_sql(stmt_) ? sqlite3_sql(stmt_) : "";
  StatusCode code = rc == SQLITE_FULL ? StatusCode::kResourceExhausted : StatusCode::kIOError;
  std::string hint = rc == SQLITE_FULL ? " (the disk is full: free space, then run again)" : "";
  Status s(code, fmt::format("{} (SQLite error {}){} in: {}", sqlite3_errmsg(db_), rc, hint,
                             sql.substr(0, 80)));
  sqlite3_reset(stmt_);
  return s;
}

Status SqliteStatement::Run() {
  while (true) {
    auto r = Step();
    if (!r.ok()) return r.status();
    if (!*r) break;
  }
  Reset();
  return Status::OK();
}

std::string SqliteStatement::ColumnText(int i) const {
  const void* p = sqlite3_column_blob(stmt_, i);
  int n = sqlite3_column_bytes(stmt_, i);
  return p ? std::string(static_cast<const char*>(p), n) : std::string();
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path, bool read_only) {
  sqlite3* db = nullptr;
  int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  flags |= SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    if (read_only && rc == SQLITE_CANTOPEN) {
      return Status::NotFound(
          fmt::format("no staging database at {} (run `dataforge run` first)", path));
    }
    return Status::IOError(fmt::format("cannot open staging database {}: {}", path, msg));
  }
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  auto opened = std::unique_ptr<SqliteDb>(new SqliteDb(db, path));
  if (!read_only) {
    DF_RETURN_IF_ERROR(opened->Exec(fmt::format("PRAGMA page_size={}", kNewDatabasePageSize)));
  }
  return opened;
}

SqliteDb::~SqliteDb() {
  sqlite3_close_v2(db_);
}

Status SqliteDb::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::OK();
  std::string msg = err ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  StatusCode code = rc == SQLITE_FULL ? StatusCode::kResourceExhausted : StatusCode::kIOError;
  return Status(code, fmt::format("staging database {}: {} (SQLite error {})", path_, msg, rc));
}

Result<SqliteStatement> SqliteDb::Prepare(const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return Error(rc, "prepare: " + sql.substr(0, 80));
  return SqliteStatement(db_, stmt);
}

Status SqliteDb::Error(int rc, std::string_view what) const {
  StatusCode code = rc == SQLITE_FULL ? StatusCode::kResourceExhausted : StatusCode::kIOError;
  return Status(code, fmt::format("staging database {}: {}: {} (SQLite error {})", path_, what,
                                  sqlite3_errmsg(db_), rc));
}

}  // namespace dataforge
