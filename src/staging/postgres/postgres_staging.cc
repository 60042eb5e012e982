#include "staging/postgres/postgres_staging.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include <fmt/format.h>

#include "pg/copy_binary_writer.h"
#include "staging/postgres/postgres_schema.h"

namespace dataforge {
namespace {

using PgParams = std::vector<std::optional<std::string>>;

constexpr const char* kCopyOutbox =
    "COPY dataforge.outbox(instance_id, seq, key, raw, fetched_at) FROM STDIN (FORMAT binary)";
constexpr const char* kCopyDead =
    "COPY dataforge.dead_letters(instance, stage, reason, location, payload, at) FROM STDIN "
    "(FORMAT binary)";

void AddDeadLetterRow(CopyBinaryWriter* w, const std::string& instance, const DeadLetter& d) {
  w->BeginRow(6);
  w->Text(instance);
  w->Text(d.stage);
  w->Text(d.reason);
  w->Text(d.location);
  w->Text(d.payload);
  w->Int64(d.at_us);
}

void AddOutboxRow(CopyBinaryWriter* w, int32_t instance_id, uint64_t seq, const SourceRecord& r) {
  w->BeginRow(5);
  w->Int32(instance_id);
  w->Int64(static_cast<int64_t>(seq));
  w->Text(r.key);
  w->Text(r.raw);
  w->Int64(r.fetched_at_us);
}

std::string Shorten(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  return fmt::format("{}... ({} bytes)", s.substr(0, max), s.size());
}

// Rolls back whatever transaction is open; the connection may already be gone.
void Rollback(PgConnection& c) {
  if (!c.Broken()) (void)c.Exec("ROLLBACK");
}

// `s` as an SQL string literal (PQescapeLiteral: quotes doubled, E'' when backslashes); false
// when libpq refuses it (bytes invalid in the connection's encoding).
bool AppendLiteral(PgConnection& c, std::string_view s, std::string* out) {
  char* q = PQescapeLiteral(c.raw(), s.data(), s.size());
  if (!q) return false;
  out->append(q);
  PQfreemem(q);
  return true;
}

}  // namespace

Result<std::unique_ptr<Staging>> PostgresStaging::Open(const std::string& url, OpenMode mode,
                                                       bool synchronous_full,
                                                       const std::string& instance, Clock* clock) {
  if (instance.empty() && mode != OpenMode::kReadOnly) {
    return Status::InvalidArgument("PostgreSQL staging needs an instance name (the data dir id)");
  }
  std::unique_ptr<PostgresStaging> s(new PostgresStaging());
  s->instance_ = instance;
  auto setup = [synchronous_full](PgConnection& c) -> Status {
    return c.Exec(synchronous_full ? "SET synchronous_commit = on"
                                   : "SET synchronous_commit = off");
  };
  s->reader_ = std::make_unique<PgSession>(url, "PostgreSQL staging", clock, kMaxWaitUs, setup);
  DF_RETURN_IF_ERROR(s->reader_->Connect());
  PostgresStaging* self = s.get();
  if (mode == OpenMode::kReadOnly) {
    DF_RETURN_IF_ERROR(s->reader_->Run("checking the staging schema", [self](PgConnection& c, int) {
      DF_RETURN_IF_ERROR(CheckStagingSchema(c));
      DF_ASSIGN_OR_RETURN(
          auto id, c.Query("SELECT id FROM dataforge.instances WHERE name=$1", {self->instance_}));
      self->instance_id_ = id.rows() ? static_cast<int32_t>(id.Int(0, 0)) : -1;  // -1: no rows
      return Status::OK();
    }));
    return std::unique_ptr<Staging>(std::move(s));
  }
  DF_RETURN_IF_ERROR(s->reader_->Run("migrating the staging schema", [self](PgConnection& c, int) {
    DF_RETURN_IF_ERROR(MigrateStagingSchema(c));
    DF_ASSIGN_OR_RETURN(auto id, c.Query("WITH made AS (INSERT INTO dataforge.instances(name) "
                                         "VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING "
                                         "id) SELECT id FROM made UNION ALL SELECT id FROM "
                                         "dataforge.instances WHERE name=$1",
                                         {self->instance_}));
    self->instance_id_ = static_cast<int32_t>(id.Int(0, 0));
    return Status::OK();
  }));
  s->writer_ = std::make_unique<PgSession>(url, "PostgreSQL staging", clock, kMaxWaitUs, setup);
  s->relay_ = std::make_unique<PgSession>(url, "PostgreSQL staging", clock, kMaxWaitUs, setup);
  DF_RETURN_IF_ERROR(s->writer_->Connect());
  DF_RETURN_IF_ERROR(s->relay_->Connect());
  DF_RETURN_IF_ERROR(s->writer_->Run("reading the outbox position", [self](PgConnection& c, int) {
    DF_ASSIGN_OR_RETURN(uint64_t last, self->LastSeq(c));
    self->next_seq_ = last + 1;
    DF_ASSIGN_OR_RETURN(self->batches_, self->BatchesCommitted(c));
    return Status::OK();
  }));
  return std::unique_ptr<Staging>(std::move(s));
}

void PostgresStaging::Interrupt() {
  for (auto* s : {writer_.get(), relay_.get(), reader_.get()}) {
    if (s) s->Interrupt();
  }
}

Result<uint64_t> PostgresStaging::LastSeq(PgConnection& c) {
  DF_ASSIGN_OR_RETURN(auto r, c.Query("SELECT coalesce(max(seq),0) FROM dataforge.outbox WHERE "
                                      "instance_id=$1",
                                      {std::to_string(instance_id_)}));
  return static_cast<uint64_t>(r.Int(0, 0));
}

Result<uint64_t> PostgresStaging::BatchesCommitted(PgConnection& c) {
  DF_ASSIGN_OR_RETURN(auto r, c.Query("SELECT value FROM dataforge.counters WHERE instance=$1 "
                                      "AND name='batches'",
                                      {instance_}));
  return r.rows() ? static_cast<uint64_t>(r.Int(0, 0)) : 0;
}

Result<uint64_t> PostgresStaging::Commit(const std::string& source_name, const SourceBatch& batch) {
  if (!writer_) return Status::InvalidArgument("staging is open read-only");
  uint64_t last_seq = next_seq_ - 1;
  Status s = writer_->Run("committing a batch", [&](PgConnection& c, int attempt) -> Status {
    if (attempt > 0) {
      // The connection broke: did the last attempt's COMMIT land before it did?
      DF_ASSIGN_OR_RETURN(uint64_t batches, BatchesCommitted(c));
      if (batches > batches_) {
        DF_ASSIGN_OR_RETURN(last_seq, LastSeq(c));
        return Status::OK();
      }
    }
    Status st = CommitOnce(c, source_name, batch, &last_seq);
    if (!st.ok()) Rollback(c);
    return st;
  });
  if (!s.ok()) return s.WithContext("committing a source batch to staging");
  ++batches_;
  next_seq_ = last_seq + 1;
  return last_seq;
}

bool PostgresStaging::BuildOneTripScript(PgConnection& c, const std::string& source_name,
                                         const SourceBatch& batch) {
  // Everything but the COPY data in one simple-query string: the server runs the statements in
  // order, reads the COPY data when it reaches the COPY and then runs the COMMIT; an error
  // (a rejected record included) skips the rest of the string and leaves the transaction
  // aborted, so nothing commits without the COPY.
  script_.assign(
      "BEGIN;INSERT INTO dataforge.source_positions(instance, source, position) VALUES(");
  if (!AppendLiteral(c, instance_, &script_)) return false;
  script_ += ',';
  if (!AppendLiteral(c, source_name, &script_)) return false;
  script_ += ',';
  if (!AppendLiteral(c, batch.position, &script_)) return false;
  script_ +=
      ") ON CONFLICT (instance, source) DO UPDATE SET position=excluded.position;"
      "INSERT INTO dataforge.counters AS c(instance, name, value) VALUES (";
  std::string instance;
  if (!AppendLiteral(c, instance_, &instance)) return false;
  script_ += fmt::format(
      "{0},'batches',1),({0},'dead_lettered',0),({0},'fetched',{1}),({0},'staged',{2}) "
      "ON CONFLICT (instance, name) DO UPDATE SET value = c.value + excluded.value;{3};COMMIT",
      instance, batch.fetched(), batch.records.size(), kCopyOutbox);
  return true;
}

Status PostgresStaging::CommitOnce(PgConnection& c, const std::string& source_name,
                                   const SourceBatch& batch, uint64_t* last_seq) {
  const uint64_t first = next_seq_;
  uint64_t next = first;
  bool row_by_row = false;
  if (!batch.records.empty() && batch.dead_letters.empty() &&
      BuildOneTripScript(c, source_name, batch)) {
    // The common batch in one round trip (and the COPY data): see BuildOneTripScript.
    for (const auto& r : batch.records) AddOutboxRow(&copy_, instance_id_, next++, r);
    copy_.Finish(&copy_data_);
    Status s = c.CopyIn(script_, copy_data_);
    if (s.ok()) {
      *last_seq = next - 1;
      return Status::OK();
    }
    if (s.code() != StatusCode::kInvalidArgument) return s;
    // The server rejected a record: redo the batch below, one record at a time to find which.
    DF_RETURN_IF_ERROR(c.Exec("ROLLBACK"));
    next = first;
    row_by_row = true;
  }
  std::vector<DeadLetter> rejected;
  DF_RETURN_IF_ERROR(c.Exec("BEGIN"));
  if (row_by_row) {
    DF_RETURN_IF_ERROR(InsertRowByRow(c, batch, first, &next, &rejected));
  } else if (!batch.records.empty()) {
    CopyBinaryWriter w;
    for (const auto& r : batch.records) AddOutboxRow(&w, instance_id_, next++, r);
    Status staged = c.CopyIn(kCopyOutbox, w.Finish());
    if (staged.code() == StatusCode::kInvalidArgument) {
      // The server rejected a record: redo the batch one record at a time to find which.
      DF_RETURN_IF_ERROR(c.Exec("ROLLBACK"));
      DF_RETURN_IF_ERROR(c.Exec("BEGIN"));
      DF_RETURN_IF_ERROR(InsertRowByRow(c, batch, first, &next, &rejected));
    } else if (!staged.ok()) {
      return staged;
    }
  }
  if (!batch.dead_letters.empty() || !rejected.empty()) {
    CopyBinaryWriter w;
    for (const std::vector<DeadLetter>* list : {&batch.dead_letters, &std::as_const(rejected)}) {
      for (const auto& d : *list) AddDeadLetterRow(&w, instance_, d);
    }
    DF_RETURN_IF_ERROR(c.CopyIn(kCopyDead, w.Finish()).WithContext("writing dead letters"));
  }
  DF_RETURN_IF_ERROR(c.Query("INSERT INTO dataforge.source_positions(instance, source, position) "
                             "VALUES($1,$2,$3) ON CONFLICT (instance, source) DO UPDATE SET "
                             "position=excluded.position",
                             {instance_, source_name, batch.position})
                         .status());
  uint64_t staged = next - first;
  uint64_t dead = batch.dead_letters.size() + rejected.size();
  DF_RETURN_IF_ERROR(
      c.Query("INSERT INTO dataforge.counters AS c(instance, name, value) VALUES "
              "($1,'batches',1),($1,'dead_lettered',$4),($1,'fetched',$2),($1,'staged',$3) "
              "ON CONFLICT (instance, name) DO UPDATE SET value = c.value + excluded.value",
              {instance_, std::to_string(batch.fetched()), std::to_string(staged),
               std::to_string(dead)})
          .status());
  DF_RETURN_IF_ERROR(c.Exec("COMMIT"));
  *last_seq = next - 1;
  return Status::OK();
}

Result<int64_t> PostgresStaging::UpsertRecords(PgConnection& c, uint64_t from, uint64_t to) {
  // In key order, so that concurrent writers lock rows in the same order.
  DF_ASSIGN_OR_RETURN(
      auto up, c.Query("WITH up AS (INSERT INTO dataforge.records AS r(key, instance_id, seq) "
                       "SELECT DISTINCT ON (key) key, instance_id, seq FROM dataforge.outbox "
                       "WHERE instance_id=$1 AND seq BETWEEN $2 AND $3 ORDER BY key, seq DESC "
                       "ON CONFLICT (key) DO UPDATE SET instance_id=excluded.instance_id, "
                       "seq=excluded.seq "
                       "RETURNING (r.xmax = 0) AS inserted) "
                       "SELECT count(*) FILTER (WHERE inserted) FROM up",
                       {std::to_string(instance_id_), std::to_string(from), std::to_string(to)}));
  return up.Int(0, 0);
}

Status PostgresStaging::InsertRowByRow(PgConnection& c, const SourceBatch& batch,
                                       uint64_t first_seq, uint64_t* next_seq,
                                       std::vector<DeadLetter>* rejected) {
  uint64_t seq = first_seq;
  for (const auto& r : batch.records) {
    DF_RETURN_IF_ERROR(c.Exec("SAVEPOINT record"));
    CopyBinaryWriter w;
    AddOutboxRow(&w, instance_id_, seq, r);
    Status s = c.CopyIn(kCopyOutbox, w.Finish());
    if (s.ok()) {
      DF_RETURN_IF_ERROR(c.Exec("RELEASE SAVEPOINT record"));
      ++seq;
      continue;
    }
    if (s.code() != StatusCode::kInvalidArgument) return s;
    DF_RETURN_IF_ERROR(c.Exec("ROLLBACK TO SAVEPOINT record"));
    DeadLetter d;
    d.stage = "staging";
    d.reason = fmt::format("PostgreSQL rejected the record: {}", s.message());
    d.location = fmt::format("key {} (source position {})", Shorten(r.key, 200), batch.position);
    d.payload = r.raw;
    d.at_us = r.fetched_at_us;
    rejected->push_back(std::move(d));
  }
  *next_seq = seq;
  return Status::OK();
}

Result<std::string> PostgresStaging::SourcePosition(const std::string& source_name) {
  std::string position;
  PgSession* session = writer_ ? writer_.get() : reader_.get();
  DF_RETURN_IF_ERROR(session->Run("reading the source position", [&](PgConnection& c, int) {
    DF_ASSIGN_OR_RETURN(auto r, c.Query("SELECT position FROM dataforge.source_positions WHERE "
                                        "instance=$1 AND source=$2",
                                        {instance_, source_name}));
    position = r.rows() ? std::string(r.Text(0, 0)) : "";
    return Status::OK();
  }));
  return position;
}

Result<std::vector<std::pair<std::string, std::string>>> PostgresStaging::SourcePositions() {
  std::vector<std::pair<std::string, std::string>> out;
  DF_RETURN_IF_ERROR(reader_->Run("reading source positions", [&](PgConnection& c, int) {
    out.clear();
    // Every instance's (instance_ ""): named "<instance>/<source>".
    DF_ASSIGN_OR_RETURN(
        auto r, c.Query(instance_.empty() ? "SELECT instance || '/' || source, position FROM "
                                            "dataforge.source_positions ORDER BY 1"
                                          : "SELECT source, position FROM "
                                            "dataforge.source_positions WHERE instance=$1 "
                                            "ORDER BY source",
                        instance_.empty() ? PgParams{} : PgParams{instance_}));
    for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.Text(i, 0), r.Text(i, 1));
    return Status::OK();
  }));
  return out;
}

