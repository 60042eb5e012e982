// RocksDbStore: dead letters' replay markers (store.h ApplyReplay, docs/store-format.md).
//
//   "r\0<big-endian letter id>" -> {"at_us","outcome","key","reason","topic","log_id"}
//   "c\0replayed"               -> the letters replayed into rows (u64)
// The row, the marker and the counter go in one write batch under apply_mu_, so a letter is
// stored by a replay at most once and the counter never disagrees with the markers.
#include <simdjson.h>

#include <algorithm>

#include <fmt/format.h>

#include "common/json_writer.h"
#include "common/timestamp.h"
#include "store/rocksdb/rocksdb_keys.h"
#include "store/rocksdb/rocksdb_store.h"

namespace dataforge {
namespace {

using rocksdb_keys::BigEndian;
using rocksdb_keys::ReplayKey;
using rocksdb_keys::U64;

struct ParsedMarker {
  ReplayMarker marker;
  std::string topic, log_id;
};

std::optional<ParsedMarker> ParseMarker(simdjson::dom::parser& parser, const std::string& json) {
  simdjson::dom::element e;
  if (parser.parse(json).get(e) != simdjson::SUCCESS) return std::nullopt;
  ParsedMarker m;
  std::string_view sv;
  int64_t at = 0;
  if (e["at_us"].get(at) == simdjson::SUCCESS) m.marker.at_us = at;
  if (e["outcome"].get(sv) == simdjson::SUCCESS) m.marker.outcome = sv;
  if (e["key"].get(sv) == simdjson::SUCCESS) m.marker.key = sv;
  if (e["reason"].get(sv) == simdjson::SUCCESS) m.marker.reason = sv;
  if (e["topic"].get(sv) == simdjson::SUCCESS) m.topic = sv;
  if (e["log_id"].get(sv) == simdjson::SUCCESS) m.log_id = sv;
  return m;
}

// "users/0@5" -> "users".
std::string TopicOf(const std::string& location) {
  size_t slash = location.rfind('/');
  return slash == std::string::npos ? std::string() : location.substr(0, slash);
}

}  // namespace

Result<std::optional<ReplayMarker>> RocksDbStore::ReadReplayMarker(uint64_t id) {
  std::string v;
  rocksdb::Status st = db_->Get({}, meta_, ReplayKey(id), &v);
  if (st.IsNotFound()) return std::optional<ReplayMarker>();
  if (!st.ok()) return Error(st, "reading a replay marker");
  simdjson::dom::parser parser;
  auto m = ParseMarker(parser, v);
  if (!m) {
    return Status::Corruption(
        fmt::format("store {}: the replay marker of dead letter {} is not JSON", dir_, id));
  }
  return std::optional<ReplayMarker>(m->marker);
}

Status RocksDbStore::AddReplays(const std::string& topic, const std::string& log_id,
                                StoreCounters* c) {
  std::string prefix = "r";
  prefix.push_back('\0');
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, meta_));
  simdjson::dom::parser parser;
  uint64_t n = 0;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    auto m = ParseMarker(parser, it->value().ToString());
    if (!m || m->marker.outcome != "stored") continue;
    // A letter written before letters named their log counts for every log that asks.
    if (!log_id.empty() && (m->topic != topic || (!m->log_id.empty() && m->log_id != log_id))) {
      continue;
    }
    ++n;
  }
  if (!it->status().ok()) return Error(it->status(), "reading the replay markers");
  c->replayed += n;
  c->stored += n;
  c->dead_lettered -= std::min(c->dead_lettered, n);
  return Status::OK();
}

Status RocksDbStore::ApplyReplay(const DeadLetterReplay& r) {
  if (mode_ != OpenMode::kReadWrite) {
    return Status::FailedPrecondition("the store is open read-only: replay refused");
  }
  const bool stored = r.marker.outcome == "stored";
  if (!stored && r.marker.outcome != "dead_lettered") {
    return Status::InvalidArgument(
        fmt::format("replay outcome '{}': expected stored or dead_lettered", r.marker.outcome));
  }
  std::shared_ptr<const ColumnSet> columns;
  if (stored) {
    DF_ASSIGN_OR_RETURN(columns, TableColumns(r.table));
  }
  std::lock_guard lock(apply_mu_);
  if (!failed_.ok()) return failed_;
  // The letter: it must exist, at this id and location.
  std::string letter;
  rocksdb::Status st = db_->Get({}, dead_, BigEndian(r.letter_id), &letter);
  if (!st.ok() && !st.IsNotFound()) return Error(st, "reading a dead letter");
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  std::string_view location, log_id;
  if (st.ok() && parser.parse(letter).get(e) == simdjson::SUCCESS) {
    if (e["location"].get(location) != simdjson::SUCCESS) location = {};
    if (e["log_id"].get(log_id) != simdjson::SUCCESS) log_id = {};
  }
  if (!st.ok() || location != r.location) {
    return Status::NotFound(fmt::format("store {}: no dead letter {} at {}", dir_, r.letter_id,
                                        r.location.empty() ? "?" : r.location));
  }
  std::string topic = TopicOf(r.location);
  std::string letter_log(log_id);
  DF_ASSIGN_OR_RETURN(auto previous, ReadReplayMarker(r.letter_id));
  if (previous && previous->outcome == "stored") {
    return Status::FailedPrecondition(fmt::format("already replayed at {}: stored key {}",
                                                  FormatTimestampMillis(previous->at_us / 1000),
                                                  previous->key));
  }
  rocksdb::WriteBatch wb;
  uint64_t replayed = counters_.replayed;
  if (stored) {
    DF_RETURN_IF_ERROR(AddRows(r.table, {&r.row}, false, columns.get(), &wb));
    std::string table_key = "t";
    table_key.push_back('\0');
    wb.Put(meta_, table_key + r.table, "");
    wb.Put(meta_, rocksdb_keys::ReplayedCounterKey(), U64(++replayed));
  }
  wb.Put(meta_, ReplayKey(r.letter_id),
         JsonObjectWriter()
             .Int("at_us", r.marker.at_us)
             .String("outcome", r.marker.outcome)
             .String("key", r.marker.key)
             .String("reason", r.marker.reason)
             .String("topic", topic)
             .String("log_id", letter_log)
             .Finish());
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  st = db_->Write(wo, &wb);
  if (!st.ok()) {
    failed_ = Error(st, fmt::format("writing the replay of dead letter {}", r.letter_id));
    return failed_;
  }
  counters_.replayed = replayed;
  return Status::OK();
}

}  // namespace dataforge
