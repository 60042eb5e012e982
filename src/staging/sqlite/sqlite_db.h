// Thin RAII wrappers over the SQLite C API. Not thread-safe: one thread uses a SqliteDb (and
// its statements) at a time; callers hold their own mutex.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace dataforge {

class SqliteStatement {
 public:
  SqliteStatement() = default;
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  SqliteStatement(SqliteStatement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
  SqliteStatement& operator=(SqliteStatement&& o) noexcept;
  ~SqliteStatement();

  void BindInt(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  // The bytes must outlive Step() (SQLITE_STATIC).
  void BindText(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  void BindBlob(int i, std::string_view v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  // Returns true for a row, false when done; an error otherwise.
  Result<bool> Step();
  // Step() to completion, then Reset().
  Status Run();
  // Step() through every row, calling row() at each (read the columns there), then Reset(),
  // also after an error.
  template <typename RowFn>
  Status ForEachRow(RowFn&& row) {
    while (true) {
      auto more = Step();
      if (!more.ok() || !*more) {
        Reset();
        return more.status();
      }
      row();
    }
  }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  int64_t ColumnInt(int i) const { return sqlite3_column_int64(stmt_, i); }
  std::string ColumnText(int i) const;
  // The column's bytes, valid until the next Step(), Reset() or column call on this statement.
  std::string_view ColumnTextView(int i) const {
    const void* p = sqlite3_column_blob(stmt_, i);
    int n = sqlite3_column_bytes(stmt_, i);
    return p ? std::string_view(static_cast<const char*>(p), static_cast<size_t>(n))
             : std::string_view();
  }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// How long a statement waits for another connection's lock before SQLITE_BUSY (every
// connection Open() makes).
inline constexpr int kBusyTimeoutMs = 10000;

// The page size of a database Open() creates (an existing file keeps its own; SQLite cannot
// change it in WAL mode). 64 KiB, not SQLite's 4 KiB: the outbox appends rows of ~1 KiB, and
// each page is a WAL frame written with two pwrite64 calls and copied once more by a checkpoint,
// so larger pages cut the staging's system calls and kernel time per record (docs/benchmarks.md
// "Issue 19: 64 KiB staging pages"). The cost: the upsert view's random updates dirty whole
// pages, so with millions of keys a cursor commit writes more of the view than with 4 KiB pages.
inline constexpr int kNewDatabasePageSize = 65536;

class SqliteDb {
 public:
  // Opens `path`; read_only opens without write access and never creates the file. A writable
  // connection to a new (empty) file gives it kNewDatabasePageSize.
  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path, bool read_only);
  ~SqliteDb();

  Status Exec(const std::string& sql);
  Result<SqliteStatement> Prepare(const std::string& sql);
  // Turns the last SQLite error into a Status naming the file and the operation.
  Status Error(int rc, std::string_view what) const;
  const std::string& path() const { return path_; }
  // The connection, for C API calls this wrapper does not cover (hooks, checkpoints); owned here.
  sqlite3* handle() const { return db_; }

 private:
  SqliteDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
};

}  // namespace dataforge
