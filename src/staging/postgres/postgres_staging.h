// PostgreSQL implementation of Staging (libpq). See staging/staging.h for the contract,
// staging/postgres/postgres_schema.cc for the tables and docs/postgresql.md for operations.
//
// A batch is one transaction: a binary COPY of the records into dataforge.outbox (the outbox
// sequence is per instance, so several ingest processes write one database without sharing a
// counter), the dead letters, the source position and the counters. When the server rejects a
// record (a NUL byte, a key too large for the outbox's key index) the batch is redone row by
// row under savepoints and each rejected record is dead-lettered with the server's reason.
// The upsert view dataforge.records (latest version per key) is brought up to date in the
// relay's cursor transaction, for the rows it just handed to the log (in key order, so
// concurrent relays lock rows in the same order and cannot deadlock): a second random-key
// B-tree write per record off the source's commit path. Get() reads this instance's rows above
// the relay cursor first, so it is exact; `distinct_keys` and the staged_records view trail the
// outbox by one relay cycle (≤ 200 ms while the relay runs).
//
// Faults: every call runs in a PgSession, which reconnects and retries while the server is
// unreachable or restarting (up to kMaxWaitUs). A commit whose outcome was lost with the
// connection is checked against the instance's batch counter before it is redone, and the relay
// cursor only moves forward, so a retry never doubles anything.
//
// Thread-safety: three connections, each under its own session: the writer (Commit,
// SourcePosition), the relay (ReadOutbox, CommitRelayCursor) and a reader for the rest, so the
// source, the relay and `status` never wait for each other's round trips.
#pragma once

#include <memory>
#include <string>

#include "common/clock.h"
#include "pg/copy_binary_writer.h"
#include "pg/pg_session.h"
#include "staging/staging.h"

namespace dataforge {

class PostgresStaging final : public Staging {
 public:
  // How long a call keeps retrying an unreachable server before it fails.
  static constexpr int64_t kMaxWaitUs = 300'000'000;

  static Result<std::unique_ptr<Staging>> Open(const std::string& url, OpenMode mode,
                                               bool synchronous_full, const std::string& instance,
                                               Clock* clock = Clock::Real());

  Result<uint64_t> Commit(const std::string& source_name, const SourceBatch& batch) override;
  Result<std::string> SourcePosition(const std::string& source_name) override;
  Result<std::vector<std::pair<std::string, std::string>>> SourcePositions() override;
  Status ReadOutbox(uint64_t after_seq, size_t max_rows, std::vector<OutboxRow>* out) override;
  using Staging::CommitRelayCursor;
  Status CommitRelayCursor(uint64_t seq, uint64_t streamed_delta,
                           const std::vector<DeadLetter>& dead_letters) override;
  Result<StagingCounters> Counters() override;
  Result<OutboxRow> Get(const std::string& key) override;
  Status ListDeadLetters(uint64_t after_id, size_t limit,
                         std::vector<StoredDeadLetter>* out) override;
  void Interrupt() override;

 private:
  PostgresStaging() = default;
  Status CommitOnce(PgConnection& c, const std::string& source_name, const SourceBatch& batch,
                    uint64_t* last_seq);
  // script_ = BEGIN, the source position, the counters, the outbox COPY and COMMIT as one
  // simple query; false if a value cannot be written as a literal (then the batch takes the
  // statement-by-statement path).
  bool BuildOneTripScript(PgConnection& c, const std::string& source_name,
                          const SourceBatch& batch);
  // Inserts the records one by one under savepoints; rejected ones go to `rejected`.
  Status InsertRowByRow(PgConnection& c, const SourceBatch& batch, uint64_t first_seq,
                        uint64_t* next_seq, std::vector<DeadLetter>* rejected);
  // One transaction: the cursor to `seq`, the upsert view over (cursor, seq], the counters.
  Status AdvanceRelayCursor(PgConnection& c, uint64_t seq, uint64_t streamed_delta,
                            const std::vector<DeadLetter>& dead_letters);
  // Points dataforge.records at outbox rows [from, to]; returns how many keys are new.
  Result<int64_t> UpsertRecords(PgConnection& c, uint64_t from, uint64_t to);
  Result<uint64_t> BatchesCommitted(PgConnection& c);
  Result<uint64_t> LastSeq(PgConnection& c);  // this instance's highest outbox seq

  std::string instance_;
  int32_t instance_id_ = -1;  // dataforge.instances.id of instance_ (outbox and records use it)
  std::unique_ptr<PgSession> writer_, relay_, reader_;
  uint64_t next_seq_ = 1;  // writer thread (inside writer_->Run)
  uint64_t batches_ = 0;   // batches this instance committed; writer thread
  // Writer thread: the batch's statements and COPY data, their buffers kept between batches.
  std::string script_;
  CopyBinaryWriter copy_;
  std::string copy_data_;
};

}  // namespace dataforge
