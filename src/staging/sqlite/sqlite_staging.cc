#include "staging/sqlite/sqlite_staging.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <limits>

#include "common/clock.h"

namespace dataforge {
namespace {

// 2: the upsert view may trail the relay cursor; the counter `viewed` says how far it is.
constexpr int kSchemaVersion = 2;

// 64-bit FNV-1a with a final avalanche (splitmix64's finaliser), as a signed SQLite integer.
int64_t KeyHash(std::string_view key) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : key) h = (h ^ c) * 1099511628211ull;
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return static_cast<int64_t>(h);
}

// Counter names in the counters table.
constexpr const char* kFetched = "fetched";
constexpr const char* kStaged = "staged";
constexpr const char* kDeadLettered = "dead_lettered";
constexpr const char* kRelayCursor = "relay_cursor";
constexpr const char* kStreamed = "streamed";
constexpr const char* kViewed = "viewed";

const char* kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS outbox(
  seq INTEGER PRIMARY KEY,        -- the change stream, in commit order
  key TEXT NOT NULL,
  raw BLOB NOT NULL,              -- the record's JSON text as received
  fetched_at INTEGER NOT NULL);   -- microseconds since the epoch
CREATE TABLE IF NOT EXISTS staged(  -- the upsert view: latest outbox seq per key, as of the
  key_hash INTEGER PRIMARY KEY,     -- counter `viewed`; 64-bit hash of the key (in the outbox)
  seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dead_letters(
  id INTEGER PRIMARY KEY,
  stage TEXT NOT NULL, reason TEXT NOT NULL, location TEXT NOT NULL,
  payload BLOB NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS source_positions(source TEXT PRIMARY KEY, position TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
)SQL";

}  // namespace

Result<std::unique_ptr<Staging>> SqliteStaging::Open(const std::string& path, OpenMode mode,
                                                     bool synchronous_full) {
  std::unique_ptr<SqliteStaging> s(new SqliteStaging());
  if (mode == OpenMode::kReadWrite) {
    DF_ASSIGN_OR_RETURN(s->writer_, SqliteDb::Open(path, /*read_only=*/false));
    DF_RETURN_IF_ERROR(s->writer_->Exec("PRAGMA journal_mode=WAL"));
    DF_RETURN_IF_ERROR(s->writer_->Exec(synchronous_full ? "PRAGMA synchronous=FULL"
                                                         : "PRAGMA synchronous=NORMAL"));
    s->synchronous_full_ = synchronous_full;
    // Checkpoints run on their own thread once the WAL holds 32 MiB (WalCheckpointer's
    // default), not inside the commit that crosses it (wal_checkpointer.h).
    WalCheckpointer::Options checkpoints;
    checkpoints.writer_mutex = &s->write_mu_;  // every write transaction holds it (LockWriter)
    DF_ASSIGN_OR_RETURN(s->checkpointer_, WalCheckpointer::Start(path, checkpoints));
    s->checkpointer_->Install(s->writer_->handle());
    DF_RETURN_IF_ERROR(s->writer_->Exec("PRAGMA cache_size=-16384"));
    DF_RETURN_IF_ERROR(s->writer_->Exec("PRAGMA journal_size_limit=67108864"));
    DF_RETURN_IF_ERROR(s->writer_->Exec(kSchema));
    DF_RETURN_IF_ERROR(s->PrepareWriter());
    // A pass's keys, held once at their largest rather than grown by doubling: each doubling
    // left the smaller blocks free in malloc's heaps (+15 MB free at the end of 2,000,000
    // records, mallinfo2), which peak RSS counts.
    s->unviewed_.reserve(kViewBuffer);
    s->view_updates_.reserve(kViewBuffer);
  }
  DF_ASSIGN_OR_RETURN(s->reader_, SqliteDb::Open(path, /*read_only=*/mode == OpenMode::kReadOnly));
  if (mode == OpenMode::kReadOnly) {
    // The file may hold only other tables (users and API keys, added before any run): that is
    // no staging yet, as a missing file is.
    DF_ASSIGN_OR_RETURN(auto q, s->reader_->Prepare("SELECT count(*) FROM sqlite_master WHERE "
                                                    "type='table' AND name='outbox'"));
    DF_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row || q.ColumnInt(0) == 0) {
      return Status::NotFound(fmt::format(
          "staging database {} has no pipeline tables yet (run `dataforge run` first)", path));
    }
  }
  DF_RETURN_IF_ERROR(s->PrepareReader());
  return std::unique_ptr<Staging>(std::move(s));
}

