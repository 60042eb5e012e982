// CassandraStore: dead letters' replay markers in dataforge_replays (cassandra_store.h,
// store.h ApplyReplay). The row is written before the marker: a crash in between leaves the
// letter unmarked, and its next replay repeats the same upsert, then marks it.
#include <algorithm>

#include <fmt/format.h>

#include "common/timestamp.h"
#include "store/cassandra/cassandra_store.h"

namespace dataforge {
namespace {

// "users/0@5 (log 1a2b)" -> topic "users", log "1a2b" (no log: "").
std::pair<std::string, std::string> TopicAndLog(const std::string& location) {
  std::string topic, log_id;
  constexpr std::string_view kLog = " (log ";
  std::string_view at(location);
  if (size_t l = at.find(kLog); l != std::string_view::npos && at.ends_with(")")) {
    log_id = std::string(at.substr(l + kLog.size(), at.size() - l - kLog.size() - 1));
    at = at.substr(0, l);
  }
  if (size_t slash = at.rfind('/'); slash != std::string_view::npos) {
    topic = std::string(at.substr(0, slash));
  }
  return {topic, log_id};
}

}  // namespace

Result<std::map<std::string, CassandraStore::StoredReplay>> CassandraStore::ReadReplays() {
  std::map<std::string, StoredReplay> out;
  DF_ASSIGN_OR_RETURN(bool bookkeeping, HasBookkeeping());
  if (!bookkeeping) return out;
  DF_ASSIGN_OR_RETURN(bool replays, HasReplays());
  if (!replays) return out;
  Status row_error;
  DF_RETURN_IF_ERROR(session_->QueryPages(
      fmt::format("SELECT location, at_us, outcome, row_key, reason, topic, log_id FROM "
                  "{}.dataforge_replays",
                  meta_keyspace_),
      Params(default_consistency_, {}), [&](const cql::RowsResult& page) {
        for (const auto& row : page.rows) {
          auto text = [&](size_t i) { return i < row.size() && row[i] ? *row[i] : std::string(); };
          StoredReplay r;
          if (row.size() > 1 && row[1]) {
            auto at = cql::DecodeBigint(*row[1]);
            if (!at.ok()) {
              row_error = at.status();
              return false;
            }
            r.marker.at_us = *at;
          }
          r.marker.outcome = text(2);
          r.marker.key = text(3);
          r.marker.reason = text(4);
          r.topic = text(5);
          r.log_id = text(6);
          out[text(0)] = std::move(r);
        }
        return true;
      }));
  DF_RETURN_IF_ERROR(row_error);
  return out;
}

Status CassandraStore::AddReplays(const std::string& topic, const std::string& log_id,
                                  StoreCounters* c) {
  DF_ASSIGN_OR_RETURN(auto replays, ReadReplays());
  uint64_t n = 0;
  for (const auto& [location, r] : replays) {
    if (r.marker.outcome != "stored") continue;
    // A letter of a batch without log identity counts for every log that asks.
    if (!log_id.empty() && (r.topic != topic || (!r.log_id.empty() && r.log_id != log_id))) {
      continue;
    }
    ++n;
  }
  c->replayed += n;
  c->stored += n;
  c->dead_lettered -= std::min(c->dead_lettered, n);
  return Status::OK();
}

Status CassandraStore::ApplyReplay(const DeadLetterReplay& r) {
  if (mode_ == OpenMode::kReadOnly) {
    return Status::FailedPrecondition("cassandra store opened read-only: replay refused");
  }
  const bool stored = r.marker.outcome == "stored";
  if (!stored && r.marker.outcome != "dead_lettered") {
    return Status::InvalidArgument(
        fmt::format("replay outcome '{}': expected stored or dead_lettered", r.marker.outcome));
  }
  DF_RETURN_IF_ERROR(EnsureBookkeeping());
  std::lock_guard<std::mutex> lock(replay_mu_);
  // The letter must exist (Cassandra keys letters by location; ids are positions).
  DF_ASSIGN_OR_RETURN(auto letter, session_->Prepare(fmt::format(
                                       "SELECT location FROM {}.dataforge_dead_letters WHERE "
                                       "location = ?",
                                       meta_keyspace_)));
  DF_ASSIGN_OR_RETURN(
      auto found, session_->Execute(letter, Params(default_consistency_, {TextValue(r.location)})));
  if (found.rows.rows.empty()) {
    return Status::NotFound(fmt::format("cassandra: no dead letter at {}", r.location));
  }
  DF_ASSIGN_OR_RETURN(auto marker, session_->Prepare(fmt::format(
                                       "SELECT outcome, at_us, row_key FROM {}.dataforge_replays "
                                       "WHERE location = ?",
                                       meta_keyspace_)));
  DF_ASSIGN_OR_RETURN(auto previous, session_->Execute(marker, Params(default_consistency_,
                                                                      {TextValue(r.location)})));
  if (!previous.rows.rows.empty()) {
    const auto& row = previous.rows.rows[0];
    if (!row.empty() && row[0] && *row[0] == "stored") {
      int64_t at = 0;
      if (row.size() > 1 && row[1]) {
        DF_ASSIGN_OR_RETURN(at, cql::DecodeBigint(*row[1]));
      }
      return Status::FailedPrecondition(
          fmt::format("already replayed at {}: stored key {}", FormatTimestampMillis(at / 1000),
                      row.size() > 2 && row[2] ? *row[2] : std::string()));
    }
  }
  if (stored) {
    DF_ASSIGN_OR_RETURN(auto table, Table(r.table));
    cql::client::Completion done;
    EncodedRows encoded;
    Status sent = EncodeRows(*table, {r.row}, &encoded);
    if (sent.ok()) {
      cql::client::SendBatch writes;
      SendRows(*table, encoded, &done);
    }
    Status acked = done.Wait();
    DF_RETURN_IF_ERROR(sent);
    DF_RETURN_IF_ERROR(acked);
  }
  auto [topic, log_id] = TopicAndLog(r.location);
  DF_ASSIGN_OR_RETURN(auto insert,
                      session_->Prepare(fmt::format(
                          "INSERT INTO {}.dataforge_replays (location, at_us, outcome, row_key, "
                          "reason, topic, log_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                          meta_keyspace_)));
  cql::QueryParameters p = Params(
      default_consistency_,
      {TextValue(r.location), BigintValue(r.marker.at_us), TextValue(r.marker.outcome),
       TextValue(r.marker.key), TextValue(r.marker.reason), TextValue(topic), TextValue(log_id)});
  p.timestamp = NextTimestampMicros();
  return session_->Execute(insert, std::move(p)).status();
}

}  // namespace dataforge
