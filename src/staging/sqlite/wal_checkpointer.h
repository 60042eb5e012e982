// Checkpoints a SQLite database's write-ahead log on its own thread and connection, so the
// writer's commits do not stop to copy the WAL into the database file.
//
// SQLite's built-in auto-checkpoint runs inside the COMMIT that crosses the threshold: that
// commit copies the whole WAL (wal_autocheckpoint pages) into the database file and fsyncs it,
// and the source thread waits (the staging commit's p99 was 40-55 ms at 1,000 records a batch).
// Here the writer's WAL hook only signals; this thread copies the frames with PASSIVE
// checkpoints while the writer goes on committing, each pass copying what the writer added
// during the one before. Once a pass leaves the WAL fully copied, the writer's next commit starts
// the WAL from its beginning by itself. If the WAL reaches twice the threshold without that (a
// reader holds a snapshot in it, or commits never left a gap), a RESTART checkpoint holds off
// the writer for at most Options::restart_wait (100 ms) to finish the copy and let the WAL restart;
// if the writer's transaction or a reader outlasts that wait, it gives up, and no RESTART is tried
// for Options::restart_backoff (a reader that stays lets the WAL grow, as with SQLite's own
// checkpoints).
//
// Durability is SQLite's: a checkpoint fsyncs the database file before the WAL is reused.
//
// Thread-safety: Signal() may be called from any thread (the writer's hook calls it under the
// writer's lock). The object owns its connection and its thread; the destructor stops the
// thread (waiting for a running checkpoint to finish). Install() the hook on the writer
// connection and destroy the writer connection (or clear its hook) before this object.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"
#include "staging/sqlite/sqlite_db.h"

namespace dataforge {

class WalCheckpointer {
 public:
  struct Options {
    // The WAL size that starts a round, in bytes; Start() turns it into frames of the file's
    // page size (32 MiB: 8,192 frames of 4 KiB pages, 512 of 64 KiB ones).
    int64_t wal_bytes = 32ll << 20;
    // How long a RESTART may hold off the writer, waiting for its transaction and for readers
    // to leave the WAL, before it gives up; then none is tried for `restart_backoff`.
    std::chrono::milliseconds restart_wait{100};
    std::chrono::milliseconds restart_backoff{1000};
    // Held by every writer transaction of this process (may be null): the RESTART holds it too,
    // so it does not poll for SQLite's write lock between the writer's transactions (it could
    // miss every gap), and the writer's next transaction waits on it instead. Writers call
    // WaitForRestart() before they take it.
    std::mutex* writer_mutex = nullptr;
  };

  // Opens its own connection to `path` (WAL mode already set by the writer) and starts the
  // thread.
  static Result<std::unique_ptr<WalCheckpointer>> Start(const std::string& path, Options options);
  ~WalCheckpointer();

  // Makes `writer` call Signal() after each commit with the WAL's frame count; replaces the
  // connection's auto-checkpoint.
  void Install(sqlite3* writer);

  // The WAL holds `frames` pages after a commit: starts a checkpoint when past the threshold.
  void Signal(int frames);

  // A writer calls this before it takes Options::writer_mutex: it waits while a RESTART wants
  // the mutex, so a writer that commits back to back (and would win the mutex again each time)
  // cannot starve the RESTART.
  void WaitForRestart();

  // Blocks until no checkpoint is wanted or running (tests: makes a writer's loop step by step).
  void WaitIdle();

  // Rounds completed; RESTARTs done (the WAL had not restarted by itself at twice the
  // threshold); RESTARTs given up because the writer or a reader stayed past their wait.
  uint64_t completed() const;
  uint64_t restarts() const;
  uint64_t restarts_given_up() const;

 private:
  WalCheckpointer(std::unique_ptr<SqliteDb> db, Options options, int frames);
  enum class Round { kPassive, kRestarted, kRestartGivenUp };
  void Run(std::stop_token stop);
  Round Checkpoint();

  std::unique_ptr<SqliteDb> db_;  // used by the thread only
  const Options options_;
  const int frames_;  // options_.wal_bytes in frames of the file's page size
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  bool wanted_ = false;           // guarded by mu_
  uint64_t completed_ = 0;        // guarded by mu_
  uint64_t restarts_ = 0;         // guarded by mu_
  uint64_t given_up_ = 0;         // guarded by mu_
  bool restart_pending_ = false;  // guarded by mu_: a RESTART wants or holds writer_mutex
  bool warned_ = false;           // thread only
  std::chrono::steady_clock::time_point no_restart_until_;  // thread only
  std::jthread thread_;  // last: starts after the members above exist
};

}  // namespace dataforge