Status SqliteStaging::PrepareWriter() {
  DF_ASSIGN_OR_RETURN(auto version, writer_->Prepare("SELECT max(version) FROM schema_version"));
  DF_ASSIGN_OR_RETURN(bool row, version.Step());
  int64_t v = row ? version.ColumnInt(0) : 0;
  version.Reset();
  if (v > kSchemaVersion) {
    return Status::ConfigError(fmt::format(
        "staging database {} has schema version {}, newer than this dataforge understands ({}); "
        "use a newer dataforge or another data dir",
        writer_->path(), v, kSchemaVersion));
  }
  if (v < kSchemaVersion) {
    DF_RETURN_IF_ERROR(writer_->Exec("BEGIN IMMEDIATE"));
    Status s = MigrateLocked(v);
    if (s.ok()) {
      s = writer_->Exec(fmt::format("INSERT INTO schema_version VALUES({})", kSchemaVersion));
    }
    if (s.ok()) s = writer_->Exec("COMMIT");
    if (!s.ok()) {
      (void)writer_->Exec("ROLLBACK");
      return s.WithContext(fmt::format("upgrading staging database {} to schema version {}",
                                       writer_->path(), kSchemaVersion));
    }
  }
  DF_ASSIGN_OR_RETURN(auto max_seq, writer_->Prepare("SELECT coalesce(max(seq),0) FROM outbox"));
  DF_ASSIGN_OR_RETURN(row, max_seq.Step());
  next_seq_ = static_cast<uint64_t>(max_seq.ColumnInt(0)) + 1;
  DF_ASSIGN_OR_RETURN(
      insert_outbox_,
      writer_->Prepare("INSERT INTO outbox(seq,key,raw,fetched_at) VALUES(?,?,?,?)"));
  auto upsert_rows = [](size_t rows) {
    std::string sql = "INSERT INTO staged(key_hash,seq) VALUES(?,?)";
    for (size_t i = 1; i < rows; ++i) sql += ",(?,?)";
    return sql + " ON CONFLICT(key_hash) DO UPDATE SET seq=excluded.seq";
  };
  DF_ASSIGN_OR_RETURN(upsert_staged_, writer_->Prepare(upsert_rows(1)));
  DF_ASSIGN_OR_RETURN(upsert_staged_many_, writer_->Prepare(upsert_rows(kViewRowsPerStatement)));
  DF_ASSIGN_OR_RETURN(read_keys_, writer_->Prepare("SELECT seq,key FROM outbox WHERE seq>? AND "
                                                   "seq<=? ORDER BY seq"));
  DF_ASSIGN_OR_RETURN(insert_dead_, writer_->Prepare("INSERT INTO dead_letters(stage,reason,"
                                                     "location,payload,at) VALUES(?,?,?,?,?)"));
  DF_ASSIGN_OR_RETURN(
      set_position_,
      writer_->Prepare("INSERT INTO source_positions(source,position) VALUES(?,?) "
                       "ON CONFLICT(source) DO UPDATE SET position=excluded.position"));
  DF_ASSIGN_OR_RETURN(add_counter_,
                      writer_->Prepare("INSERT INTO counters(name,value) VALUES(?,?) ON "
                                       "CONFLICT(name) DO UPDATE SET value=value+excluded.value"));
  DF_ASSIGN_OR_RETURN(read_counter_, writer_->Prepare("SELECT value FROM counters WHERE name=?"));
  DF_ASSIGN_OR_RETURN(viewed_, CounterLocked(kViewed));
  DF_ASSIGN_OR_RETURN(set_counter_max_,
                      writer_->Prepare("INSERT INTO counters(name,value) VALUES(?,?) ON "
                                       "CONFLICT(name) DO UPDATE SET "
                                       "value=max(value,excluded.value)"));
  return Status::OK();
}

