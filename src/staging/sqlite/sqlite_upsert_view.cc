// The SQLite staging's upsert view as two tables (sqlite_staging.h): the schema, its upserts,
// and the merge of `staged_recent` into `staged_base`.
#include <fmt/format.h>

#include <limits>

#include "staging/sqlite/sqlite_staging.h"

namespace dataforge {
namespace {

// Both tables hold the latest outbox seq per 64-bit key hash, as of the relay cursor; a key in
// recent is newer there than in base. `staged` is what users' SQL reads.
const char* kViewSchema = R"SQL(
CREATE TABLE IF NOT EXISTS staged_base(key_hash INTEGER PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS staged_recent(key_hash INTEGER PRIMARY KEY, seq INTEGER NOT NULL);
CREATE VIEW IF NOT EXISTS staged(key_hash, seq) AS
  SELECT key_hash, seq FROM staged_recent UNION ALL
  SELECT key_hash, seq FROM staged_base b
  WHERE NOT EXISTS(SELECT 1 FROM staged_recent r WHERE r.key_hash=b.key_hash);
)SQL";

}  // namespace

Status SqliteStaging::MigrateViewLocked(int64_t version) {
  if (version >= 2) return Status::OK();
  // Version 1 kept the whole view in a table `staged`: it becomes the base, as it is.
  DF_ASSIGN_OR_RETURN(auto q, writer_->Prepare("SELECT count(*) FROM sqlite_master WHERE "
                                               "type='table' AND name='staged'"));
  DF_ASSIGN_OR_RETURN(bool row, q.Step());
  const bool had_table = row && q.ColumnInt(0) > 0;
  q.Reset();
  if (had_table) DF_RETURN_IF_ERROR(writer_->Exec("ALTER TABLE staged RENAME TO staged_base"));
  return writer_->Exec(kViewSchema);
}

Result<SqliteStaging::ViewUpsert> SqliteStaging::PrepareUpsert(const char* table) {
  auto sql = [&](size_t rows) {
    std::string s = fmt::format("INSERT INTO {}(key_hash,seq) VALUES(?,?)", table);
    for (size_t i = 1; i < rows; ++i) s += ",(?,?)";
    return s + " ON CONFLICT(key_hash) DO UPDATE SET seq=excluded.seq";
  };
  ViewUpsert u;
  DF_ASSIGN_OR_RETURN(u.one, writer_->Prepare(sql(1)));
  DF_ASSIGN_OR_RETURN(u.many, writer_->Prepare(sql(kViewRowsPerStatement)));
  return u;
}

Status SqliteStaging::UpsertLocked(ViewUpsert& into, const std::pair<int64_t, int64_t>* rows,
                                   size_t n) {
  // Each key once, so no statement updates a row it inserted.
  size_t i = 0;
  for (; n - i >= kViewRowsPerStatement; i += kViewRowsPerStatement) {
    for (size_t j = 0; j < kViewRowsPerStatement; ++j) {
      into.many.BindInt(static_cast<int>(2 * j + 1), rows[i + j].first);
      into.many.BindInt(static_cast<int>(2 * j + 2), rows[i + j].second);
    }
    DF_RETURN_IF_ERROR(into.many.Run());
  }
  for (; i < n; ++i) {
    into.one.BindInt(1, rows[i].first);
    into.one.BindInt(2, rows[i].second);
    DF_RETURN_IF_ERROR(into.one.Run());
  }
  return Status::OK();
}

Status SqliteStaging::MergeView(size_t budget) {
  if (!merge_from_) {
    auto lock = LockWriter();
    DF_ASSIGN_OR_RETURN(bool row, count_recent_.Step());
    const int64_t recent = row ? count_recent_.ColumnInt(0) : 0;
    count_recent_.Reset();
    if (static_cast<size_t>(recent) < view_merge_rows_) return Status::OK();
    merge_from_ = std::numeric_limits<int64_t>::min();
  }
  // A slice moves its keys in one transaction: upserted into base and deleted from recent
  // together, so a key is in recent (the newer) or in base, never lost between them. Keys the
  // relay adds to recent below merge_from_ meanwhile wait for the next merge.
  while (merge_from_ && budget > 0) {
    DF_RETURN_IF_ERROR(RelayTransaction([&]() -> Status {
      merging_.clear();
      read_recent_.BindInt(1, *merge_from_);
      read_recent_.BindInt(2, static_cast<int64_t>(kViewSlice));
      DF_RETURN_IF_ERROR(read_recent_.ForEachRow(
          [&] { merging_.emplace_back(read_recent_.ColumnInt(0), read_recent_.ColumnInt(1)); }));
      if (merging_.empty()) return Status::OK();
      DF_RETURN_IF_ERROR(UpsertLocked(upsert_base_, merging_.data(), merging_.size()));
      delete_recent_.BindInt(1, merging_.front().first);
      delete_recent_.BindInt(2, merging_.back().first);
      return delete_recent_.Run();
    }));
    budget -= std::min(budget, std::max<size_t>(merging_.size(), 1));
    if (merging_.size() < kViewSlice || merging_.back().first == INT64_MAX) {
      merge_from_.reset();  // recent's end: this merge is done
    } else {
      merge_from_ = merging_.back().first + 1;
    }
  }
  return Status::OK();
}

}  // namespace dataforge
