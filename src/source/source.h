// Source stage interface: pulls records from somewhere (HTTP API, file capture, ...).
//
// Thread-compatible: one thread (the pipeline's source thread) owns a Source.
// Durability: a Source holds no durable state itself. Each batch carries an opaque `position`
// that staging commits in the same transaction as the batch; on restart the pipeline passes the
// last committed position to Open(), and the source resumes exactly after it (no page skipped,
// no page repeated).
#pragma once

#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "common/record.h"
#include "common/status.h"

namespace dataforge {

struct SourceBatch {
  std::vector<SourceRecord> records;
  std::vector<DeadLetter> dead_letters;  // stage "source"
  // Position to resume after this batch (opaque to everyone but the source).
  std::string position;
  // Number of fetched items this batch accounts for: records.size() + dead_letters.size().
  uint64_t fetched() const { return records.size() + dead_letters.size(); }
};

class Source {
 public:
  virtual ~Source() = default;

  // Prepares to resume after `committed_position` ("" = from the beginning).
  virtual Status Open(const std::string& committed_position) = 0;

  // Fetches the next batch, at most `max_records` records (the source keeps the rest of a page
  // for the next call and encodes that in `position`). Returns:
  //  - a batch (possibly with only dead letters);
  //  - NotFound when the input is exhausted (a file read once, or a finite API);
  //  - Cancelled when `stop` was requested while waiting (retry backoff, rate limit);
  //  - another error after retries are exhausted (the message says what and where).
  virtual Result<SourceBatch> Next(size_t max_records, std::stop_token stop) = 0;

  // A short human description, e.g. "http://127.0.0.1:4411/api/?results=500&seed=df".
  virtual std::string Describe() const = 0;

  // Called (on the source's thread, between Next() calls) once every record of the batches up
  // to the one whose position is `position` is in the log and acknowledged. A source that
  // confirms delivery upstream does it here (PostgreSQL CDC confirms the flushed LSN to its
  // replication slot, so the server keeps the WAL until then). Default: nothing.
  virtual void Acknowledged(const std::string& position) { (void)position; }
};

}  // namespace dataforge
