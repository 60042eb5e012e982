// SQLite: the raw C API on a connection of our own. SqliteDb (staging/sqlite/sqlite_db.h) does
// not expose its handle, and a task needs what it lacks: column names, NULL detection, a
// progress handler to interrupt, and opening read-write without creating a missing file.
// Several statements separated by ';' run one after another (each in its own implicit
// transaction unless the SQL says BEGIN); the rows are those of the last statement that returns
// columns, `affected` is the sum over all statements.
//
// PostgreSQL: a PgConnection of our own; the SQL goes in one simple-protocol query (several
// statements run in one implicit transaction), statement_timeout enforces the deadline on the
// server and PQcancel interrupts on stop (or at the deadline, should the server not).
#include "orchestrate/tasks/sql_runner.h"

#include <poll.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <thread>

#include <fmt/format.h>

#include "pg/pg_connection.h"

namespace dataforge {
namespace {

constexpr int64_t kBusyTimeoutUs = 10'000'000;
// Progress handler period, in SQLite VM instructions (~ tens of microseconds).
constexpr int kProgressOps = 1000;
// How often the PostgreSQL wait looks at the stop token and the deadline.
constexpr int kPgPollMs = 50;
// Beyond the deadline, how long statement_timeout gets to end the statement before we cancel.
constexpr int64_t kPgDeadlineSlackUs = 1'000'000;

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string Excerpt(std::string_view sql) {
  while (!sql.empty() && (sql.front() == ' ' || sql.front() == '\n' || sql.front() == '\t')) {
    sql.remove_prefix(1);
  }
  std::string s(sql.substr(0, 80));
  for (char& c : s) {
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
  }
  return sql.size() > 80 ? s + "..." : s;
}

std::string CountWithNoun(int64_t n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

// ---- SQLite ----

// Why the statement is being interrupted; read by the progress and busy handlers.
struct Interrupt {
  int64_t deadline_us = 0;  // 0 = none
  std::stop_token stop;
  bool timed_out = false;
  bool cancelled = false;

  bool Check() {
    if (stop.stop_requested()) cancelled = true;
    if (deadline_us != 0 && NowUs() >= deadline_us) timed_out = true;
    return timed_out || cancelled;
  }
};

int OnProgress(void* arg) {
  return static_cast<Interrupt*>(arg)->Check() ? 1 : 0;
}

// busy_timeout of 10 s, but one that gives up at the deadline or on stop.
int OnBusy(void* arg, int attempts) {
  auto* in = static_cast<Interrupt*>(arg);
  constexpr int64_t kSleepUs = 10'000;
  if (in->Check() || attempts * kSleepUs >= kBusyTimeoutUs) return 0;
  std::this_thread::sleep_for(std::chrono::microseconds(kSleepUs));
  return 1;
}

class SqliteHandle {
 public:
  ~SqliteHandle() { sqlite3_close_v2(db_); }
  sqlite3** out() { return &db_; }
  sqlite3* get() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

class StmtHandle {
 public:
  ~StmtHandle() { sqlite3_finalize(stmt_); }
  sqlite3_stmt** out() { return &stmt_; }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

Status SqliteError(int rc, sqlite3* db, const std::string& path, const Interrupt& in,
                   std::string_view sql, int64_t timeout_us) {
  int primary = rc & 0xff;
  if (primary == SQLITE_INTERRUPT && (in.timed_out || in.cancelled)) {
    if (in.cancelled) {
      return Status::Cancelled(
          fmt::format("staging database {}: statement cancelled: {}", path, Excerpt(sql)));
    }
    return Status::DeadlineExceeded(
        fmt::format("staging database {}: statement interrupted at its timeout of {} ms: {}", path,
                    timeout_us / 1000, Excerpt(sql)));
  }
  std::string text = fmt::format("staging database {}: {} (SQLite error {}) in: {}", path,
                                 sqlite3_errmsg(db), rc, Excerpt(sql));
  switch (primary) {
    case SQLITE_ERROR:  // syntax, missing table or column, ...
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_TOOBIG:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
      return Status::InvalidArgument(std::move(text));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
      return Status::Unavailable(std::move(text));
    case SQLITE_FULL:
      return Status::ResourceExhausted(std::move(text));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Corruption(std::move(text));
    case SQLITE_IOERR:
      return Status::IOError(std::move(text));
    default:
      return Status::Internal(std::move(text));
  }
}

Result<SqlResult> RunSqlite(const std::string& path, const std::string& sql, int64_t timeout_us,
                            std::stop_token stop) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return Status::Unavailable(fmt::format(
        "no staging database at {} (run the pipeline first, or fix the staging url)", path));
  }
  SqliteHandle db;
  int rc =
      sqlite3_open_v2(path.c_str(), db.out(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    return Status::Unavailable(
        fmt::format("cannot open staging database {}: {}", path,
                    db.get() ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc)));
  }
  Interrupt in;
  in.deadline_us = timeout_us > 0 ? NowUs() + timeout_us : 0;
  in.stop = stop;
  sqlite3_busy_handler(db.get(), OnBusy, &in);
  sqlite3_progress_handler(db.get(), kProgressOps, OnProgress, &in);

  SqlResult result;
  bool any = false;
  const char* next = sql.c_str();
  const char* end = sql.c_str() + sql.size();
  while (next < end) {
    if (in.Check()) return SqliteError(SQLITE_INTERRUPT, db.get(), path, in, next, timeout_us);
    StmtHandle stmt;
    const char* tail = nullptr;
    rc = sqlite3_prepare_v2(db.get(), next, static_cast<int>(end - next), stmt.out(), &tail);
    std::string_view text(next, static_cast<size_t>((tail ? tail : end) - next));
    if (rc != SQLITE_OK) return SqliteError(rc, db.get(), path, in, text, timeout_us);
    next = tail ? tail : end;
    if (stmt.get() == nullptr) continue;  // only whitespace or a comment
    any = true;
    int ncols = sqlite3_column_count(stmt.get());
    if (ncols > 0) {
      result.columns.clear();
      result.rows.clear();
      for (int i = 0; i < ncols; ++i) {
        const char* name = sqlite3_column_name(stmt.get(), i);
        result.columns.emplace_back(name ? name : "");
      }
    }
    int64_t total_before = sqlite3_total_changes64(db.get());
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      std::vector<std::optional<std::string>> row(ncols);
      for (int i = 0; i < ncols; ++i) {
        if (sqlite3_column_type(stmt.get(), i) == SQLITE_NULL) continue;
        // Text (and numbers rendered as text) or a blob's bytes.
        const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt.get(), i));
        int n = sqlite3_column_bytes(stmt.get(), i);
        row[i] = p ? std::string(p, static_cast<size_t>(n)) : std::string();
      }
      result.rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) return SqliteError(rc, db.get(), path, in, text, timeout_us);
    // sqlite3_changes() keeps the count of the last INSERT/UPDATE/DELETE, so only count it when
    // this statement changed something.
    if (sqlite3_total_changes64(db.get()) != total_before) {
      result.affected += sqlite3_changes64(db.get());
    }
  }
  if (!any) {
    return Status::InvalidArgument(
        fmt::format("staging database {}: no SQL statement in '{}'", path, Excerpt(sql)));
  }
  return result;
}