Status PostgresStaging::ReadOutbox(uint64_t after_seq, size_t max_rows,
                                   std::vector<OutboxRow>* out) {
  PgSession* session = relay_ ? relay_.get() : reader_.get();
  size_t had = out->size();
  return session->Run("reading the outbox", [&](PgConnection& c, int) {
    out->resize(had);
    DF_ASSIGN_OR_RETURN(auto r, c.Query("SELECT seq, key, raw, fetched_at FROM dataforge.outbox "
                                        "WHERE instance_id=$1 AND seq>$2 ORDER BY seq LIMIT $3",
                                        {std::to_string(instance_id_), std::to_string(after_seq),
                                         std::to_string(max_rows)}));
    for (int i = 0; i < r.rows(); ++i) {
      out->push_back({static_cast<uint64_t>(r.Int(i, 0)), std::string(r.Text(i, 1)),
                      std::string(r.Text(i, 2)), r.Int(i, 3)});
    }
    return Status::OK();
  });
}

Status PostgresStaging::CommitRelayCursor(uint64_t seq, uint64_t streamed_delta,
                                          const std::vector<DeadLetter>& dead_letters) {
  if (!relay_) return Status::InvalidArgument("staging is open read-only");
  return relay_->Run("committing the relay cursor", [&](PgConnection& c, int) -> Status {
    Status s = AdvanceRelayCursor(c, seq, streamed_delta, dead_letters);
    if (!s.ok()) Rollback(c);
    return s;
  });
}