Result<uint64_t> SqliteStaging::CounterLocked(const char* name) {
  read_counter_.BindText(1, name);
  auto row = read_counter_.Step();
  uint64_t value = row.ok() && *row ? static_cast<uint64_t>(read_counter_.ColumnInt(0)) : 0;
  read_counter_.Reset();
  if (!row.ok()) return row.status();
  return value;
}

Status SqliteStaging::MigrateLocked(int64_t version) {
  if (version >= 2) return Status::OK();
  // Up to version 1 the view followed the relay cursor: it holds every row up to it.
  return writer_->Exec(
      fmt::format("INSERT OR IGNORE INTO counters(name,value) SELECT '{}',"
                  "coalesce((SELECT value FROM counters WHERE name='{}'),0)",
                  kViewed, kRelayCursor));
}

Status SqliteStaging::PrepareReader() {
  DF_ASSIGN_OR_RETURN(read_outbox_, reader_->Prepare("SELECT seq,key,raw,fetched_at FROM outbox "
                                                     "WHERE seq>? ORDER BY seq LIMIT ?"));
  return Status::OK();
}

std::unique_lock<std::mutex> SqliteStaging::LockWriter() {
  if (checkpointer_) checkpointer_->WaitForRestart();
  return std::unique_lock(write_mu_);
}

Result<uint64_t> SqliteStaging::Commit(const std::string& source_name, const SourceBatch& batch) {
  auto lock = LockWriter();
  if (!writer_) return Status::InvalidArgument("staging is open read-only");
  uint64_t first_seq = next_seq_;
  size_t unviewed_before = unviewed_.size();
  DF_RETURN_IF_ERROR(writer_->Exec("BEGIN IMMEDIATE"));
  Status s = CommitLocked(source_name, batch);
  if (s.ok()) s = writer_->Exec("COMMIT");
  if (!s.ok()) {
    (void)writer_->Exec("ROLLBACK");
    next_seq_ = first_seq;
    unviewed_.resize(unviewed_before);
    return s.WithContext("committing a source batch to staging");
  }
  if (unviewed_.size() > kMaxUnviewed) unviewed_ = {};  // no relay here: read back when one runs
  return next_seq_ - 1;
}

Status SqliteStaging::CommitLocked(const std::string& source_name, const SourceBatch& batch) {
  for (const auto& r : batch.records) {
    uint64_t seq = next_seq_++;
    insert_outbox_.BindInt(1, static_cast<int64_t>(seq));
    insert_outbox_.BindText(2, r.key);
    insert_outbox_.BindBlob(3, r.raw);
    insert_outbox_.BindInt(4, r.fetched_at_us);
    DF_RETURN_IF_ERROR(insert_outbox_.Run());
    unviewed_.emplace_back(KeyHash(r.key), static_cast<int64_t>(seq));
  }
  for (const auto& d : batch.dead_letters) {
    DF_RETURN_IF_ERROR(InsertDeadLetterLocked(d));
  }
  set_position_.BindText(1, source_name);
  set_position_.BindText(2, batch.position);
  DF_RETURN_IF_ERROR(set_position_.Run());
  auto add = [&](const char* name, uint64_t v) {
    add_counter_.BindText(1, name);
    add_counter_.BindInt(2, static_cast<int64_t>(v));
    return add_counter_.Run();
  };
  DF_RETURN_IF_ERROR(add(kFetched, batch.fetched()));
  DF_RETURN_IF_ERROR(add(kStaged, batch.records.size()));
  return add(kDeadLettered, batch.dead_letters.size());
}