// ---- PostgreSQL ----

// SQLSTATE classes of a statement the database rejects as written or for its data.
bool RejectedStatement(std::string_view state) {
  if (state.size() != 5 || state == "42501") return false;  // privileges: ConfigError
  std::string_view cls = state.substr(0, 2);
  return cls == "42" || cls == "22" || cls == "23" || cls == "21" || cls == "0A" || cls == "25" ||
         cls == "2B" || cls == "3F" || cls == "44" || cls == "54" || cls == "P0";
}

Result<SqlResult> RunPostgres(const std::string& url, const std::string& sql, int64_t timeout_us,
                              std::stop_token stop) {
  DF_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn, PgConnection::Connect(url, "staging"));
  const int64_t deadline = timeout_us > 0 ? NowUs() + timeout_us : 0;
  if (timeout_us > 0) {
    DF_RETURN_IF_ERROR(conn->Exec(fmt::format("SET statement_timeout = {}",
                                              std::max<int64_t>(1, (timeout_us + 999) / 1000))));
  }
  PGconn* raw = conn->raw();
  std::unique_ptr<PGcancel, void (*)(PGcancel*)> cancel(PQgetCancel(raw), PQfreeCancel);
  bool cancelled = false;  // we sent PQcancel for `stop` (else for the deadline)
  if (stop.stop_requested()) {
    return Status::Cancelled(
        fmt::format("staging at {}: statement cancelled: {}", conn->endpoint(), Excerpt(sql)));
  }
  if (PQsendQuery(raw, sql.c_str()) != 1) return conn->ConnectionError("sending SQL");

  // Wait for the whole answer, cancelling on stop or (if statement_timeout did not end it)
  // shortly after the deadline.
  bool cancel_sent = false;
  while (PQisBusy(raw)) {
    if (!cancel_sent &&
        (stop.stop_requested() || (deadline != 0 && NowUs() >= deadline + kPgDeadlineSlackUs))) {
      cancelled = stop.stop_requested();
      char err[256];
      if (cancel) PQcancel(cancel.get(), err, sizeof(err));
      cancel_sent = true;
    }
    pollfd p{PQsocket(raw), POLLIN, 0};
    if (p.fd < 0) return conn->ConnectionError("running SQL");
    poll(&p, 1, kPgPollMs);
    if (PQconsumeInput(raw) != 1) return conn->ConnectionError("running SQL");
  }

  SqlResult result;
  Status error;
  while (PGresult* r = PQgetResult(raw)) {
    PgResult owned(r);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_TUPLES_OK) {
      result.columns.clear();
      result.rows.clear();
      int ncols = PQnfields(r);
      for (int c = 0; c < ncols; ++c) result.columns.emplace_back(PQfname(r, c));
      for (int i = 0; i < owned.rows(); ++i) {
        std::vector<std::optional<std::string>> row(ncols);
        for (int c = 0; c < ncols; ++c) {
          if (!owned.IsNull(i, c)) row[c] = std::string(owned.Text(i, c));
        }
        result.rows.push_back(std::move(row));
      }
    }
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
      // "INSERT 0 3", "UPDATE 2", "DELETE 1" (also with RETURNING), "MERGE 4": rows changed.
      // SELECT, FETCH, MOVE and COPY report rows read, which are not changes.
      std::string_view cmd = PQcmdStatus(r);
      std::string_view n = PQcmdTuples(r);
      bool changes = cmd.rfind("INSERT", 0) == 0 || cmd.rfind("UPDATE", 0) == 0 ||
                     cmd.rfind("DELETE", 0) == 0 || cmd.rfind("MERGE", 0) == 0;
      if (changes && !n.empty()) result.affected += std::atoll(std::string(n).c_str());
      continue;
    }
    if (st == PGRES_EMPTY_QUERY || !error.ok()) continue;
    const char* state_c = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    std::string state = state_c ? state_c : "";
    const char* primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    std::string msg = primary ? primary : OneLine(PQresultErrorMessage(r));
    if (state == "57014" && cancelled) {
      error = Status::Cancelled(
          fmt::format("staging at {}: statement cancelled: {}", conn->endpoint(), Excerpt(sql)));
    } else if (state == "57014" && timeout_us > 0) {
      error = Status::DeadlineExceeded(fmt::format("staging at {}: {} (timeout {} ms) in: {}",
                                                   conn->endpoint(), msg, timeout_us / 1000,
                                                   Excerpt(sql)));
    } else if (RejectedStatement(state)) {
      error = Status::InvalidArgument(fmt::format("staging at {}: {} (SQLSTATE {}) in: {}",
                                                  conn->endpoint(), msg, state, Excerpt(sql)));
    } else {
      error = conn->ResultError(r, "running SQL");
    }
  }
  if (!error.ok()) return error;
  if (conn->Broken()) return conn->ConnectionError("running SQL");
  return result;
}

}  // namespace