Status PostgresStaging::AdvanceRelayCursor(PgConnection& c, uint64_t seq, uint64_t streamed_delta,
                                           const std::vector<DeadLetter>& dead_letters) {
  DF_RETURN_IF_ERROR(c.Exec("BEGIN"));
  DF_ASSIGN_OR_RETURN(auto cur, c.Query("SELECT value FROM dataforge.counters WHERE instance=$1 "
                                        "AND name='relay_cursor' FOR UPDATE",
                                        {instance_}));
  uint64_t cursor = cur.rows() ? static_cast<uint64_t>(cur.Int(0, 0)) : 0;
  if (cursor >= seq) return c.Exec("COMMIT");  // a retry after a lost COMMIT: already done
  // The upsert view follows the relay: the rows just handed to the log, in one statement.
  DF_ASSIGN_OR_RETURN(int64_t new_keys, UpsertRecords(c, cursor + 1, seq));
  DF_RETURN_IF_ERROR(c.Query("INSERT INTO dataforge.counters AS c(instance, name, value) VALUES "
                             "('','distinct_keys',$4),($1,'relay_cursor',$2),($1,'streamed',$3) "
                             "ON CONFLICT (instance, name) DO UPDATE SET value = CASE WHEN "
                             "excluded.name = 'relay_cursor' THEN excluded.value ELSE c.value + "
                             "excluded.value END",
                             {instance_, std::to_string(seq), std::to_string(streamed_delta),
                              std::to_string(new_keys)})
                         .status());
  if (!dead_letters.empty()) {  // rows the relay could not encode (log.format)
    CopyBinaryWriter w;
    for (const auto& d : dead_letters) AddDeadLetterRow(&w, instance_, d);
    DF_RETURN_IF_ERROR(c.CopyIn(kCopyDead, w.Finish()).WithContext("writing dead letters"));
    DF_RETURN_IF_ERROR(c.Query("INSERT INTO dataforge.counters AS c(instance, name, value) "
                               "VALUES ($1,'dead_lettered',$2) ON CONFLICT (instance, name) DO "
                               "UPDATE SET value = c.value + excluded.value",
                               {instance_, std::to_string(dead_letters.size())})
                           .status());
  }
  return c.Exec("COMMIT");
}

