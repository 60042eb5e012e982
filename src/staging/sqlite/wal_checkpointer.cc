#include "staging/sqlite/wal_checkpointer.h"

#include <spdlog/spdlog.h>

#include <pthread.h>

#include <algorithm>
#include <chrono>

namespace dataforge {
namespace {

// At most this many passive passes per round; a pass that finds at most kSmallRemainder frames
// added since the pass before ends the round, one that finds twice the threshold goes on to the
// RESTART.
constexpr int kMaxPassivePasses = 8;
constexpr int kSmallRemainder = 256;
int OnCommit(void* self, sqlite3*, const char*, int frames) {
  static_cast<WalCheckpointer*>(self)->Signal(frames);
  return SQLITE_OK;
}

}  // namespace

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Start(const std::string& path,
                                                                Options options) {
  DF_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(path, /*read_only=*/false));
  // Reads the file's header, so the connection knows it is in WAL mode (a checkpoint on a
  // connection that has not read the database does nothing).
  DF_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL"));
  // The file's page size, now that the connection has read its header (a writable SqliteDb
  // sets a new file's page size, which this query would return before that).
  int64_t page_size = 4096;
  {
    DF_ASSIGN_OR_RETURN(auto q, db->Prepare("PRAGMA page_size"));
    DF_ASSIGN_OR_RETURN(bool row, q.Step());
    if (row && q.ColumnInt(0) > 0) page_size = q.ColumnInt(0);
  }  // finalized: the statement holds no read transaction
  const int frames =
      static_cast<int>(std::clamp<int64_t>(options.wal_bytes / page_size, 1, 1 << 30));
  return std::unique_ptr<WalCheckpointer>(new WalCheckpointer(std::move(db), options, frames));
}

WalCheckpointer::WalCheckpointer(std::unique_ptr<SqliteDb> db, Options options, int frames)
    : db_(std::move(db)),
      options_(options),
      frames_(frames),
      thread_([this](std::stop_token stop) { Run(stop); }) {}

WalCheckpointer::~WalCheckpointer() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

void WalCheckpointer::Install(sqlite3* writer) {
  sqlite3_wal_hook(writer, OnCommit, this);
}

void WalCheckpointer::Signal(int frames) {
  if (frames < frames_) return;
  {
    std::lock_guard lock(mu_);
    if (wanted_) return;
    wanted_ = true;
  }
  cv_.notify_all();
}

void WalCheckpointer::WaitForRestart() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !restart_pending_; });
}

void WalCheckpointer::WaitIdle() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !wanted_; });
}

uint64_t WalCheckpointer::completed() const {
  std::lock_guard lock(mu_);
  return completed_;
}

uint64_t WalCheckpointer::restarts() const {
  std::lock_guard lock(mu_);
  return restarts_;
}

uint64_t WalCheckpointer::restarts_given_up() const {
  std::lock_guard lock(mu_);
  return given_up_;
}

void WalCheckpointer::Run(std::stop_token stop) {
  pthread_setname_np(pthread_self(), "df-checkpoint");
  while (true) {
    {
      std::unique_lock lock(mu_);
      if (!cv_.wait(lock, stop, [&] { return wanted_; })) return;
    }
    const Round round = Checkpoint();
    {
      std::lock_guard lock(mu_);
      wanted_ = false;
      completed_ += 1;
      restarts_ += round == Round::kRestarted ? 1 : 0;
      given_up_ += round == Round::kRestartGivenUp ? 1 : 0;
    }
    cv_.notify_all();
  }
}

WalCheckpointer::Round WalCheckpointer::Checkpoint() {
  sqlite3* db = db_->handle();
  int log = 0;
  int copied = 0;
  int rc = SQLITE_OK;
  // Passive passes while the writer goes on: each copies what the writer added during the one
  // before. When a pass leaves the WAL fully copied and no reader in it, the writer's next
  // commit starts the WAL from its beginning by itself.
  for (int pass = 0, before = 0; pass < kMaxPassivePasses; ++pass, before = log) {
    rc = sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
    if (rc != SQLITE_OK || log - before <= kSmallRemainder || log >= 2 * frames_) break;
  }
  const auto now = std::chrono::steady_clock::now();
  Round round = Round::kPassive;
  if (rc == SQLITE_OK && log >= 2 * frames_ && now >= no_restart_until_) {
    // The WAL did not restart while the passes ran (a commit always came between, or a reader
    // holds a snapshot in it): wait for the writer's transaction, hold off the next while
    // copying the rest, and wait for readers to leave the WAL, so the next commit restarts it.
    // Bounds the WAL at about twice the threshold unless a reader stays longer than the wait.
    std::unique_lock<std::mutex> writer;
    if (options_.writer_mutex != nullptr) {
      {
        std::lock_guard lock(mu_);
        restart_pending_ = true;
      }
      writer = std::unique_lock(*options_.writer_mutex);
    }
    sqlite3_busy_timeout(db, static_cast<int>(options_.restart_wait.count()));
    rc = sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_RESTART, &log, &copied);
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    if (writer.owns_lock()) {
      writer.unlock();
      {
        std::lock_guard lock(mu_);
        restart_pending_ = false;
      }
      cv_.notify_all();
    }
    if (rc == SQLITE_OK) round = Round::kRestarted;
    if (rc == SQLITE_BUSY) {
      round = Round::kRestartGivenUp;
      no_restart_until_ = std::chrono::steady_clock::now() + options_.restart_backoff;
    }
  }
  if (rc != SQLITE_OK && rc != SQLITE_BUSY && !warned_) {
    warned_ = true;
    spdlog::warn(
        "staging database {}: WAL checkpoint failed: {} (SQLite error {}); the WAL grows "
        "until one succeeds",
        db_->path(), sqlite3_errmsg(db), rc);
  }
  return round;
}

}  // namespace dataforge