Result<std::string> SqliteStaging::SourcePosition(const std::string& source_name) {
  std::lock_guard lock(read_mu_);
  DF_ASSIGN_OR_RETURN(auto q,
                      reader_->Prepare("SELECT position FROM source_positions WHERE source=?"));
  q.BindText(1, source_name);
  DF_ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? q.ColumnText(0) : std::string();
}

Result<std::vector<std::pair<std::string, std::string>>> SqliteStaging::SourcePositions() {
  std::lock_guard lock(read_mu_);
  DF_ASSIGN_OR_RETURN(auto q, reader_->Prepare("SELECT source,position FROM source_positions "
                                               "ORDER BY source"));
  std::vector<std::pair<std::string, std::string>> out;
  while (true) {
    DF_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.emplace_back(q.ColumnText(0), q.ColumnText(1));
  }
  return out;
}

Status SqliteStaging::ReadOutbox(uint64_t after_seq, size_t max_rows, std::vector<OutboxRow>* out) {
  std::lock_guard lock(read_mu_);
  read_outbox_.BindInt(1, static_cast<int64_t>(after_seq));
  read_outbox_.BindInt(2, static_cast<int64_t>(max_rows));
  return read_outbox_.ForEachRow([&] {
    OutboxRow r;
    r.seq = static_cast<uint64_t>(read_outbox_.ColumnInt(0));
    r.key = read_outbox_.ColumnText(1);
    r.raw = read_outbox_.ColumnText(2);
    r.fetched_at_us = read_outbox_.ColumnInt(3);
    out->push_back(std::move(r));
  });
}

Status SqliteStaging::InsertDeadLetterLocked(const DeadLetter& d) {
  insert_dead_.BindText(1, d.stage);
  insert_dead_.BindText(2, d.reason);
  insert_dead_.BindText(3, d.location);
  insert_dead_.BindBlob(4, d.payload);
  insert_dead_.BindInt(5, d.at_us);
  return insert_dead_.Run();
}

Status SqliteStaging::CollectViewUpdatesLocked(uint64_t after_seq, uint64_t through_seq) {
  // The rows this process committed are remembered (unviewed_); rows before them (an earlier
  // run's, not yet in the view when it stopped) are read back from the outbox.
  view_updates_.clear();
  size_t first = 0;
  while (first < unviewed_.size() && static_cast<uint64_t>(unviewed_[first].second) <= after_seq) {
    ++first;  // in the view already
  }
  const uint64_t remembered_from =
      first < unviewed_.size() ? static_cast<uint64_t>(unviewed_[first].second) : next_seq_;
  if (after_seq + 1 < remembered_from) {
    read_keys_.BindInt(1, static_cast<int64_t>(after_seq));
    read_keys_.BindInt(2, static_cast<int64_t>(std::min(through_seq, remembered_from - 1)));
    DF_RETURN_IF_ERROR(read_keys_.ForEachRow([&] {
      view_updates_.emplace_back(KeyHash(read_keys_.ColumnTextView(1)), read_keys_.ColumnInt(0));
    }));
  }
  for (size_t i = first;
       i < unviewed_.size() && static_cast<uint64_t>(unviewed_[i].second) <= through_seq; ++i) {
    view_updates_.push_back(unviewed_[i]);
  }
  // Each key's last version, in key-hash order: the versions of one hash in seq order, and the
  // last of them kept. (Ordered by seq too rather than a stable sort, which would allocate a
  // second buffer as large as a pass.)
  std::sort(view_updates_.begin(), view_updates_.end());
  size_t kept = 0;
  for (size_t i = 0; i < view_updates_.size(); ++i) {
    if (i + 1 < view_updates_.size() && view_updates_[i + 1].first == view_updates_[i].first) {
      continue;
    }
    view_updates_[kept++] = view_updates_[i];
  }
  view_updates_.resize(kept);
  return Status::OK();
}