Result<StagingCounters> PostgresStaging::Counters() {
  StagingCounters out;
  DF_RETURN_IF_ERROR(reader_->Run("reading counters", [&](PgConnection& c, int) -> Status {
    StagingCounters k;
    // Every instance (instance_ ""): the sums. Each counter sums; last_seq sums each
    // instance's highest seq, so last_seq - relay_cursor is the sum of the instances' lags.
    DF_ASSIGN_OR_RETURN(
        auto r,
        c.Query(
            instance_.empty()
                ? "SELECT name, sum(value)::bigint FROM dataforge.counters GROUP BY name "
                  "UNION ALL SELECT 'last_seq', coalesce(sum(m),0)::bigint FROM (SELECT "
                  "max(seq) AS m FROM dataforge.outbox GROUP BY instance_id) AS per_instance"
                : "SELECT name, value FROM dataforge.counters WHERE instance=$1 OR "
                  "(instance='' AND name='distinct_keys') UNION ALL "
                  "SELECT 'last_seq', coalesce(max(seq),0) FROM dataforge.outbox WHERE "
                  "instance_id=$2",
            instance_.empty() ? PgParams{} : PgParams{instance_, std::to_string(instance_id_)}));
    for (int i = 0; i < r.rows(); ++i) {
      std::string_view name = r.Text(i, 0);
      auto v = static_cast<uint64_t>(r.Int(i, 1));
      if (name == "fetched") k.fetched = v;
      if (name == "staged") k.staged = v;
      if (name == "dead_lettered") k.dead_lettered = v;
      if (name == "distinct_keys") k.distinct_keys = v;
      if (name == "last_seq") k.last_seq = v;
      if (name == "relay_cursor") k.relay_cursor = v;
      if (name == "streamed") k.streamed = v;
    }
    out = k;
    return Status::OK();
  }));
  return out;
}

