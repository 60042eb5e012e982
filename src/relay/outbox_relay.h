// The change stream: moves new staging outbox rows, in order, into the log.
//
// Each log record carries the outbox sequence in header "seq" (decimal), the relay's origin
// (which staging it came from) in header "origin", and the fetch time as its timestamp. The relay's
// durable position is the staging relay cursor, advanced only after the log acknowledged the batch.
// Batches are pipelined: up to kMaxInFlight batches, and kMaxInFlightBytes of values, are handed
// to the log before the oldest is acknowledged (Log::StartAppend), and the cursor only ever covers
// acknowledged batches. The log is the truth on recovery: Recover() reads the last record of every
// partition; rows whose seq is at or below that partition's last seq are already in the log and are
// skipped (a crash between append and cursor commit), rows above it are streamed (again, if a torn
// tail was truncated away). So the log gets no duplicates and no gaps: rows reach each partition in
// seq order. When a partition's last record came from another origin (several ingest processes
// share a Kafka topic), its seq says nothing about ours: that partition resumes at the committed
// cursor, so a crash between the broker's acknowledgement and the cursor commit re-sends at most
// one cursor interval of rows, which the store's upsert by key absorbs. A broadcast row (key with
// kBroadcastKeyPrefix, common/record.h) is appended to every partition, the same record with the
// same seq, in the same batch as its neighbours, so on each partition it keeps its place in seq
// order; `streamed` counts it once (one outbox row), `relayed` once per partition.
//
// log.format confluent-json / confluent-avro (SetEncoding): each value goes to the log in
// Confluent's wire format (registry/wire_format.h: magic byte 0, the schema id, the payload the
// schema's codec makes of the staged JSON). A row the codec refuses (it does not match the
// schema) is not appended: it becomes a dead letter of stage "relay" (reason "log.format: ...
// does not match schema id N of subject S: <path> <rule>: <message>", the staged JSON as
// payload), committed with the cursor that passes it (Staging::CommitRelayCursor), so it is
// counted once in staging's dead_lettered and the balance holds; the rows after it go on.
// Recovery: a refused row is in no partition; Recover() restarts at or below the committed
// cursor, so every uncommitted row is read again: one refused again is dead-lettered (its
// letter was not committed), one that encodes follows the skip rule above. This assumes the
// schema did not change between the crash and the restart for those rows (at most one cursor
// interval): a row encoded before and refused after, or the reverse, could be counted twice or
// not at all.
// A broadcast row (a source truncate event) is relayed as JSON unencoded: it is DataForge's
// own control record, not a record of the subject.
// Rows in memory (Offer): the writer of the staging may hand each batch it committed to the
// relay, which then takes the rows from memory instead of reading them back, as long as they
// continue its cursor; otherwise (after a restart, behind a dropped offer) it reads the staging
// outbox as before. An offer changes no durability point: the rows are committed before they
// are offered, and the cursor still moves only over what the log acknowledged.
// Thread-compatible: one thread drives a relay; Offer() may be called from any one other thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/latency_histogram.h"
#include "common/status.h"
#include "log/log.h"
#include "registry/schema_format.h"
#include "staging/staging.h"

