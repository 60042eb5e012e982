// Staging stage interface: raw records upserted by key, with an outbox sequence.
//
// Every committed record version gets the next outbox sequence number (1, 2, 3, ...), in commit
// order. The outbox is the change stream the relay reads; `staged` (distinct keys, latest
// version) is the upsert view.
//
// Thread-safety: one writer (the source thread) and one relay thread may call a Staging
// concurrently; readers opened with OpenMode::kReadOnly never block the writer.
// Durability: Commit() returns after the batch, the source position and the counters are
// durable together (one transaction; fsync per `synchronous` setting).
// tests/conformance/staging_conformance_test.cc checks this contract for every backend.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/open_mode.h"
#include "common/record.h"
#include "common/status.h"
#include "source/source.h"

namespace dataforge {

struct OutboxRow {
  uint64_t seq = 0;
  std::string key;
  std::string raw;
  int64_t fetched_at_us = 0;
};

struct StagingCounters {
  uint64_t fetched = 0;        // everything the source delivered (records + dead letters)
  uint64_t staged = 0;         // record versions accepted into the outbox
  uint64_t dead_lettered = 0;  // dead letters written by source/staging
  uint64_t distinct_keys = 0;  // rows in the upsert view (which may trail the relay cursor)
  uint64_t last_seq = 0;       // highest outbox sequence
  uint64_t relay_cursor = 0;   // highest sequence the relay has durably handed to the log
  uint64_t streamed = 0;       // record versions the relay handed to the log
};

class Staging {
 public:
  virtual ~Staging() = default;

  // Atomically: append each record to the outbox (new seq each), append the dead letters,
  // set the source's position, and add to the counters. Returns the last seq assigned. The
  // upsert by key is visible to Get() at once; the upsert view (and so the count of distinct
  // keys) follows the relay cursor: CommitRelayCursor maintains it.
  virtual Result<uint64_t> Commit(const std::string& source_name, const SourceBatch& batch) = 0;

  // The position last committed for `source_name`, or "" if none.
  virtual Result<std::string> SourcePosition(const std::string& source_name) = 0;

  // Every source's committed position, as (source name, position) pairs.
  virtual Result<std::vector<std::pair<std::string, std::string>>> SourcePositions() = 0;

  // Outbox rows with seq > after_seq, in seq order, at most `max_rows`.
  virtual Status ReadOutbox(uint64_t after_seq, size_t max_rows, std::vector<OutboxRow>* out) = 0;

  // Records that the relay handed every row up to and including `seq` to the log, and that
  // `streamed_delta` more record versions were streamed, and brings the upsert view along:
  // each key's last version among the rows up to `seq` (PostgreSQL: in the same transaction;
  // SQLite: the view may trail the cursor by up to an eighth of its rows, see
  // sqlite_staging.h, and be ahead of what it says it holds for some keys, never behind);
  // in the same transaction as the cursor, appends
  // `dead_letters` (rows up to `seq` the relay could not encode for the log, log.format) and
  // adds them to `dead_lettered`. Monotonic: a call whose seq is not above the cursor (a retry)
  // changes nothing, `streamed` and the dead letters included.
  virtual Status CommitRelayCursor(uint64_t seq, uint64_t streamed_delta,
                                   const std::vector<DeadLetter>& dead_letters) = 0;
  Status CommitRelayCursor(uint64_t seq, uint64_t streamed_delta) {
    return CommitRelayCursor(seq, streamed_delta, {});
  }

  // Brings the upsert view up to the relay cursor before it returns (SQLite's may trail it).
  // The relay's thread, as CommitRelayCursor.
  virtual Status CompleteView() { return Status::OK(); }

  virtual Result<StagingCounters> Counters() = 0;

  // The latest raw version of `key`, NotFound if absent.
  virtual Result<OutboxRow> Get(const std::string& key) = 0;

  // Dead letters with id > after_id, oldest first, at most `limit`.
  virtual Status ListDeadLetters(uint64_t after_id, size_t limit,
                                 std::vector<StoredDeadLetter>* out) = 0;

  // Makes a call waiting for an unreachable server give up (Cancelled). Any thread.
  virtual void Interrupt() {}
};

// Which backend a staging URL names; every store kept in the staging database (users, runs,
// the schema registry) opens through it. sqlite_path is the file ("" for PostgreSQL, whose
// `url` is passed to libpq as is). ConfigError for an empty SQLite path or another scheme.
struct StagingUrl {
  bool postgres = false;
  std::string sqlite_path;
};
Result<StagingUrl> ParseStagingUrl(const std::string& url);

// Opens the staging named by `url`: "sqlite:///abs/path/staging.db", "sqlite://rel/path", or
// "postgresql://user:password@host:port/db?sslmode=..." (any libpq URI).
// `synchronous_full`: make every commit durable before it returns (SQLite: fsync; PostgreSQL:
// synchronous_commit=on) or leave it to the next checkpoint/WAL flush (false).
// `instance` names the writer when several share one database (PostgreSQL: each ingest
// process has its own outbox sequence, source positions and counters under it; readers see
// that instance's). A read-only PostgreSQL staging opened with instance "" reads every
// instance: counters summed, every instance's dead letters, source positions named
// "<instance>/<source>" (what a reader without a data dir sees). SQLite ignores it: its file
// has one writer.
Result<std::unique_ptr<Staging>> OpenStaging(const std::string& url, OpenMode mode,
                                             bool synchronous_full,
                                             const std::string& instance = "");

}  // namespace dataforge
