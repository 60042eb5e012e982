// A libpq connection with DataForge's error handling: every failure is a Status whose code says
// what to do about it, and whose message is one line naming the server and the fix.
//
//   kConfigError  wrong password, missing database or role, insufficient privilege, bad URL:
//                 retrying cannot help, the user must change something (exit code 2).
//   kUnavailable  the server is unreachable, starting up or shutting down, the connection
//                 broke, a serialization failure, a deadlock, a statement timeout: retry after
//                 reconnecting (PgSession does).
//   kInvalidArgument  the server rejected the data (SQLSTATE classes 22 and 54: a NUL byte in
//                 text, a value too large): dead-letter it.
//   kInternal     anything else (a bug, or a schema changed under us).
//
// Thread-compatible: one thread at a time uses a PgConnection.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace dataforge {

// Owns one PGresult.
class PgResult {
 public:
  explicit PgResult(PGresult* r = nullptr) : r_(r) {}
  PgResult(PgResult&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  PgResult& operator=(PgResult&& o) noexcept;
  ~PgResult();

  int rows() const { return r_ ? PQntuples(r_) : 0; }
  bool IsNull(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
  std::string_view Text(int row, int col) const {
    return {PQgetvalue(r_, row, col), static_cast<size_t>(PQgetlength(r_, row, col))};
  }
  int64_t Int(int row, int col) const;  // 0 when NULL or not a number
  PGresult* get() const { return r_; }

 private:
  PGresult* r_;
};

class PgConnection {
 public:
  // Connects to `url` (a libpq URI or key=value string; connect_timeout defaults to 10 s).
  // `what` names the use in errors ("staging", "postgres_cdc source"). `replication` opens a
  // logical replication connection (replication=database).
  static Result<std::unique_ptr<PgConnection>> Connect(const std::string& url,
                                                       const std::string& what,
                                                       bool replication = false);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one or more statements without parameters, discarding results.
  Status Exec(std::string_view sql);
  // Runs one statement with text parameters (nullopt = NULL); rows in text format.
  Result<PgResult> Query(const std::string& sql,
                         const std::vector<std::optional<std::string>>& params = {});
  // Runs `copy_sql` (COPY ... FROM STDIN) and sends `data` in it.
  Status CopyIn(const std::string& copy_sql, std::string_view data);

  // True when the connection is lost (the next call fails with kUnavailable).
  bool Broken() const;
  // "host:port/db", for messages.
  const std::string& endpoint() const { return endpoint_; }
  const std::string& user() const { return user_; }
  PGconn* raw() { return conn_; }

  // The error of a failed command, classified as above (see the header comment).
  Status ResultError(const PGresult* r, std::string_view doing) const;
  // The connection's last error (PQerrorMessage), classified.
  Status ConnectionError(std::string_view doing) const;

 private:
  PgConnection() = default;
  PGconn* conn_ = nullptr;
  std::string endpoint_;
  std::string user_;
  std::string what_;
};

// One line: the message's lines joined, libpq's "connection to server at ... failed: " and
// severity prefixes removed.
std::string OneLine(std::string_view libpq_message);

}  // namespace dataforge