namespace dataforge {

struct RelayProbe {
  // Rows past the committed cursor the log holds: appended by this process and acknowledged,
  // or found in the log after a crash (appended before it, not re-appended).
  std::atomic<uint64_t> streamed{0};
  std::atomic<uint64_t> cursor{0};  // last seq of the acknowledged batches
  // The cursor committed to the staging. The upsert view (`staged`) holds every row up to it
  // once the relay completed it (Staging::CompleteView: on a drain, and while an ingest waits);
  // between those, SQLite's may trail it.
  std::atomic<uint64_t> committed{0};
  std::atomic<uint64_t> batches{0};
  // Records this process appended and the log acknowledged, re-streamed ones included (a
  // broadcast row counts once per partition): what its consumers will read.
  std::atomic<uint64_t> relayed{0};
  std::atomic<uint64_t> dead_lettered{0};  // rows log.format's codec refused (committed)
  std::atomic<uint64_t> busy_us{0};        // time in RunOnce (written by the pipeline)
  LatencyHistogram append_duration_us;     // a batch's append -> the log's acknowledgement
};

// How the relay encodes values for log.format's confluent formats.
struct RelayEncoding {
  int64_t schema_id = 0;
  std::string subject;
  std::unique_ptr<registry::RecordCodec> codec;  // of schema `schema_id`
};

class OutboxRelay {
 public:
  // Borrows `staging`, `log` and `probe`; they must outlive the relay.
  // `origin` names this staging (e.g. host:data dir) in every record it relays.
  OutboxRelay(Staging* staging, Log* log, std::string topic, int32_t partitions,
              size_t batch_records, RelayProbe* probe, Clock* clock = Clock::Real(),
              int64_t cursor_interval_us = 200'000, std::string origin = "");

  // Encodes values in Confluent's wire format from now on (see the header comment). Call
  // before Recover().
  void SetEncoding(RelayEncoding encoding);

  // Finds the durable position (see the header comment). Call once before RunOnce().
  Status Recover();

  // Hands at most one batch to the log. Returns the number of outbox rows read (0 = none
  // pending). The staging cursor is committed, up to the acknowledged batches, at most every
  // `cursor_interval_us` (the log, not the cursor, is the truth on recovery, so a late cursor
  // costs only a little re-reading); FlushCursor() waits for every batch in flight and commits
  // it now, with the upsert view complete (Staging::CompleteView()).
  Result<size_t> RunOnce();
  Status FlushCursor();
  // `rows`: the outbox rows of one committed batch, seqs consecutive and in order, exactly as
  // the staging holds them. Kept (moved) until RunOnce() takes them; dropped when rows of more
  // than kMaxOfferedBatches batches wait (RunOnce() then reads those from the staging).
  void Offer(std::vector<OutboxRow> rows);
  // Takes the batches acknowledged so far and commits the cursor over them, without waiting
  // for the rest (for an idle relay: waiting a round trip would delay the next rows): when the
  // last commit is `cursor_interval_us` old, or `now` (someone waits for the committed cursor,
  // and for the upsert view to hold it: Staging::CompleteView()). A relay that keeps up with
  // its source is idle after every batch, and each cursor commit is a transaction.
  Status CommitProgress(bool now = false);

  // A Kafka producer's acknowledgements take a round trip to the brokers: 8 batches in flight
  // held the relay to ~60% of kcat's produce rate, 32 to ~120% (docs/benchmarks.md). The bytes
  // bound keeps the memory that holds them (the values, until acknowledged) for large records.
  static constexpr size_t kMaxInFlight = 32;
  static constexpr uint64_t kMaxInFlightBytes = 48ull << 20;
  static constexpr size_t kMaxOfferedBatches = 4;

  uint64_t cursor() const { return cursor_; }

 private:
  // The wire format of `row` in *value; false (and the dead letter in pending_dead_) when the
  // codec refuses it.
  bool Encode(OutboxRow& row, std::string* value);

  struct InFlight {
    uint64_t ticket;
    uint64_t last_seq;   // the batch's highest outbox seq
    uint64_t streamed;   // rows it adds to the streamed counter
    uint64_t rows;       // rows it appended
    int64_t started_us;  // monotonic, when it was handed to the log
    uint64_t bytes;      // of its values
  };
  // Takes acknowledged batches off in_flight_ (waiting up to `timeout_us`).
  Status Reap(int64_t timeout_us);
  // `complete_view`: and brings the staging's upsert view up to the committed cursor before the
  // probe says it is committed.
  Status CommitAcknowledged(bool complete_view = false);
  // Moves the offered rows that continue `cursor_` (at most batch_records_) into rows_.
  void TakeOffered();

  Staging* staging_;
  Log* log_;
  std::string topic_;
  int32_t partitions_;
  size_t batch_records_;
  RelayProbe* probe_;
  uint64_t cursor_ = 0;        // last seq handed to the log
  uint64_t acked_cursor_ = 0;  // last seq of the acknowledged prefix
  std::deque<InFlight> in_flight_;
  uint64_t in_flight_bytes_ = 0;           // the sum of in_flight_'s bytes
  std::vector<uint64_t> last_seq_in_log_;  // per partition, from Recover(); only for skipping
  uint64_t committed_cursor_ = 0;          // the staging relay cursor at Recover()
  Clock* clock_;
  int64_t cursor_interval_us_;
  int64_t last_cursor_commit_us_ = 0;
  uint64_t pending_streamed_ = 0;  // streamed since the last cursor commit
  uint64_t committed_now_ = 0;     // cursor value last committed
  uint64_t view_complete_at_ = 0;  // committed_now_ at the last Staging::CompleteView()
  std::string origin_;
  std::vector<OutboxRow> rows_;
  std::optional<RelayEncoding> encoding_;
  std::string encoded_;
  // Rows the codec refused, by seq, until the cursor commit that passes them writes them.
  std::deque<std::pair<uint64_t, DeadLetter>> pending_dead_;
  std::vector<DeadLetter> committing_dead_;
  std::vector<std::vector<LogRecord>> by_partition_;
  std::mutex offered_mu_;
  std::deque<OutboxRow> offered_;  // guarded by offered_mu_; in seq order
};

}  // namespace dataforge
