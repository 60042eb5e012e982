#include "source/postgres_cdc/postgres_cdc_source.h"

#include <poll.h>

#include <algorithm>
#include <charconv>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "common/client_counters.h"
#include "common/json_writer.h"
#include "common/record.h"
#include "common/redact.h"
#include "source/postgres_cdc/row_key.h"

namespace dataforge {
namespace {

constexpr int64_t kStatusEveryUs = 1'000'000;
constexpr int64_t kIdleReturnUs = 200'000;
constexpr int64_t kFirstBackoffUs = 100'000;
constexpr int64_t kMaxBackoffUs = 5'000'000;
constexpr int64_t kGiveUpUs = 300'000'000;

bool ValidName(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::string DefaultName(const std::string& source_name) {
  std::string out = "dataforge_";
  for (char c : source_name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    out += ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) ? c : '_';
  }
  return out.substr(0, 63);
}

std::string QuoteIdent(PgConnection& c, const std::string& name) {
  char* q = PQescapeIdentifier(c.raw(), name.c_str(), name.size());
  std::string out = q ? q : "\"" + name + "\"";
  if (q) PQfreemem(q);
  return out;
}

}  // namespace

std::string CdcPosition::Format() const {
  return fmt::format("v1;lsn={};skip={}", pgoutput::FormatLsn(lsn), skip);
}

Result<CdcPosition> CdcPosition::Parse(const std::string& text) {
  CdcPosition p;
  if (text.empty()) return p;
  auto bad = [&] {
    return Status::ConfigError(fmt::format(
        "postgres_cdc source: stored position '{}' is not v1;lsn=X/Y;skip=N (was this source "
        "renamed from another type? give it a new name)",
        text));
  };
  if (text.rfind("v1;lsn=", 0) != 0) return bad();
  size_t semi = text.find(";skip=", 7);
  if (semi == std::string::npos) return bad();
  auto lsn = pgoutput::ParseLsn(std::string_view(text).substr(7, semi - 7));
  if (!lsn.ok()) return bad();
  p.lsn = *lsn;
  std::string_view skip = std::string_view(text).substr(semi + 6);
  auto [end, ec] = std::from_chars(skip.data(), skip.data() + skip.size(), p.skip);
  if (ec != std::errc() || end != skip.data() + skip.size() || skip.empty()) return bad();
  return p;
}

PostgresCdcSource::PostgresCdcSource(const SourceConfig& config, std::string url, Clock* clock)
    : config_(config), url_(std::move(url)), clock_(clock) {}

PostgresCdcSource::~PostgresCdcSource() = default;

std::string PostgresCdcSource::Describe() const {
  std::string tables;
  for (const auto& t : tables_) tables += (tables.empty() ? "" : ",") + t.schema + "." + t.name;
  return fmt::format("{} tables {} (slot {}, publication {})", Redact(url_), tables, slot_,
                     publication_);
}

Status PostgresCdcSource::Open(const std::string& committed_position) {
  std::optional<SnapshotPosition> copying;  // a run killed in the middle of the initial snapshot
  snapshot_.reset();
  if (SnapshotPosition::Is(committed_position)) {
    DF_ASSIGN_OR_RETURN(copying, SnapshotPosition::Parse(committed_position));
    resume_ = {copying->lsn, 0};
  } else {
    DF_ASSIGN_OR_RETURN(resume_, CdcPosition::Parse(committed_position));
  }
  position_ = resume_;
  acked_lsn_ = resume_.lsn;
  slot_ = config_.slot.empty() ? DefaultName(config_.name) : config_.slot;
  publication_ = config_.publication.empty() ? DefaultName(config_.name) : config_.publication;
  for (const auto& [what, name] : {std::pair{"slot", slot_}, {"publication", publication_}}) {
    if (!ValidName(name)) {
      return Status::ConfigError(fmt::format(
          "postgres_cdc source: {} name '{}' must be 1-63 of a-z, 0-9 and _", what, name));
    }
  }
  tables_.clear();
  for (const auto& t : config_.tables) {
    size_t dot = t.find('.');
    Table table;
    table.schema = dot == std::string::npos ? "public" : t.substr(0, dot);
    table.name = dot == std::string::npos ? t : t.substr(dot + 1);
    tables_.push_back(std::move(table));
  }
  DF_RETURN_IF_ERROR(Prepare());
  if (copying) {
    DF_ASSIGN_OR_RETURN(snapshot_, SnapshotCopy::Resume(url_, SnapshotTables(), *copying, clock_));
  }
  if (snapshot_) {  // streaming starts when the copy is done (NextSnapshot)
    position_ = resume_ = {snapshot_->consistent_point(), 0};
    acked_lsn_ = resume_.lsn;
    return Status::OK();
  }
  Status s = StartStreaming();
  if (s.code() == StatusCode::kUnavailable) {
    // E.g. the slot is still held by the walsender of a client that was just killed: Next()
    // retries with backoff (and honours a stop request while it waits).
    spdlog::warn("{}; retrying", s.message());
    return Status::OK();
  }
  return s;
}

Status PostgresCdcSource::Prepare() {
  DF_ASSIGN_OR_RETURN(auto c, PgConnection::Connect(url_, "postgres_cdc source"));
  DF_ASSIGN_OR_RETURN(auto wal, c->Query("SHOW wal_level"));
  if (wal.Text(0, 0) != "logical") {
    return Status::ConfigError(fmt::format(
        "postgres_cdc source: PostgreSQL at {} has wal_level={}, and logical replication needs "
        "wal_level=logical: run ALTER SYSTEM SET wal_level = logical; then restart the server",
        c->endpoint(), wal.Text(0, 0)));
  }
  std::string list;
  bool any_partitioned = false;
  for (auto& t : tables_) {
    DF_ASSIGN_OR_RETURN(auto rel, c->Query("SELECT c.oid, c.relreplident, c.relkind FROM pg_class "
                                           "c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
                                           "n.nspname = $1 AND c.relname = $2 AND c.relkind "
                                           "IN ('r','p')",
                                           {t.schema, t.name}));
    if (rel.rows() == 0) {
      return Status::ConfigError(
          fmt::format("postgres_cdc source: table {}.{} does not exist in {}: fix source.tables",
                      t.schema, t.name, c->endpoint()));
    }
    std::string oid(rel.Text(0, 0));
    TableKeyFacts facts;
    facts.table = t.schema + "." + t.name;
    facts.replica_identity = rel.Text(0, 1).empty() ? 'd' : rel.Text(0, 1)[0];
    any_partitioned |= rel.Text(0, 2) == "p";
    DF_ASSIGN_OR_RETURN(auto cols, c->Query("SELECT attname FROM pg_attribute WHERE attrelid = "
                                            "$1::oid AND attnum > 0 AND NOT attisdropped ORDER "
                                            "BY attnum",
                                            {oid}));
    for (int i = 0; i < cols.rows(); ++i) facts.columns.emplace_back(cols.Text(i, 0));
    // The primary key's columns, then the REPLICA IDENTITY USING INDEX index's.
    DF_ASSIGN_OR_RETURN(auto idx, c->Query("SELECT a.attname, i.indisprimary, i.indisreplident "
                                           "FROM pg_index i JOIN pg_attribute a ON a.attrelid = "
                                           "i.indrelid AND a.attnum = ANY(i.indkey) WHERE "
                                           "i.indrelid = $1::oid AND (i.indisprimary OR "
                                           "i.indisreplident) ORDER BY i.indexrelid, "
                                           "array_position(i.indkey, a.attnum)",
                                           {oid}));
    for (int i = 0; i < idx.rows(); ++i) {
      if (idx.Text(i, 1) == "t") facts.primary_key.emplace_back(idx.Text(i, 0));
      if (idx.Text(i, 2) == "t") facts.identity_index.emplace_back(idx.Text(i, 0));
    }
    std::vector<std::string> configured;
    for (const auto& [table, columns] : config_.key_columns) {
      if (table == facts.table) configured = columns;
    }
    DF_ASSIGN_OR_RETURN(t.key_columns, ChooseRowKey(facts, configured, config_.store_key_column));
    t.primary_key = facts.primary_key;
    if (!list.empty()) list += ", ";
    list += QuoteIdent(*c, t.schema) + "." + QuoteIdent(*c, t.name);
  }
  DF_ASSIGN_OR_RETURN(auto pub, c->Query("SELECT pubviaroot FROM pg_publication WHERE pubname = $1",
                                         {publication_}));
  if (pub.rows() == 0) {
    // publish_via_partition_root: a partitioned table's changes arrive under its own name (and
    // its relation), not under the names of the partitions they were written to.
    spdlog::info("postgres_cdc: creating publication {} for {}", publication_, list);
    DF_RETURN_IF_ERROR(c->Exec(fmt::format("CREATE PUBLICATION {} FOR TABLE {} WITH (publish = "
                                           "'insert, update, delete, truncate', "
                                           "publish_via_partition_root = true)",
                                           publication_, list))
                           .WithContext("postgres_cdc source: creating the publication (needs "
                                        "ownership of the tables)"));
  } else {
    if (any_partitioned && pub.Text(0, 0) != "t") {
      spdlog::info(
          "postgres_cdc: setting publish_via_partition_root on publication {}, so that "
          "changes of partitions arrive under their partitioned table's name",
          publication_);
      DF_RETURN_IF_ERROR(
          c->Exec(fmt::format("ALTER PUBLICATION {} SET (publish_via_partition_root = true)",
                              publication_))
              .WithContext(fmt::format(
                  "postgres_cdc source: publication {} publishes partitions under their own "
                  "names; setting publish_via_partition_root (needs ownership of the publication; "
                  "or run ALTER PUBLICATION {} SET (publish_via_partition_root = true))",
                  publication_, publication_)));
    }
    for (const auto& t : tables_) {
      // Membership of the table itself (pg_publication_rel), not pg_publication_tables alone:
      // without publish_via_partition_root that view lists a partitioned table's partitions
      // instead of the table, and adding the table again fails (42710).
      DF_ASSIGN_OR_RETURN(
          auto in,
          c->Query("SELECT 1 FROM pg_publication p WHERE p.pubname = $1 AND (p.puballtables OR "
                   "EXISTS (SELECT 1 FROM pg_publication_rel r JOIN pg_class c ON c.oid = "
                   "r.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE r.prpubid = "
                   "p.oid AND n.nspname = $2 AND c.relname = $3) OR EXISTS (SELECT 1 FROM "
                   "pg_publication_tables pt WHERE pt.pubname = p.pubname AND pt.schemaname = $2 "
                   "AND pt.tablename = $3))",
                   {publication_, t.schema, t.name}));
      if (in.rows() == 0) {
        spdlog::info("postgres_cdc: adding {}.{} to publication {}", t.schema, t.name,
                     publication_);
        DF_RETURN_IF_ERROR(c->Exec(fmt::format("ALTER PUBLICATION {} ADD TABLE {}.{}", publication_,
                                               QuoteIdent(*c, t.schema), QuoteIdent(*c, t.name))));
      }
    }
    // A publication without truncate (made before DataForge streamed TRUNCATE, or by hand)
    // would leave a truncated table's rows in the store without a word.
    DF_ASSIGN_OR_RETURN(auto flags, c->Query("SELECT pubtruncate FROM pg_publication WHERE "
                                             "pubname = $1",
                                             {publication_}));
    if (flags.rows() == 1 && flags.Text(0, 0) != "t") {
      spdlog::info("postgres_cdc: publication {} now publishes truncate too", publication_);
      DF_RETURN_IF_ERROR(
          c->Exec(fmt::format("ALTER PUBLICATION {} SET (publish = 'insert, update, delete, "
                              "truncate')",
                              publication_))
              .WithContext(fmt::format("postgres_cdc source: publication {} does not publish "
                                       "TRUNCATE; making it (needs ownership of the publication)",
                                       publication_)));
    }
  }
  DF_ASSIGN_OR_RETURN(auto slot, c->Query("SELECT plugin, database, confirmed_flush_lsn FROM "
                                          "pg_replication_slots WHERE slot_name = $1",
                                          {slot_}));
  if (slot.rows() == 0 && resume_.lsn != 0) {
    // A new slot starts now: what was committed since the stored position is gone for good.
    DF_ASSIGN_OR_RETURN(auto now, c->Query("SELECT pg_current_wal_lsn()"));
    return Status::FailedPrecondition(fmt::format(
        "postgres_cdc source: replication slot {} does not exist (dropped?): the changes "
        "committed between the stored position {} and the server's current position {} cannot "
        "be read; to go on without them, create the slot (SELECT "
        "pg_create_logical_replication_slot('{}', 'pgoutput')) and run again; to start over, "
        "give the source a new name",
        slot_, pgoutput::FormatLsn(resume_.lsn), now.Text(0, 0), slot_));
  }
  if (resume_.lsn == 0 && config_.snapshot == "initial" &&
      (slot.rows() == 0 || slot.Text(0, 0) == "pgoutput")) {
    return StartSnapshot(slot, c->user());  // nothing staged yet: copy the rows first
  }
  if (slot.rows() == 0) {
    auto made =
        c->Query("SELECT lsn FROM pg_create_logical_replication_slot($1, 'pgoutput')", {slot_});
    if (!made.ok()) {
      if (made.status().code() != StatusCode::kConfigError) return made.status();
      return Status::ConfigError(fmt::format(
          "postgres_cdc source: creating replication slot {}: {}; as a superuser run ALTER ROLE {} "
          "REPLICATION (or create the slot: SELECT pg_create_logical_replication_slot('{}', "
          "'pgoutput'))",
          slot_, made.status().message(), c->user(), slot_));
    }
    spdlog::info("postgres_cdc: created replication slot {} at {}", slot_, made->Text(0, 0));
  } else if (slot.Text(0, 0) != "pgoutput") {
    return Status::ConfigError(fmt::format(
        "postgres_cdc source: replication slot {} uses plugin {}, not pgoutput: drop it "
        "(SELECT pg_drop_replication_slot('{}')) or set source.slot to another name",
        slot_, slot.Text(0, 0), slot_));
  }
  return Status::OK();
}

std::vector<SnapshotTable> PostgresCdcSource::SnapshotTables() const {
  std::vector<SnapshotTable> tables;
  for (const auto& t : tables_) tables.push_back({t.schema, t.name, t.primary_key, t.key_columns});
  return tables;
}

Status PostgresCdcSource::StartSnapshot(const PgResult& slot, const std::string& user) {
  std::optional<std::string> existing;
  if (slot.rows() != 0) existing = std::string(slot.Text(0, 2));
  DF_ASSIGN_OR_RETURN(snapshot_,
                      SnapshotCopy::Start(url_, slot_, user, SnapshotTables(), existing, clock_));
  return Status::OK();
}

Result<SourceBatch> PostgresCdcSource::NextSnapshot(size_t max_records, std::stop_token stop) {
  SourceBatch batch;
  DF_ASSIGN_OR_RETURN(bool done, snapshot_->Next(max_records, &batch, stop));
  if (!done) return batch;
  snapshot_.reset();
  // resume_ is the consistent point (Open): no change is both copied and streamed.
  Status s = StartStreaming();
  if (!s.ok() && s.code() != StatusCode::kUnavailable) return s;  // else Next() reconnects
  return batch;
}

Status PostgresCdcSource::StartStreaming() {
  stream_.reset();
  DF_ASSIGN_OR_RETURN(stream_,
                      PgConnection::Connect(url_, "postgres_cdc source", /*replication=*/true));
  std::string sql = fmt::format(
      "START_REPLICATION SLOT {} LOGICAL {} (proto_version '1', publication_names '{}')", slot_,
      pgoutput::FormatLsn(resume_.lsn), publication_);
  PgResult r(PQexec(stream_->raw(), sql.c_str()));
  if (!r.get() || PQresultStatus(r.get()) != PGRES_COPY_BOTH) {
    Status s = stream_->ResultError(r.get(), "starting replication");
    stream_.reset();
    return s;
  }
  position_ = resume_;
  start_ = resume_;
  in_txn_ = false;
  relations_.clear();
  next_status_us_ = 0;
  return Status::OK();
}

void PostgresCdcSource::Acknowledged(const std::string& position) {
  auto p = CdcPosition::Parse(position);
  if (p.ok() && p->lsn > acked_lsn_) acked_lsn_ = p->lsn;
}

Status PostgresCdcSource::SendStatus(bool reply_requested) {
  uint64_t flushed = acked_lsn_;
  bool idle = !in_txn_ && position_.lsn == resume_.lsn && position_.skip == resume_.skip &&
              acked_lsn_ >= resume_.lsn;
  if (idle) flushed = std::max(flushed, server_wal_end_);
  uint64_t written = std::max(flushed, position_.lsn);
  std::string msg = pgoutput::StandbyStatusUpdate(written, flushed, flushed, clock_->NowMicros(),
                                                  reply_requested);
  if (PQputCopyData(stream_->raw(), msg.data(), static_cast<int>(msg.size())) != 1 ||
      PQflush(stream_->raw()) != 0) {
    return stream_->ConnectionError("sending the replication status");
  }
  next_status_us_ = clock_->MonotonicMicros() + kStatusEveryUs;
  return Status::OK();
}

bool PostgresCdcSource::CountChange() {
  uint64_t index = txn_change_++;
  if (txn_.final_lsn < start_.lsn) return false;  // staged before the restart
  if (txn_.final_lsn == start_.lsn && index < start_.skip) return false;
  position_ = {txn_.final_lsn, index + 1};
  return true;
}

Status PostgresCdcSource::HandleChange(const pgoutput::Change& change, SourceBatch* batch) {
  if (!CountChange()) return Status::OK();
  auto rel = relations_.find(change.relation_oid);
  if (rel == relations_.end()) {
    return Status::Corruption(fmt::format(
        "postgres_cdc: a change for relation {} came before its description", change.relation_oid));
  }
  DF_RETURN_IF_ERROR(pgoutput::CheckChangeMatches(rel->second, change));
  auto add = [&](const pgoutput::Change& c) -> Status {
    auto key = pgoutput::ChangeKey(rel->second, c);
    std::string raw = pgoutput::ChangeEventJson(rel->second, c, txn_);
    if (!key.ok()) {
      batch->dead_letters.push_back(
          {"source", key.status().message(),
           fmt::format("{} lsn {}", Describe(), pgoutput::FormatLsn(txn_.final_lsn)),
           std::move(raw), clock_->NowMicros()});
      return Status::OK();
    }
    batch->records.push_back({std::move(key).value(), std::move(raw), txn_.commit_time_us});
    return Status::OK();
  };
  if (change.op == 'U' && change.old_kind != 0) {
    pgoutput::Change after = change;
    after.old_kind = 0;
    after.old_values.clear();
    auto old_key = pgoutput::ChangeKey(rel->second, change);
    auto new_key = pgoutput::ChangeKey(rel->second, after);
    if (old_key.ok() && new_key.ok() && *old_key != *new_key) {
      // The key columns changed: the old row is gone and a new one exists.
      pgoutput::Change removed;
      removed.op = 'D';
      removed.relation_oid = change.relation_oid;
      removed.old_kind = change.old_kind;
      removed.old_values = change.old_values;
      DF_RETURN_IF_ERROR(add(removed));
      after.op = 'I';
      return add(after);
    }
  }
  return add(change);
}

Status PostgresCdcSource::ResolveDomains(pgoutput::Relation* rel) {
  constexpr uint32_t kFirstNonBuiltinOid = 10000;  // built-in base types are below (pg_type.dat)
  std::string unknown;
  for (const auto& col : rel->columns) {
    if (col.type_oid >= kFirstNonBuiltinOid && !base_types_.count(col.type_oid)) {
      unknown += (unknown.empty() ? "" : ",") + std::to_string(col.type_oid);
    }
  }
  if (!unknown.empty()) {
    DF_ASSIGN_OR_RETURN(auto c, PgConnection::Connect(url_, "postgres_cdc source"));
    DF_ASSIGN_OR_RETURN(
        auto r, c->Query("WITH RECURSIVE d(id, base) AS (SELECT oid, typbasetype FROM pg_type "
                         "WHERE oid = ANY($1::oid[]) AND typtype = 'd' UNION ALL SELECT d.id, "
                         "t.typbasetype FROM d JOIN pg_type t ON t.oid = d.base AND t.typtype = "
                         "'d') SELECT d.id, d.base FROM d JOIN pg_type t ON t.oid = d.base AND "
                         "t.typtype <> 'd'",
                         {"{" + unknown + "}"}));
    for (const auto& col : rel->columns) base_types_.emplace(col.type_oid, col.type_oid);
    for (int i = 0; i < r.rows(); ++i) {
      uint32_t id = 0, base = 0;
      std::string_view a = r.Text(i, 0), b = r.Text(i, 1);
      std::from_chars(a.data(), a.data() + a.size(), id);
      std::from_chars(b.data(), b.data() + b.size(), base);
      base_types_[id] = base;
    }
  }
  for (auto& col : rel->columns) {
    auto it = base_types_.find(col.type_oid);
    if (it != base_types_.end()) col.type_oid = it->second;
  }
  return Status::OK();
}

Status PostgresCdcSource::Handle(std::string_view data, SourceBatch* batch) {
  DF_ASSIGN_OR_RETURN(auto frame, pgoutput::ParseCopyData(data));
  if (auto* k = std::get_if<pgoutput::Keepalive>(&frame)) {
    server_wal_end_ = std::max(server_wal_end_, k->wal_end);
    if (k->reply_requested) return SendStatus(false);
    return Status::OK();
  }
  const auto& x = std::get<pgoutput::XLogData>(frame);
  DF_ASSIGN_OR_RETURN(auto message, pgoutput::Decode(x.payload));
  if (auto* b = std::get_if<pgoutput::Begin>(&message)) {
    in_txn_ = true;
    txn_ = *b;
    txn_change_ = 0;
  } else if (auto* c = std::get_if<pgoutput::Commit>(&message)) {
    in_txn_ = false;
    if (c->end_lsn > position_.lsn) position_ = {c->end_lsn, 0};
  } else if (auto* r = std::get_if<pgoutput::Relation>(&message)) {
    pgoutput::Relation rel = *r;
    for (const auto& t : tables_) {
      if (t.schema != rel.schema || t.name != rel.name) continue;
      // The key columns name the row even under REPLICA IDENTITY FULL (where pgoutput marks
      // every column as part of the identity).
      pgoutput::MarkKeyColumns(&rel, t.key_columns);
    }
    DF_RETURN_IF_ERROR(ResolveDomains(&rel));
    relations_[rel.oid] = std::move(rel);
  } else if (auto* ch = std::get_if<pgoutput::Change>(&message)) {
    return HandleChange(*ch, batch);
  } else if (auto* t = std::get_if<pgoutput::Truncate>(&message)) {
    // One broadcast record per truncated table (common/record.h): the processor removes the
    // store table's rows once every log partition reached it, so the truncate lands after
    // every earlier change of the table and before every later one.
    if (!CountChange()) return Status::OK();
    std::vector<std::string> names;
    for (uint32_t oid : t->relation_oids) {
      auto it = relations_.find(oid);
      if (it == relations_.end()) {
        return Status::Corruption(fmt::format(
            "postgres_cdc: a TRUNCATE of relation {} came before its description", oid));
      }
      names.push_back(it->second.schema + "." + it->second.name);
    }
    if (tables_.size() > 1) {
      // Every captured table goes into the one store table: emptying it would remove the rows
      // of the tables that were not truncated.
      return Status::FailedPrecondition(fmt::format(
          "postgres_cdc source: TRUNCATE of {} at LSN {} cannot be applied: this source "
          "captures {} tables into one store table, and emptying it would remove the other "
          "tables' rows; capture each table with a pipeline of its own (one table in "
          "source.tables), starting from a new data dir and replication slot",
          fmt::join(names, ", "), pgoutput::FormatLsn(txn_.final_lsn), tables_.size()));
    }
    for (const std::string& name : names) {
      std::string raw =
          JsonObjectWriter()
              .String("op", "truncate")
              .String("table", name)
              .String("lsn", pgoutput::FormatLsn(txn_.final_lsn))
              .Int("xid", txn_.xid)
              .String("commit_time", pgoutput::FormatTimestampMicros(txn_.commit_time_us))
              .Finish();
      batch->records.push_back({TruncateKey(name), std::move(raw), txn_.commit_time_us});
    }
  }
  return Status::OK();
}

Result<bool> PostgresCdcSource::Pump(size_t max_records, SourceBatch* batch, std::stop_token stop) {
  PGconn* conn = stream_->raw();
  if (!PQconsumeInput(conn)) return stream_->ConnectionError("reading the replication stream");
  while (!stop.stop_requested()) {
    // A change can become two records (a primary key update): leave room for both.
    if (batch->records.size() + 2 > std::max<size_t>(max_records, 2)) return true;
    char* buf = nullptr;
    int n = PQgetCopyData(conn, &buf, /*async=*/1);
    if (n > 0) {
      Status s = Handle(std::string_view(buf, static_cast<size_t>(n)), batch);
      PQfreemem(buf);
      DF_RETURN_IF_ERROR(s);
      continue;
    }
    if (n == 0) return !batch->records.empty() && !in_txn_;  // nothing more buffered
    if (n == -1) {
      PgResult r(PQgetResult(conn));
      return Status::Unavailable(
          fmt::format("postgres_cdc source at {}: the server ended replication: {}",
                      stream_->endpoint(), OneLine(PQerrorMessage(conn))));
    }
    return stream_->ConnectionError("reading the replication stream");
  }
  return true;
}

Status PostgresCdcSource::Reconnect(const Status& why, std::stop_token stop) {
  ClientCounters& counters = ClientCounters::Get();
  counters.Error(ClientBackend::kPostgresql);  // the lost replication connection
  int64_t start = clock_->MonotonicMicros(), next_report = start;
  int64_t backoff = kFirstBackoffUs;
  Status last = why;
  while (!stop.stop_requested()) {
    int64_t now = clock_->MonotonicMicros();
    if (now - start > kGiveUpUs) {
      return Status::Unavailable(
          fmt::format("{} (gave up after {} s of retries)", last.message(), kGiveUpUs / 1000000));
    }
    if (now >= next_report) {
      spdlog::warn("{}; reconnecting (resuming at {})", last.message(), resume_.Format());
      next_report = now + 5'000'000;
    }
    clock_->SleepFor(backoff, stop);
    backoff = std::min(backoff * 2, kMaxBackoffUs);
    last = StartStreaming();
    if (last.ok()) {
      counters.Reconnect(ClientBackend::kPostgresql);
      spdlog::info("postgres_cdc: replication resumed at {}", resume_.Format());
      return Status::OK();
    }
    counters.Error(ClientBackend::kPostgresql);
    if (last.code() != StatusCode::kUnavailable) return last;
  }
  return Status::Cancelled("stop requested");
}

Result<SourceBatch> PostgresCdcSource::Next(size_t max_records, std::stop_token stop) {
  if (snapshot_) return NextSnapshot(max_records, stop);
  SourceBatch batch;
  int64_t deadline = clock_->MonotonicMicros() + kIdleReturnUs;
  while (true) {
    if (stop.stop_requested()) return Status::Cancelled("stop requested");
    Status s;
    bool ready = false;
    if (!stream_) {
      s = Status::Unavailable("postgres_cdc source: not connected");
    } else if (clock_->MonotonicMicros() >= next_status_us_) {
      s = SendStatus(false);
    }
    if (s.ok()) {
      auto r = Pump(max_records, &batch, stop);
      if (r.ok()) {
        ready = *r;
      } else {
        s = r.status();
      }
    }
    if (!s.ok()) {
      if (s.code() != StatusCode::kUnavailable) return s;
      batch = SourceBatch();  // what was read after resume_ is read again
      DF_RETURN_IF_ERROR(Reconnect(s, stop));
      continue;
    }
    if (ready || clock_->MonotonicMicros() >= deadline) break;
    pollfd p{PQsocket(stream_->raw()), POLLIN, 0};
    ::poll(&p, 1, 20);
  }
  if (position_.lsn != resume_.lsn || position_.skip != resume_.skip) {
    batch.position = position_.Format();
    resume_ = position_;
  }
  return batch;
}

}  // namespace dataforge