Status SqliteStaging::UpsertViewLocked(size_t begin, size_t end) {
  // Each key once (CollectViewUpdatesLocked dedupes), so no statement updates a row it inserted.
  for (; end - begin >= kViewRowsPerStatement; begin += kViewRowsPerStatement) {
    for (size_t j = 0; j < kViewRowsPerStatement; ++j) {
      upsert_staged_many_.BindInt(static_cast<int>(2 * j + 1), view_updates_[begin + j].first);
      upsert_staged_many_.BindInt(static_cast<int>(2 * j + 2), view_updates_[begin + j].second);
    }
    DF_RETURN_IF_ERROR(upsert_staged_many_.Run());
  }
  for (size_t i = begin; i < end; ++i) {
    upsert_staged_.BindInt(1, view_updates_[i].first);
    upsert_staged_.BindInt(2, view_updates_[i].second);
    DF_RETURN_IF_ERROR(upsert_staged_.Run());
  }
  return Status::OK();
}

Status SqliteStaging::RelayTransaction(const std::function<Status()>& body) {
  auto lock = LockWriter();
  // Not synced by itself: the next source commit's sync of the WAL carries it, and until then a
  // power loss may take it back, which costs re-reading only (the log, not the cursor, is the
  // truth on recovery; the view is upserted again from `viewed`; rows the relay refused are
  // refused again). Its sync would hold the writer, and so the source's next commit.
  if (synchronous_full_) DF_RETURN_IF_ERROR(writer_->Exec("PRAGMA synchronous=NORMAL"));
  Status s = writer_->Exec("BEGIN IMMEDIATE");
  if (s.ok()) {
    s = body();
    if (s.ok()) s = writer_->Exec("COMMIT");
    if (!s.ok()) (void)writer_->Exec("ROLLBACK");
  }
  if (synchronous_full_) {
    Status restored = writer_->Exec("PRAGMA synchronous=FULL");
    if (s.ok()) s = restored;
  }
  return s;
}

Status SqliteStaging::MaybeStartPass(uint64_t seq, bool force) {
  if (pass_active_ || seq <= viewed_) return Status::OK();
  const uint64_t waiting = seq - viewed_;
  auto may_wait = [&] { return std::min(view_rows_ / 8, kMaxViewLag); };
  if (!force && waiting < may_wait()) return Status::OK();
  if (!force && !view_rows_counted_) {  // view_rows_ is an upper bound: count before a pass
    std::lock_guard lock(read_mu_);
    DF_ASSIGN_OR_RETURN(auto q, reader_->Prepare("SELECT count(*) FROM staged"));
    DF_ASSIGN_OR_RETURN(bool row, q.Step());
    view_rows_ = row ? static_cast<uint64_t>(q.ColumnInt(0)) : 0;
    view_rows_counted_ = true;
    if (waiting < may_wait()) return Status::OK();
  }
  {
    auto lock = LockWriter();
    DF_RETURN_IF_ERROR(CollectViewUpdatesLocked(viewed_, seq));
    auto taken = std::find_if(unviewed_.begin(), unviewed_.end(),
                              [&](const auto& u) { return static_cast<uint64_t>(u.second) > seq; });
    unviewed_.erase(unviewed_.begin(), taken);
  }
  pass_active_ = true;
  pass_to_ = seq;
  view_done_ = 0;
  view_rows_ += view_updates_.size();
  view_rows_counted_ = false;
  return Status::OK();
}

Status SqliteStaging::RunPassSlices(size_t budget, bool* last) {
  *last = false;
  if (!pass_active_) return Status::OK();
  // Slices of consecutive key hashes (so each page of the view is written about once a pass),
  // a transaction each, the writer free between them for the source's commits.
  while (view_updates_.size() - view_done_ > kViewSlice && budget > 0) {
    DF_RETURN_IF_ERROR(
        RelayTransaction([&] { return UpsertViewLocked(view_done_, view_done_ + kViewSlice); }));
    view_done_ += kViewSlice;
    budget -= std::min(budget, kViewSlice);
  }
  *last = view_updates_.size() - view_done_ <= kViewSlice;
  return Status::OK();
}