Result<SqlResult> RunSql(const std::string& staging_url, const std::string& sql, int64_t timeout_us,
                         std::stop_token stop) {
  constexpr std::string_view kSqlite = "sqlite://";
  if (staging_url.rfind(kSqlite, 0) == 0) {
    std::string path = staging_url.substr(kSqlite.size());
    if (path.empty()) {
      return Status::ConfigError(
          fmt::format("staging url '{}' has no path; write sqlite:///abs/path.db", staging_url));
    }
    return RunSqlite(path, sql, timeout_us, stop);
  }
  if (staging_url.rfind("postgresql://", 0) == 0 || staging_url.rfind("postgres://", 0) == 0) {
    return RunPostgres(staging_url, sql, timeout_us, stop);
  }
  return Status::ConfigError(
      "staging url: unsupported scheme; use sqlite://PATH or postgresql://...");
}

std::string FormatSqlResult(const SqlResult& result, size_t max_rows) {
  if (result.columns.empty()) return CountWithNoun(result.affected, "row") + " affected";
  auto join = [](const auto& values, auto text) {
    std::string line;
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) line += " | ";
      line += text(values[i]);
    }
    return line;
  };
  std::string out = join(result.columns, [](const std::string& c) { return c; });
  size_t shown = std::min(max_rows, result.rows.size());
  for (size_t i = 0; i < shown; ++i) {
    out += "\n";
    out += join(result.rows[i],
                [](const std::optional<std::string>& v) { return v ? *v : std::string("NULL"); });
  }
  if (shown < result.rows.size()) out += fmt::format("\n... ({} more)", result.rows.size() - shown);
  out += fmt::format("\n({})", CountWithNoun(static_cast<int64_t>(result.rows.size()), "row"));
  return out;
}

}  // namespace dataforge
