#include "staging/sqlite/wal_checkpointer.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

namespace dataforge {
namespace {

constexpr int kPage = 4096;        // the test's page size (SqliteDb gives a new file 64 KiB ones)
constexpr int kThreshold = 32;     // frames
constexpr int kCommits = 200;      // each writes a 16 KiB blob: 4 overflow pages and a leaf
constexpr int kBlobBytes = 16384;  // 200 commits: about 1,000 frames (4 MiB) of WAL in all

class WalCheckpointerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/df_wal_XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/staging.db";
    auto db = SqliteDb::Open(path_, /*read_only=*/false);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    writer_ = std::move(db).value();
    ASSERT_TRUE(writer_->Exec("PRAGMA page_size=" + std::to_string(kPage)).ok());
    ASSERT_TRUE(writer_->Exec("PRAGMA journal_mode=WAL").ok());
    ASSERT_TRUE(writer_->Exec("PRAGMA synchronous=FULL").ok());
    ASSERT_TRUE(writer_->Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)").ok());
  }
  void TearDown() override {
    reading_ = SqliteStatement();
    reader_.reset();
    writer_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Commits row `id`, a blob of kBlobBytes bytes of `id % 251`.
  void Commit(int id) {
    auto insert = writer_->Prepare("INSERT INTO t(id, v) VALUES(?, ?)");
    ASSERT_TRUE(insert.ok());
    const std::string blob(kBlobBytes, static_cast<char>(id % 251));
    insert->BindInt(1, id);
    insert->BindBlob(2, blob);
    ASSERT_TRUE(insert->Run().ok()) << id;
  }

  uintmax_t WalBytes() const { return std::filesystem::file_size(path_ + "-wal"); }

  static WalCheckpointer::Options Every(int64_t frames) {
    WalCheckpointer::Options o;
    o.wal_bytes = frames * kPage;
    return o;
  }

  // Row 0, then a reader's transaction that holds a snapshot of it, then commits until the WAL
  // holds more than twice kThreshold: passive passes cannot copy past the reader's snapshot, so
  // the WAL cannot restart by itself. Returns the next id.
  int HoldAReaderThenFillTheWal() {
    Commit(0);
    auto reader = SqliteDb::Open(path_, /*read_only=*/true);
    EXPECT_TRUE(reader.ok());
    reader_ = std::move(reader).value();
    EXPECT_TRUE(reader_->Exec("BEGIN").ok());
    auto q = reader_->Prepare("SELECT count(*) FROM t");
    EXPECT_TRUE(q.ok());
    reading_ = std::move(q).value();
    EXPECT_TRUE(*reading_.Step());  // the read transaction now holds its snapshot
    EXPECT_EQ(reading_.ColumnInt(0), 1);
    int id = 1;
    for (; WalBytes() < static_cast<uintmax_t>(2 * kThreshold + 8) * kPage; ++id) Commit(id);
    return id;
  }

  void ReaderLeaves() {
    reading_.Reset();
    ASSERT_TRUE(reader_->Exec("COMMIT").ok());
  }

  std::string dir_, path_;
  std::unique_ptr<SqliteDb> writer_;
  std::unique_ptr<SqliteDb> reader_;
  SqliteStatement reading_;  // on reader_; destroyed first
};

TEST_F(WalCheckpointerTest, EachRoundLetsTheNextCommitRestartTheWalSoItStaysNearTheThreshold) {
  auto started = WalCheckpointer::Start(path_, Every(kThreshold));
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  auto checkpointer = std::move(started).value();
  checkpointer->Install(writer_->handle());
  for (int id = 1; id <= kCommits; ++id) {
    Commit(id);
    checkpointer->WaitIdle();  // a round copies the whole WAL while no commit runs
  }
  // About 5 frames per commit: a round every ~7 commits, each a passive pass only (the WAL
  // restarted by itself at the next commit every time).
  EXPECT_GE(checkpointer->completed(), 25u);
  EXPECT_EQ(checkpointer->restarts(), 0u);
  // The file never held more than the threshold plus a commit: it is reused from its start.
  EXPECT_LE(WalBytes(), static_cast<uintmax_t>((kThreshold + 8) * (kPage + 24) + 32));

  // Every row is there, read by a connection of its own, after the writer closed.
  writer_.reset();
  checkpointer.reset();
  auto reader = SqliteDb::Open(path_, /*read_only=*/true);
  ASSERT_TRUE(reader.ok());
  auto q = (*reader)->Prepare("SELECT id, v FROM t ORDER BY id");
  ASSERT_TRUE(q.ok());
  int rows = 0;
  while (*q->Step()) {
    ++rows;
    const int id = static_cast<int>(q->ColumnInt(0));
    ASSERT_EQ(id, rows);
    ASSERT_EQ(q->ColumnText(1), std::string(kBlobBytes, static_cast<char>(id % 251))) << id;
  }
  EXPECT_EQ(rows, kCommits);
}

TEST_F(WalCheckpointerTest, WithoutARoundTheWalGrowsWithEveryCommit) {
  // The hook replaces SQLite's own auto-checkpoint: a threshold never reached means no
  // checkpoint at all, and the WAL holds every commit (what the test above rules out).
  auto started = WalCheckpointer::Start(path_, Every(1 << 30));
  ASSERT_TRUE(started.ok());
  auto checkpointer = std::move(started).value();
  checkpointer->Install(writer_->handle());
  for (int id = 1; id <= kCommits; ++id) Commit(id);
  checkpointer->WaitIdle();
  EXPECT_EQ(checkpointer->completed(), 0u);
  EXPECT_GE(WalBytes(), static_cast<uintmax_t>(kCommits) * kBlobBytes);
}

TEST_F(WalCheckpointerTest, WithTheWritersMutexARestartNeverMissesTheGapsBetweenCommits) {
  // A writer thread that commits back to back, as the source does at full speed: without the
  // mutex a RESTART polls for SQLite's write lock and can miss every gap for its whole wait.
  std::mutex writer_mutex;
  WalCheckpointer::Options options = Every(kThreshold);
  options.restart_wait = std::chrono::milliseconds(50);
  options.writer_mutex = &writer_mutex;
  auto started = WalCheckpointer::Start(path_, options);
  ASSERT_TRUE(started.ok());
  auto checkpointer = std::move(started).value();
  checkpointer->Install(writer_->handle());
  constexpr int kMany = 1000;  // about 5,000 frames: 20 MiB
  uintmax_t largest = 0;
  std::thread writer([&] {
    for (int id = 1; id <= kMany; ++id) {
      checkpointer->WaitForRestart();
      std::lock_guard lock(writer_mutex);
      Commit(id);
      largest = std::max(largest, WalBytes());
    }
  });
  writer.join();
  checkpointer->WaitIdle();
  EXPECT_GE(checkpointer->completed(), 1u);
  EXPECT_EQ(checkpointer->restarts_given_up(), 0u);
  // The WAL restarted again and again (by itself or by a RESTART): never a quarter of it all.
  EXPECT_LT(largest, static_cast<uintmax_t>(kMany) * kBlobBytes / 4);
  auto count = writer_->Prepare("SELECT count(*) FROM t");
  ASSERT_TRUE(count.ok());
  ASSERT_TRUE(*count->Step());
  EXPECT_EQ(count->ColumnInt(0), kMany);
}

TEST_F(WalCheckpointerTest, AReaderInTheWalDelaysTheRestartUntilItLeaves) {
  WalCheckpointer::Options options = Every(kThreshold);
  options.restart_wait = std::chrono::seconds(60);  // the reader leaves well within it
  auto started = WalCheckpointer::Start(path_, options);
  ASSERT_TRUE(started.ok());
  auto checkpointer = std::move(started).value();
  int id = HoldAReaderThenFillTheWal();
  checkpointer->Install(writer_->handle());
  std::thread leave([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    ReaderLeaves();
  });
  const auto t0 = std::chrono::steady_clock::now();
  Commit(id++);  // signals: passive passes stop at the reader's snapshot, then RESTART waits
  checkpointer->WaitIdle();
  const auto waited = std::chrono::steady_clock::now() - t0;
  leave.join();
  EXPECT_GE(waited, std::chrono::milliseconds(25));  // for the reader
  EXPECT_EQ(checkpointer->completed(), 1u);
  EXPECT_EQ(checkpointer->restarts(), 1u);
  EXPECT_EQ(checkpointer->restarts_given_up(), 0u);
  // The WAL is copied and restarted: the next commit writes from the start of the file, so the
  // frame count the hook reports is that commit's alone.
  int frames_after = -1;
  sqlite3_wal_hook(
      writer_->handle(),
      [](void* out, sqlite3*, const char*, int frames) {
        *static_cast<int*>(out) = frames;
        return SQLITE_OK;
      },
      &frames_after);
  Commit(id++);
  EXPECT_GT(frames_after, 0);
  EXPECT_LE(frames_after, 8);
}

TEST_F(WalCheckpointerTest, AReaderThatStaysMakesTheRestartGiveUpThenBackOff) {
  WalCheckpointer::Options options = Every(kThreshold);
  options.restart_wait = std::chrono::milliseconds(50);
  options.restart_backoff = std::chrono::minutes(10);
  auto started = WalCheckpointer::Start(path_, options);
  ASSERT_TRUE(started.ok());
  auto checkpointer = std::move(started).value();
  int id = HoldAReaderThenFillTheWal();
  checkpointer->Install(writer_->handle());
  Commit(id++);  // the round's RESTART waits for the reader, gives up, and backs off
  checkpointer->WaitIdle();
  EXPECT_EQ(checkpointer->completed(), 1u);
  EXPECT_EQ(checkpointer->restarts(), 0u);
  EXPECT_EQ(checkpointer->restarts_given_up(), 1u);
  // Within the back-off, rounds are passive only: no commit waits for the reader again.
  Commit(id++);
  checkpointer->WaitIdle();
  EXPECT_EQ(checkpointer->completed(), 2u);
  EXPECT_EQ(checkpointer->restarts_given_up(), 1u);
  // Every row is there for the writer, and the reader still sees its snapshot.
  auto count = writer_->Prepare("SELECT count(*) FROM t");
  ASSERT_TRUE(count.ok());
  ASSERT_TRUE(*count->Step());
  EXPECT_EQ(count->ColumnInt(0), id);
  EXPECT_EQ(reading_.ColumnInt(0), 1);
  ReaderLeaves();
}

}  // namespace
}  // namespace dataforge