Status SqliteStaging::FinishPassLocked() {
  DF_RETURN_IF_ERROR(UpsertViewLocked(view_done_, view_updates_.size()));
  set_counter_max_.BindText(1, kViewed);
  set_counter_max_.BindInt(2, static_cast<int64_t>(pass_to_));
  return set_counter_max_.Run();
}

void SqliteStaging::PassFinished() {
  viewed_ = pass_to_;
  pass_active_ = false;
  view_done_ = 0;
  view_updates_.clear();
  if (view_updates_.capacity() > kMaxUnviewed) view_updates_ = {};
}

Status SqliteStaging::CommitRelayCursor(uint64_t seq, uint64_t streamed_delta,
                                        const std::vector<DeadLetter>& dead_letters) {
  uint64_t cursor = 0;
  {
    auto lock = LockWriter();
    if (!writer_) return Status::InvalidArgument("staging is open read-only");
    DF_ASSIGN_OR_RETURN(cursor, CounterLocked(kRelayCursor));
    // A seq not above the cursor (a retried call) changes nothing, streamed included.
    if (cursor >= seq) return Status::OK();
  }
  DF_RETURN_IF_ERROR(MaybeStartPass(seq, /*force=*/false)
                         .WithContext("committing the relay cursor: reading the outbox"));
  // Twice the rows this call passes, so a pass ends before the next one may start.
  bool last = false;
  DF_RETURN_IF_ERROR(RunPassSlices(std::max<size_t>(kViewSlice, 2 * (seq - cursor)), &last)
                         .WithContext("committing the relay cursor: the upsert view"));
  Status s = RelayTransaction([&]() -> Status {
    if (last) DF_RETURN_IF_ERROR(FinishPassLocked());
    set_counter_max_.BindText(1, kRelayCursor);
    set_counter_max_.BindInt(2, static_cast<int64_t>(seq));
    DF_RETURN_IF_ERROR(set_counter_max_.Run());
    add_counter_.BindText(1, kStreamed);
    add_counter_.BindInt(2, static_cast<int64_t>(streamed_delta));
    DF_RETURN_IF_ERROR(add_counter_.Run());
    for (const auto& d : dead_letters) {
      DF_RETURN_IF_ERROR(InsertDeadLetterLocked(d));
    }
    if (dead_letters.empty()) return Status::OK();
    add_counter_.BindText(1, kDeadLettered);
    add_counter_.BindInt(2, static_cast<int64_t>(dead_letters.size()));
    return add_counter_.Run();
  });
  if (!s.ok()) return s.WithContext("committing the relay cursor");
  if (last) PassFinished();
  return Status::OK();
}

Status SqliteStaging::CompleteView() {
  uint64_t cursor = 0;
  {
    auto lock = LockWriter();
    if (!writer_) return Status::InvalidArgument("staging is open read-only");
    DF_ASSIGN_OR_RETURN(cursor, CounterLocked(kRelayCursor));
  }
  // A pass under way ends where it was to; then one more, to the cursor.
  while (pass_active_ || viewed_ < cursor) {
    DF_RETURN_IF_ERROR(MaybeStartPass(cursor, /*force=*/true)
                           .WithContext("completing the upsert view: reading the outbox"));
    bool last = false;
    DF_RETURN_IF_ERROR(RunPassSlices(std::numeric_limits<size_t>::max(), &last));
    DF_RETURN_IF_ERROR(RelayTransaction([&] {
                         return FinishPassLocked();
                       }).WithContext("completing the upsert view"));
    PassFinished();
  }
  return Status::OK();
}

