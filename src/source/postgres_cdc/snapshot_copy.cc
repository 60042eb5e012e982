#include "source/postgres_cdc/snapshot_copy.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "source/postgres_cdc/postgres_cdc_source.h"

namespace dataforge {
namespace {

constexpr int64_t kProgressEveryUs = 5'000'000;
constexpr int64_t kCopyFirstBackoffUs = 100'000;
constexpr int64_t kCopyMaxBackoffUs = 5'000'000;
constexpr int64_t kCopyGiveUpUs = 300'000'000;
constexpr char kPrefix[] = "v2;snapshot;lsn=";

std::string Quote(PgConnection& c, const std::string& name) {
  char* q = PQescapeIdentifier(c.raw(), name.c_str(), name.size());
  std::string out = q ? q : "\"" + name + "\"";
  if (q) PQfreemem(q);
  return out;
}

std::string Literal(PgConnection& c, const std::string& value) {
  char* q = PQescapeLiteral(c.raw(), value.c_str(), value.size());
  std::string out = q ? q : "''";
  if (q) PQfreemem(q);
  return out;
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

}  // namespace

std::string SnapshotPosition::Format() const {
  std::string out = fmt::format("{}{};table={}", kPrefix, pgoutput::FormatLsn(lsn), table);
  if (after) {
    out += ";after=";
    for (size_t i = 0; i < after->size(); ++i) {
      if (i > 0) out.push_back('/');
      for (char c : (*after)[i]) {
        if (c == '\\' || c == '/') out.push_back('\\');
        out.push_back(c);
      }
    }
  }
  return out;
}

bool SnapshotPosition::Is(const std::string& text) {
  return text.rfind("v2;snapshot;", 0) == 0;
}

Result<SnapshotPosition> SnapshotPosition::Parse(const std::string& text) {
  auto bad = [&] {
    return Status::ConfigError(fmt::format(
        "postgres_cdc source: stored position '{}' is not "
        "v2;snapshot;lsn=X/Y;table=I[;after=KEY] (was this source renamed from another type? "
        "give it a new name)",
        text));
  };
  std::string_view s(text);
  if (s.rfind(kPrefix, 0) != 0) return bad();
  s.remove_prefix(sizeof(kPrefix) - 1);
  size_t t = s.find(";table=");
  if (t == std::string_view::npos) return bad();
  SnapshotPosition p;
  auto lsn = pgoutput::ParseLsn(s.substr(0, t));
  if (!lsn.ok()) return bad();
  p.lsn = *lsn;
  s.remove_prefix(t + 7);
  size_t a = s.find(";after=");
  std::string_view index = s.substr(0, a);
  auto [end, ec] = std::from_chars(index.data(), index.data() + index.size(), p.table);
  if (index.empty() || ec != std::errc() || end != index.data() + index.size()) return bad();
  if (a == std::string_view::npos) return p;
  std::string_view key = s.substr(a + 7);
  p.after.emplace(1);
  for (size_t i = 0; i < key.size(); ++i) {
    if (key[i] == '\\') {
      if (++i == key.size()) return bad();
      p.after->back().push_back(key[i]);
    } else if (key[i] == '/') {
      p.after->emplace_back();
    } else {
      p.after->back().push_back(key[i]);
    }
  }
  return p;
}

SnapshotCopy::SnapshotCopy(std::string url, std::vector<SnapshotTable> tables, Clock* clock)
    : url_(std::move(url)), tables_(std::move(tables)), clock_(clock) {
  started_us_ = clock_->MonotonicMicros();
  next_progress_us_ = started_us_ + kProgressEveryUs;
}

SnapshotCopy::~SnapshotCopy() = default;

Result<std::unique_ptr<SnapshotCopy>> SnapshotCopy::Start(
    const std::string& url, const std::string& slot, const std::string& user,
    std::vector<SnapshotTable> tables, std::optional<std::string> existing_slot_lsn, Clock* clock) {
  std::unique_ptr<SnapshotCopy> copy(new SnapshotCopy(url, std::move(tables), clock));
  if (existing_slot_lsn) {
    auto lsn = pgoutput::ParseLsn(*existing_slot_lsn);
    if (!lsn.ok()) {
      return Status::Internal(
          fmt::format("postgres_cdc source: replication slot {} has no "
                      "usable confirmed_flush_lsn ('{}')",
                      slot, *existing_slot_lsn));
    }
    copy->returned_.lsn = *lsn;
    DF_RETURN_IF_ERROR(copy->BeginTransaction(""));
    spdlog::info(
        "postgres_cdc: replication slot {} exists but nothing was staged from it: copying the "
        "tables' rows from a new snapshot, then streaming from {}",
        slot, *existing_slot_lsn);
  } else {
    auto fix = [&](const Status& s) {
      // A role without REPLICATION cannot even open the replication connection.
      if (s.code() != StatusCode::kConfigError &&
          s.message().find("must be superuser or replication role") == std::string::npos) {
        return s;
      }
      return Status::ConfigError(fmt::format(
          "postgres_cdc source: creating replication slot {}: {}; as a superuser run ALTER ROLE "
          "{} REPLICATION (or create the slot: SELECT pg_create_logical_replication_slot('{}', "
          "'pgoutput'))",
          slot, s.message(), user, slot));
    };
    auto repl = PgConnection::Connect(url, "postgres_cdc source", /*replication=*/true);
    if (!repl.ok()) return fix(repl.status());
    std::string sql =
        fmt::format("CREATE_REPLICATION_SLOT {} LOGICAL pgoutput (SNAPSHOT 'export')", slot);
    PgResult r(PQexec((*repl)->raw(), sql.c_str()));
    if (!r.get() || PQresultStatus(r.get()) != PGRES_TUPLES_OK || r.rows() != 1 ||
        PQnfields(r.get()) < 3) {
      return fix((*repl)->ResultError(r.get(), "creating the replication slot"));
    }
    std::string point(r.Text(0, 1)), snapshot_name(r.Text(0, 2));
    auto lsn = pgoutput::ParseLsn(point);
    if (!lsn.ok()) return lsn.status();
    copy->returned_.lsn = *lsn;
    // The exported snapshot lives as long as `repl` runs no other command: import it first.
    DF_RETURN_IF_ERROR(copy->BeginTransaction(snapshot_name));
    spdlog::info(
        "postgres_cdc: created replication slot {} at {}; copying the tables' rows from its "
        "snapshot {} first",
        slot, point, snapshot_name);
  }
  copy->txn_.final_lsn = copy->returned_.lsn;
  copy->at_ = copy->returned_;
  return copy;
}

Result<std::unique_ptr<SnapshotCopy>> SnapshotCopy::Resume(const std::string& url,
                                                           std::vector<SnapshotTable> tables,
                                                           const SnapshotPosition& at,
                                                           Clock* clock) {
  std::unique_ptr<SnapshotCopy> copy(new SnapshotCopy(url, std::move(tables), clock));
  copy->returned_ = at;
  if (at.table < copy->tables_.size() && at.after &&
      at.after->size() != copy->tables_[at.table].primary_key.size()) {
    return Status::ConfigError(fmt::format(
        "postgres_cdc source: the stored snapshot position '{}' does not match the primary key "
        "of {}.{} ({} columns): was the table or source.tables changed during the initial "
        "snapshot? drop the slot and start with a new data dir",
        at.Format(), copy->tables_[at.table].schema, copy->tables_[at.table].name,
        copy->tables_[at.table].primary_key.size()));
  }
  copy->at_ = at;
  copy->txn_.final_lsn = at.lsn;
  DF_RETURN_IF_ERROR(copy->BeginTransaction(""));
  spdlog::info(
      "postgres_cdc: resuming the initial snapshot at {} in a new snapshot; streaming will "
      "start at {}",
      at.Format(), pgoutput::FormatLsn(at.lsn));
  return copy;
}

Status SnapshotCopy::BeginTransaction(const std::string& snapshot_name) {
  DF_ASSIGN_OR_RETURN(auto c, PgConnection::Connect(url_, "postgres_cdc source"));
  std::string sql = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
  if (!snapshot_name.empty()) sql += fmt::format("; SET TRANSACTION SNAPSHOT '{}'", snapshot_name);
  DF_RETURN_IF_ERROR(c->Exec(sql).WithContext("postgres_cdc source: starting the snapshot"));
  conn_ = std::move(c);
  txn_.commit_time_us = clock_->NowMicros();
  cursor_open_ = false;
  return Status::OK();
}

Status SnapshotCopy::OpenTable() {
  const SnapshotTable& t = tables_[at_.table];
  PgConnection& c = *conn_;
  std::string table = Quote(c, t.schema) + "." + Quote(c, t.name);
  // The columns pgoutput sends: not dropped, not generated, in attnum order.
  DF_ASSIGN_OR_RETURN(auto cols, c.Query("SELECT attname FROM pg_attribute WHERE attrelid = "
                                         "$1::regclass AND attnum > 0 AND NOT attisdropped AND "
                                         "attgenerated = '' ORDER BY attnum",
                                         {table}));
  DF_ASSIGN_OR_RETURN(auto rel, c.Query("SELECT relreplident, reltuples::bigint FROM pg_class "
                                        "WHERE oid = $1::regclass",
                                        {table}));
  DF_ASSIGN_OR_RETURN(auto ident, c.Query("SELECT a.attname FROM pg_index i JOIN pg_attribute a "
                                          "ON a.attrelid = i.indrelid AND a.attnum = "
                                          "ANY(i.indkey) WHERE i.indrelid = $1::regclass AND "
                                          "i.indisreplident",
                                          {table}));
  rel_ = pgoutput::Relation();
  rel_.schema = t.schema;
  rel_.name = t.name;
  rel_.replica_identity = rel.rows() ? (rel.Text(0, 0).empty() ? 'd' : rel.Text(0, 0)[0]) : 'd';
  estimate_ = rel.rows() ? rel.Int(0, 1) : -1;
  std::vector<std::string> names, identity;
  for (int i = 0; i < ident.rows(); ++i) identity.emplace_back(ident.Text(i, 0));
  pk_columns_.clear();
  for (int i = 0; i < cols.rows(); ++i) {
    pgoutput::Column col;
    col.name = std::string(cols.Text(i, 0));
    // Key flags as Handle() sets them on a streamed Relation message: the primary
    // key; without one every column under FULL, else the replica identity index.
    auto in = [&](const std::vector<std::string>& v) {
      return std::find(v.begin(), v.end(), col.name) != v.end();
    };
    if (!t.primary_key.empty()) {
      col.key = in(t.primary_key);
    } else {
      col.key = rel_.replica_identity == 'f' || in(identity);
    }
    names.push_back(Quote(c, col.name));
    rel_.columns.push_back(std::move(col));
  }
  // The record key follows the streamed changes' (PostgresCdcSource marks the same columns).
  pgoutput::MarkKeyColumns(&rel_, t.key_columns);
  for (const auto& k : t.primary_key) {
    for (size_t i = 0; i < rel_.columns.size(); ++i) {
      if (rel_.columns[i].name == k) pk_columns_.push_back(i);
    }
  }
  if (pk_columns_.size() != t.primary_key.size()) {
    return Status::Internal(
        fmt::format("postgres_cdc source: the primary key of {}.{} changed "
                    "during the initial snapshot",
                    t.schema, t.name));
  }
  std::string sql = fmt::format("DECLARE df_snapshot NO SCROLL CURSOR FOR SELECT {} FROM {}",
                                names.empty() ? "" : Join(names), table);
  if (!t.primary_key.empty()) {
    std::vector<std::string> pk, after;
    for (const auto& k : t.primary_key) pk.push_back(Quote(c, k));
    if (at_.after) {
      for (const auto& v : *at_.after) after.push_back(Literal(c, v));
      sql += fmt::format(" WHERE ({}) > ({})", Join(pk), Join(after));
    }
    sql += fmt::format(" ORDER BY {}", Join(pk));
  }
  DF_RETURN_IF_ERROR(c.Exec(sql));
  cursor_open_ = true;
  table_rows_ = 0;
  return Status::OK();
}

Status SnapshotCopy::Fill(size_t max_records, SourceBatch* batch) {
  max_records = std::max<size_t>(max_records, 1);
  while (at_.table < tables_.size() && batch->fetched() == 0) {
    if (!cursor_open_) DF_RETURN_IF_ERROR(OpenTable());
    DF_ASSIGN_OR_RETURN(
        auto r, conn_->Query(fmt::format("FETCH FORWARD {} FROM df_snapshot", max_records)));
    int ncols = PQnfields(r.get());
    if (static_cast<size_t>(ncols) != rel_.columns.size()) {
      return Status::Internal("postgres_cdc source: the snapshot query returned other columns");
    }
    // The type as the result describes it: a domain's base type (what the values are).
    for (int j = 0; j < ncols; ++j) {
      rel_.columns[j].type_oid = PQftype(r.get(), j);
      rel_.columns[j].type_modifier = PQfmod(r.get(), j);
    }
    int64_t now = clock_->NowMicros();
    pgoutput::Change change;
    change.op = 'R';
    for (int i = 0; i < r.rows(); ++i) {
      change.new_values.assign(ncols, {});
      for (int j = 0; j < ncols; ++j) {
        if (r.IsNull(i, j)) continue;
        change.new_values[j].kind = pgoutput::ValueKind::kText;
        change.new_values[j].data = std::string(r.Text(i, j));
      }
      auto key = pgoutput::ChangeKey(rel_, change);
      std::string raw = pgoutput::ChangeEventJson(rel_, change, txn_);
      if (!key.ok()) {
        batch->dead_letters.push_back(
            {"source", key.status().message(),
             fmt::format("postgres_cdc initial snapshot of {}.{}", rel_.schema, rel_.name),
             std::move(raw), now});
      } else {
        batch->records.push_back({std::move(key).value(), std::move(raw), now});
      }
    }
    if (r.rows() > 0 && !pk_columns_.empty()) {
      std::vector<std::string> last;
      for (size_t k : pk_columns_) last.push_back(change.new_values[k].data);
      at_.after = std::move(last);
    }
    table_rows_ += r.rows();
    total_rows_ += r.rows();
    if (static_cast<size_t>(r.rows()) < max_records) {
      DF_RETURN_IF_ERROR(conn_->Exec("CLOSE df_snapshot"));
      spdlog::info("postgres_cdc: snapshot of {}.{}: {} rows copied", rel_.schema, rel_.name,
                   table_rows_);
      cursor_open_ = false;
      ++at_.table;
      at_.after.reset();
    }
    Progress(false);
  }
  return Status::OK();
}

void SnapshotCopy::Progress(bool force) {
  int64_t now = clock_->MonotonicMicros();
  if (!force && now < next_progress_us_) return;
  next_progress_us_ = now + kProgressEveryUs;
  if (!cursor_open_) return;
  spdlog::info("postgres_cdc: snapshot of {}.{}: {} of ~{} rows", rel_.schema, rel_.name,
               table_rows_,
               estimate_ >= 0 ? std::to_string(std::max<int64_t>(estimate_, table_rows_)) : "?");
}

Result<bool> SnapshotCopy::Next(size_t max_records, SourceBatch* batch, std::stop_token stop) {
  int64_t start = clock_->MonotonicMicros(), next_report = start;
  int64_t backoff = kCopyFirstBackoffUs;
  while (true) {
    if (stop.stop_requested()) return Status::Cancelled("stop requested");
    Status s = conn_ ? Fill(max_records, batch)
                     : Status::Unavailable("postgres_cdc source: snapshot connection lost");
    if (s.ok()) break;
    if (s.code() != StatusCode::kUnavailable) return s;
    // The snapshot is gone with the connection: go on from what was returned, in a new one.
    *batch = SourceBatch();
    conn_.reset();
    at_ = returned_;
    cursor_open_ = false;
    int64_t now = clock_->MonotonicMicros();
    if (now - start > kCopyGiveUpUs) {
      return Status::Unavailable(
          fmt::format("{} (gave up after {} s of retries)", s.message(), kCopyGiveUpUs / 1000000));
    }
    if (now >= next_report) {
      spdlog::warn("{}; reconnecting (the snapshot resumes at {} in a new snapshot)", s.message(),
                   returned_.Format());
      next_report = now + 5'000'000;
    }
    clock_->SleepFor(backoff, stop);
    backoff = std::min(backoff * 2, kCopyMaxBackoffUs);
    Status b = BeginTransaction("");
    if (!b.ok() && b.code() != StatusCode::kUnavailable) return b;
  }
  returned_ = at_;
  if (at_.table < tables_.size()) {
    batch->position = returned_.Format();
    return false;
  }
  (void)conn_->Exec("COMMIT");  // read only: nothing to keep
  conn_.reset();
  double seconds = static_cast<double>(clock_->MonotonicMicros() - started_us_) / 1e6;
  spdlog::info(
      "postgres_cdc: snapshot done: {} rows of {} tables in {:.1f} s ({:.0f} rows/s); streaming "
      "from {}",
      total_rows_, tables_.size(), seconds, seconds > 0 ? total_rows_ / seconds : 0.0,
      pgoutput::FormatLsn(returned_.lsn));
  batch->position = CdcPosition{returned_.lsn, 0}.Format();
  return true;
}

}  // namespace dataforge