Result<OutboxRow> PostgresStaging::Get(const std::string& key) {
  OutboxRow row;
  bool found = false;
  DF_RETURN_IF_ERROR(reader_->Run("reading a record", [&](PgConnection& c, int) -> Status {
    // This instance's newest version not yet in the upsert view (above the relay cursor),
    // else the view's.
    DF_ASSIGN_OR_RETURN(
        auto r, c.Query("(SELECT seq, key, raw, fetched_at FROM dataforge.outbox WHERE key=$1 "
                        "AND instance_id=$3 AND seq > coalesce((SELECT value FROM "
                        "dataforge.counters WHERE instance=$2 AND name='relay_cursor'), 0) "
                        "ORDER BY seq DESC LIMIT 1) UNION ALL (SELECT o.seq, o.key, o.raw, "
                        "o.fetched_at FROM dataforge.records r JOIN dataforge.outbox o ON "
                        "o.instance_id=r.instance_id AND o.seq=r.seq WHERE r.key=$1) LIMIT 1",
                        {key, instance_, std::to_string(instance_id_)}));
    found = r.rows() > 0;
    if (found) {
      row = {static_cast<uint64_t>(r.Int(0, 0)), std::string(r.Text(0, 1)),
             std::string(r.Text(0, 2)), r.Int(0, 3)};
    }
    return Status::OK();
  }));
  if (!found) return Status::NotFound(fmt::format("no staged record with key '{}'", key));
  return row;
}