Result<StagingCounters> SqliteStaging::Counters() {
  std::lock_guard lock(read_mu_);
  StagingCounters c;
  // One read transaction so the numbers agree with each other.
  DF_RETURN_IF_ERROR(reader_->Exec("BEGIN"));
  auto read = [&]() -> Status {
    DF_ASSIGN_OR_RETURN(auto q, reader_->Prepare("SELECT name,value FROM counters"));
    while (true) {
      DF_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      std::string name = q.ColumnText(0);
      uint64_t v = static_cast<uint64_t>(q.ColumnInt(1));
      if (name == kFetched) c.fetched = v;
      if (name == kStaged) c.staged = v;
      if (name == kDeadLettered) c.dead_lettered = v;
      if (name == kRelayCursor) c.relay_cursor = v;
      if (name == kStreamed) c.streamed = v;
    }
    DF_ASSIGN_OR_RETURN(auto keys, reader_->Prepare("SELECT count(*) FROM staged"));
    DF_ASSIGN_OR_RETURN(bool row, keys.Step());
    c.distinct_keys = row ? static_cast<uint64_t>(keys.ColumnInt(0)) : 0;
    DF_ASSIGN_OR_RETURN(auto last, reader_->Prepare("SELECT coalesce(max(seq),0) FROM outbox"));
    DF_ASSIGN_OR_RETURN(row, last.Step());
    c.last_seq = row ? static_cast<uint64_t>(last.ColumnInt(0)) : 0;
    return Status::OK();
  };
  Status s = read();
  (void)reader_->Exec("COMMIT");
  if (!s.ok()) return s;
  return c;
}

Result<OutboxRow> SqliteStaging::Get(const std::string& key) {
  std::lock_guard lock(read_mu_);
  // The newest version the view does not hold yet (the rows past `viewed`: up to
  // tuning.max_staging_lag past the relay cursor, kMaxViewLag more, and what the cursor passed
  // while a pass ran: 197,500 rows in all, measured at ~2M keys, 0.09 s to scan; a version-1
  // file read before this version's first run has no `viewed`, its view follows the relay
  // cursor), else the view's; one statement, so one snapshot.
  DF_ASSIGN_OR_RETURN(
      auto q, reader_->Prepare(fmt::format(
                  "SELECT * FROM (SELECT seq,key,raw,fetched_at FROM outbox WHERE seq>"
                  "coalesce((SELECT value FROM counters WHERE name='{}'),(SELECT value FROM "
                  "counters WHERE name='{}'),0) AND key=?2 ORDER BY "
                  "seq DESC LIMIT 1) UNION ALL SELECT * FROM (SELECT o.seq,o.key,o.raw,"
                  "o.fetched_at FROM staged s JOIN outbox o ON o.seq=s.seq WHERE s.key_hash=?1 "
                  "AND o.key=?2) LIMIT 1",
                  kViewed, kRelayCursor)));
  q.BindInt(1, KeyHash(key));
  q.BindText(2, key);
  DF_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::NotFound(fmt::format("no staged record with key '{}'", key));
  OutboxRow r{static_cast<uint64_t>(q.ColumnInt(0)), q.ColumnText(1), q.ColumnText(2),
              q.ColumnInt(3)};
  return r;
}

Status SqliteStaging::ListDeadLetters(uint64_t after_id, size_t limit,
                                      std::vector<StoredDeadLetter>* out) {
  std::lock_guard lock(read_mu_);
  DF_ASSIGN_OR_RETURN(auto q, reader_->Prepare("SELECT id,stage,reason,location,payload,at FROM "
                                               "dead_letters WHERE id>? ORDER BY id LIMIT ?"));
  q.BindInt(1, static_cast<int64_t>(after_id));
  q.BindInt(2, static_cast<int64_t>(limit));
  while (true) {
    DF_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    StoredDeadLetter d;
    d.id = static_cast<uint64_t>(q.ColumnInt(0));
    d.letter.stage = q.ColumnText(1);
    d.letter.reason = q.ColumnText(2);
    d.letter.location = q.ColumnText(3);
    d.letter.payload = q.ColumnText(4);
    d.letter.at_us = q.ColumnInt(5);
    out->push_back(std::move(d));
  }
  return Status::OK();
}

}  // namespace dataforge
