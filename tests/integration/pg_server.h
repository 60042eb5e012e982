// A throwaway PostgreSQL 15 server for integration tests, from Debian's packages
// (/usr/lib/postgresql/15/bin): initdb + pg_ctl in a fresh directory under /tmp, listening on
// 127.0.0.1 on a free port with its unix socket in its own directory (never the system's
// /var/run/postgresql, never the Debian "main" cluster), so tests can run in parallel.
// PostgreSQL refuses to run as root: as root the server tools run as the `postgres` system user
// (runuser -u postgres); otherwise as the current user.
#pragma once

#include <string>
#include <vector>

#include "integration/subprocess.h"

namespace dataforge::testing {

// A port that was free on 127.0.0.1 a moment ago (the kernel's pick for port 0), for any test
// server that must listen on a given port; 0 if none could be had.
int FreePort();

// A PostgreSQL 15 cluster for one test: wal_level=logical (max_wal_senders=10,
// max_replication_slots=10), fsync on, shared_buffers=32MB, max_connections=50; trust for local
// socket connections, scram-sha-256 for TCP (a wrong password is refused); superuser `postgres`
// with password `secret`; a database `dataforge`. Start-up failures fail the test (ADD_FAILURE
// with the tail of the server log). Stopped (pg_ctl stop -m immediate) and removed by the
// destructor.
class PostgresServer {
 public:
  struct Options {
    std::vector<std::string> conf;  // extra postgresql.conf lines, e.g. "wal_level=replica"
  };

  PostgresServer();
  explicit PostgresServer(Options options);
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  int port() const { return port_; }
  const std::string& data_dir() const { return data_dir_; }
  // The server's own directory: data_dir() is DIR/data, the unix socket and server.log are in DIR.
  const std::string& dir() const { return dir_; }
  // The last `lines` lines of the server log.
  std::string LogTail(int lines = 40) const;

  // postgresql://USER:PASSWORD@127.0.0.1:PORT/DB
  std::string Url(const std::string& db = "dataforge", const std::string& user = "postgres",
                  const std::string& password = "secret") const;

  // Runs `sql` with psql -X -q -A -t -v ON_ERROR_STOP=1 against `db` over TCP as the superuser
  // (password via PGPASSWORD). `sql` runs as a script (psql -f): statement by statement, each
  // in its own transaction unless it says BEGIN, so "CREATE DATABASE x; ..." works. Returns
  // stdout without its trailing newline; a non-zero exit fails the test (ADD_FAILURE with
  // psql's stderr).
  std::string Psql(const std::string& sql, const std::string& db = "dataforge");
  // The same, never failing the test.
  ProcessResult TryPsql(const std::string& sql, const std::string& db = "dataforge");
  // psql (same flags) against any connection URL (e.g. Url(db, user, "wrong")); never fails the
  // test.
  static ProcessResult TryPsqlUrl(const std::string& url, const std::string& sql);

  void Restart();  // pg_ctl restart -m fast -w (same port); returns when it accepts connections
  void Stop();     // pg_ctl stop -m fast -w
  void Start();    // pg_ctl start -w (same port)
  // SIGKILLs the postmaster (pid from postmaster.pid), then waits until its port is closed and
  // it and its children are gone, so that Start() can follow (crash recovery).
  void Kill9();

 private:
  // Runs a server tool (initdb, pg_ctl) as the cluster's owner, in dir_.
  ProcessResult RunAsOwner(std::vector<std::string> argv, int timeout_ms = 120000);
  void WriteConf();
  // pg_ctl start; on failure sets `error` (pg_ctl's output and the new part of the log).
  bool TryStart(std::string* error);
  void WaitAccepting();

  Options options_;
  bool as_postgres_ = false;  // running as root: the tools run as the postgres user
  std::string dir_;
  std::string data_dir_;
  std::string log_;
  std::string initdb_conf_;  // postgresql.conf as initdb wrote it
  int port_ = 0;
};

}  // namespace dataforge::testing
