// Runs one SQL statement against the staging database, for `sql` and `check` tasks: SQLite
// (its own connection to the staging file, WAL, busy timeout) or PostgreSQL (its own libpq
// connection, statement_timeout). Thread-safety: each call opens and closes its own connection.
#pragma once

#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "common/status.h"

namespace dataforge {

struct SqlResult {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;  // nullopt = NULL; values as text
  int64_t affected = 0;  // rows changed by INSERT/UPDATE/DELETE (0 for queries)
};

// `staging_url`: sqlite:///abs/path.db or postgresql://... (as resolved by the pipeline).
// Errors: InvalidArgument for a statement the database rejects (syntax, missing table: the
// database's own message), Unavailable when the database cannot be reached, DeadlineExceeded
// at `timeout_us` (0 = none), Cancelled when `stop` is requested (the statement is
// interrupted: sqlite3_interrupt / PQcancel).
Result<SqlResult> RunSql(const std::string& staging_url, const std::string& sql,
                         int64_t timeout_us, std::stop_token stop);

// "3 rows: id | n\n..." - a short text rendering of a result (at most `max_rows` rows), for
// the task's captured output.
std::string FormatSqlResult(const SqlResult& result, size_t max_rows = 20);

}  // namespace dataforge