Status PostgresStaging::ListDeadLetters(uint64_t after_id, size_t limit,
                                        std::vector<StoredDeadLetter>* out) {
  size_t had = out->size();
  return reader_->Run("reading dead letters", [&](PgConnection& c, int) -> Status {
    out->resize(had);
    // Through libpq directly: the payload is bytea (it may hold bytes text cannot, the reason
    // it was rejected) and comes back in bytea's hex text form.
    // A limit past bigint (SIZE_MAX: "all") is all there is.
    std::string id = std::to_string(after_id),
                max = std::to_string(std::min<uint64_t>(limit, INT64_MAX));
    const char* params[] = {instance_.c_str(), id.c_str(), max.c_str()};
    PgResult r(PQexecParams(c.raw(),
                            "SELECT id, stage, reason, location, payload, at FROM "
                            "dataforge.dead_letters WHERE ($1::text = '' OR instance=$1::text) "
                            "AND id>$2::bigint "
                            "ORDER BY id LIMIT $3::bigint",
                            3, nullptr, params, nullptr, nullptr, 0));
    if (!r.get() || PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
      return c.ResultError(r.get(), "reading dead letters");
    }
    for (int i = 0; i < r.rows(); ++i) {
      StoredDeadLetter d;
      d.id = static_cast<uint64_t>(r.Int(i, 0));
      d.letter.stage = r.Text(i, 1);
      d.letter.reason = r.Text(i, 2);
      d.letter.location = r.Text(i, 3);
      size_t n = 0;
      unsigned char* bytes =
          PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(r.get(), i, 4)), &n);
      if (bytes) {
        d.letter.payload.assign(reinterpret_cast<const char*>(bytes), n);
        PQfreemem(bytes);
      }
      d.letter.at_us = r.Int(i, 5);
      out->push_back(std::move(d));
    }
    return Status::OK();
  });
}

}  // namespace dataforge
