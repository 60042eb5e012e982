#include "store/cassandra/cassandra_store.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "store/row_merge.h"

namespace dataforge {
namespace {

// The offset row's key: "<group>/<topic>/<partition>" without log identity (rows written
// before identities existed), "<group>/<topic>/<partition>/<log id>" with one.
std::string OffsetId(const std::string& group, const std::string& topic, int32_t partition,
                     const std::string& log_id) {
  std::string id = fmt::format("{}/{}/{}", group, topic, partition);
  return log_id.empty() ? id : id + "/" + log_id;
}

Result<int64_t> BigintAt(const std::vector<std::optional<std::string>>& row, size_t i) {
  if (i >= row.size() || !row[i]) return int64_t{0};
  return cql::DecodeBigint(*row[i]);
}

}  // namespace

CassandraStore::CassandraStore(CassandraUrl url, OpenMode mode,
                               std::unique_ptr<cql::client::Session> session)
    : url_(std::move(url)),
      mode_(mode),
      meta_keyspace_(url_.keyspace.empty() ? "dataforge" : url_.keyspace),
      session_(std::move(session)) {}

CassandraStore::~CassandraStore() = default;

Result<std::unique_ptr<CassandraStore>> CassandraStore::Open(const std::string& url, OpenMode mode,
                                                             const StoreOptions& options) {
  DF_ASSIGN_OR_RETURN(CassandraUrl u, ParseCassandraUrl(url, options.cassandra));
  const CassandraOptions& o = u.options;
  auto level = cql::ParseConsistency(o.consistency);
  if (!level) {
    return Status::ConfigError(
        fmt::format("store.cassandra.consistency '{}' is not a consistency level; use ONE, QUORUM, "
                    "LOCAL_QUORUM, LOCAL_ONE or ALL",
                    o.consistency));
  }
  std::map<std::string, cql::Consistency> per_table;
  for (const auto& [table, name] : o.table_consistency) {
    auto c = cql::ParseConsistency(name);
    if (!c) {
      return Status::ConfigError(fmt::format(
          "store.cassandra consistency '{}' for table {} is not a consistency level; use ONE, "
          "QUORUM, LOCAL_QUORUM, LOCAL_ONE or ALL",
          name, table));
    }
    per_table[table] = *c;
  }
  cql::client::SessionOptions so;
  so.contact_points = u.hosts;
  so.connection.tls = {o.tls, o.tls_ca_file, o.tls_cert_file, o.tls_key_file,
                       o.tls_verify_hostname};
  so.connection.username = o.username;
  so.connection.password = o.password;
  so.connection.connect_timeout_ms = o.connect_timeout_ms;
  so.connection.max_in_flight = o.max_in_flight_per_connection;
  so.connections_per_host = o.connections_per_host;
  so.local_datacenter = o.local_datacenter;
  so.max_retries = o.max_retries;
  so.request_timeout_ms = o.request_timeout_ms;
  DF_ASSIGN_OR_RETURN(auto session, cql::client::Session::Open(std::move(so)));
  std::unique_ptr<CassandraStore> store(new CassandraStore(std::move(u), mode, std::move(session)));
  store->default_consistency_ = *level;
  store->table_consistency_ = std::move(per_table);
  return store;
}

std::string CassandraStore::PhysicalName(const std::string& table) const {
  size_t dot = table.find('.');
  std::string name = dot == std::string::npos ? table : table.substr(dot + 1);
  if (!url_.keyspace.empty()) return url_.keyspace + "." + name;
  if (dot == std::string::npos) return meta_keyspace_ + "." + name;
  return table;
}

cql::Consistency CassandraStore::ConsistencyFor(const std::string& logical,
                                                const std::string& physical) const {
  if (auto it = table_consistency_.find(logical); it != table_consistency_.end()) return it->second;
  if (auto it = table_consistency_.find(physical); it != table_consistency_.end()) {
    return it->second;
  }
  return default_consistency_;
}

cql::QueryParameters CassandraStore::Params(cql::Consistency c,
                                            std::vector<cql::Value> values) const {
  cql::QueryParameters p;
  p.consistency = c;
  p.values = std::move(values);
  return p;
}

int64_t CassandraStore::NextTimestampMicros() {
  static std::atomic<int64_t> last{0};
  int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  int64_t prev = last.load();
  int64_t next;
  do {
    next = now > prev ? now : prev + 1;
  } while (!last.compare_exchange_weak(prev, next));
  return next;
}

Status CassandraStore::Apply(const StoreBatch& batch) {
  if (mode_ == OpenMode::kReadOnly) {
    return Status::FailedPrecondition("cassandra store opened read-only: Apply refused");
  }
  DF_RETURN_IF_ERROR(EnsureBookkeeping());
  std::lock_guard<std::mutex> lock(apply_mu_);
  if (batch.truncate) DF_RETURN_IF_ERROR(DeleteAllRows(batch.table));
  for (const std::string& table : batch.truncate_also) DF_RETURN_IF_ERROR(DeleteAllRows(table));
  cql::client::Completion done;
  Status sent;
  {
    // The statements leave in a few writes per connection, not one each; flushed before we
    // wait for their answers.
    cql::client::SendBatch writes;
    if (!batch.rows.empty()) sent = WriteAllRows(batch, &done);
    if (sent.ok()) sent = WriteDeadLetters(batch, &done);
  }
  Status acked = done.Wait();
  DF_RETURN_IF_ERROR(sent);
  DF_RETURN_IF_ERROR(acked);
  if (!batch.counted) return Status::OK();
  return WriteOffsets(batch);
}

Status CassandraStore::DeleteAllRows(const std::string& table) {
  auto t = Table(table);
  if (!t.ok()) return t.status().code() == StatusCode::kNotFound ? Status::OK() : t.status();
  // Page by page: a scan resumes after a key even when that key is gone (store.h).
  constexpr size_t kPage = 1000;
  std::string after;
  while (true) {
    StoreBatch deletes;
    DF_RETURN_IF_ERROR(Scan(table, after, kPage, [&](const std::string& key, const std::string&) {
      deletes.rows.push_back({key, "", true});
      return true;
    }));
    if (deletes.rows.empty()) return Status::OK();
    after = deletes.rows.back().key;
    cql::client::Completion done;
    Status sent;
    {
      cql::client::SendBatch writes;
      EncodedRows encoded;
      sent = EncodeRows(**t, deletes.rows, &encoded);
      if (sent.ok()) SendRows(**t, encoded, &done);
    }
    Status acked = done.Wait();
    DF_RETURN_IF_ERROR(sent);
    DF_RETURN_IF_ERROR(acked);
    if (deletes.rows.size() < kPage) return Status::OK();
  }
}

Status CassandraStore::WriteAllRows(const StoreBatch& batch, cql::client::Completion* done) {
  // Each table's rows apart (RowWrite::table, "" = the batch's), in first-appearance order. Every
  // table is looked up and every statement encoded before the first is sent, so an unknown table
  // or a bad row writes nothing.
  std::vector<std::pair<std::string, std::vector<RowWrite>>> by_table;
  bool other = std::any_of(batch.rows.begin(), batch.rows.end(), [&](const RowWrite& r) {
    return !r.table.empty() && r.table != batch.table;
  });
  if (!other) {
    DF_ASSIGN_OR_RETURN(auto table, Table(batch.table));
    thread_local EncodedRows encoded;
    DF_RETURN_IF_ERROR(EncodeRows(*table, batch.rows, &encoded));
    SendRows(*table, encoded, done);
    return Status::OK();
  }
  std::map<std::string, size_t> index;
  for (const RowWrite& r : batch.rows) {
    const std::string& table = r.table.empty() ? batch.table : r.table;
    auto [it, fresh] = index.try_emplace(table, by_table.size());
    if (fresh) by_table.emplace_back(table, std::vector<RowWrite>());
    by_table[it->second].second.push_back(r);
  }
  std::vector<std::shared_ptr<const TableInfo>> infos;
  std::vector<EncodedRows> encoded(by_table.size());
  for (size_t i = 0; i < by_table.size(); ++i) {
    auto info = Table(by_table[i].first);
    if (!info.ok() && info.status().code() == StatusCode::kNotFound) {
      return Status::NotFound(fmt::format("row '{}' goes to table {}: {}",
                                          by_table[i].second.front().key, by_table[i].first,
                                          info.status().message()));
    }
    DF_RETURN_IF_ERROR(info.status());
    infos.push_back(*info);
    DF_RETURN_IF_ERROR(EncodeRows(*infos.back(), by_table[i].second, &encoded[i]));
  }
  for (size_t i = 0; i < infos.size(); ++i) SendRows(*infos[i], encoded[i], done);
  return Status::OK();
}

void CassandraStore::SendRows(const TableInfo& t, const EncodedRows& encoded,
                              cql::client::Completion* done) {
  size_t begin = 0;
  for (const auto& [end, deleted] : encoded.ends) {
    if (done->failed()) break;
    done->Add();
    session_->ExecuteEncodedAsync(deleted ? t.remove : t.insert,
                                  std::string_view(encoded.params).substr(begin, end - begin),
                                  done->Callback());
    begin = end;
  }
}

Status CassandraStore::EncodeRows(const TableInfo& t, const std::vector<RowWrite>& rows,
                                  EncodedRows* encoded) {
  // One statement per key, for what the batch's writes of it leave (store.h RowWrite): a delete
  // when the last is a delete; else one INSERT of the columns written (partial upserts merged
  // in order; columns not written stay UNSET, so Cassandra keeps their values), or, when a delete
  // came before them in this batch, of every column (those not written since bound null).
  struct KeyWrites {
    size_t last = 0;              // index of the key's last write
    bool deleted_before = false;  // a delete precedes the upserts that follow it
    size_t upserts = 0;           // upserts since the last delete
    size_t first = 0;             // the first of them
    std::string merged;           // all of them merged, when more than one
  };
  std::unordered_map<std::string_view, KeyWrites> keys;
  for (size_t i = 0; i < rows.size(); ++i) {
    const RowWrite& w = rows[i];
    KeyWrites& k = keys[w.key];
    k.last = i;
    if (w.deleted) {
      k.deleted_before = true;
      k.upserts = 0;
      continue;
    }
    if (++k.upserts == 1) {
      k.first = i;
      continue;
    }
    auto merged = MergeRowJson(k.upserts == 2 ? rows[k.first].row_json : k.merged, w.row_json);
    if (!merged.ok()) {
      return Status::InvalidArgument(fmt::format(
          "cassandra table {}: row '{}': {}", t.shape.physical, w.key, merged.status().message()));
    }
    k.merged = std::move(merged).value();
  }
  // Every statement's parameters encoded into one buffer (reused: nothing is allocated per
  // statement for its values).
  std::string& params = encoded->params;
  auto& ends = encoded->ends;
  params.clear();
  ends.clear();
  for (size_t i = 0; i < rows.size(); ++i) {
    const RowWrite& w = rows[i];
    const KeyWrites& k = keys[w.key];
    if (k.last != i) continue;
    if (w.deleted) {
      DF_RETURN_IF_ERROR(
          AppendKeyParameters(t.shape, w.key, t.consistency, NextTimestampMicros(), &params));
    } else {
      DF_RETURN_IF_ERROR(AppendRowParameters(t.shape, w.key, k.upserts > 1 ? k.merged : w.row_json,
                                             k.deleted_before, t.consistency, NextTimestampMicros(),
                                             &params));
    }
    ends.emplace_back(params.size(), w.deleted);
  }
  return Status::OK();
}

Status CassandraStore::WriteDeadLetters(const StoreBatch& batch, cql::client::Completion* done) {
  if (batch.dead_letters.empty()) return Status::OK();
  DF_ASSIGN_OR_RETURN(auto insert,
                      session_->Prepare(fmt::format(
                          "INSERT INTO {}.dataforge_dead_letters (location, stage, reason, "
                          "payload, at_us, record_key) VALUES (?, ?, ?, ?, ?, ?)",
                          meta_keyspace_)));
  // Keyed by log position: in a store several logs share, positions repeat across logs, so the
  // key names the log too ("users/0@5 (log <id>)"); a replayed batch still overwrites itself.
  std::string log_id;
  for (const PartitionOffset& o : batch.offsets) {
    if (!o.log_id.empty()) log_id = o.log_id;
  }
  std::string suffix = log_id.empty() ? "" : " (log " + log_id + ")";
  for (const DeadLetter& d : batch.dead_letters) {
    if (done->failed()) break;
    cql::QueryParameters p =
        Params(default_consistency_,
               {TextValue(d.location + suffix), TextValue(d.stage), TextValue(d.reason),
                TextValue(d.payload), BigintValue(d.at_us), TextValue(d.key)});
    p.timestamp = NextTimestampMicros();
    done->Add();
    session_->ExecuteAsync(insert, std::move(p), done->Callback());
  }
  return Status::OK();
}

Result<std::optional<CassandraStore::OffsetRow>> CassandraStore::SelectOffsetRow(
    const std::string& id) {
  DF_ASSIGN_OR_RETURN(bool filtered, HasFiltered());
  DF_ASSIGN_OR_RETURN(auto select, session_->Prepare(fmt::format(
                                       "SELECT next_offset, stored, dead_lettered, lost{} FROM "
                                       "{}.dataforge_offsets WHERE id = ?",
                                       filtered ? ", filtered" : "", meta_keyspace_)));
  DF_ASSIGN_OR_RETURN(auto r,
                      session_->Execute(select, Params(default_consistency_, {TextValue(id)})));
  if (r.rows.rows.empty() || r.rows.rows[0].empty() || !r.rows.rows[0][0]) {
    return std::optional<OffsetRow>();
  }
  const auto& row = r.rows.rows[0];
  OffsetRow o;
  DF_ASSIGN_OR_RETURN(o.next_offset, cql::DecodeBigint(*row[0]));
  DF_ASSIGN_OR_RETURN(int64_t stored, BigintAt(row, 1));
  DF_ASSIGN_OR_RETURN(int64_t dead, BigintAt(row, 2));
  DF_ASSIGN_OR_RETURN(int64_t lost, BigintAt(row, 3));
  DF_ASSIGN_OR_RETURN(int64_t dropped, BigintAt(row, 4));  // null (older rows): 0
  o.counters = PartitionCounters{static_cast<uint64_t>(stored), static_cast<uint64_t>(dead),
                                 static_cast<uint64_t>(lost), static_cast<uint64_t>(dropped)};
  return std::optional<OffsetRow>(o);
}

Result<std::optional<CassandraStore::OffsetRow>> CassandraStore::ReadOffsetRow(
    const std::string& group, const std::string& topic, int32_t partition,
    const std::string& log_id, bool adopt) {
  DF_ASSIGN_OR_RETURN(auto own, SelectOffsetRow(OffsetId(group, topic, partition, log_id)));
  if (own || log_id.empty()) return own;
  // No row of this log: the partition's row without identity, if any, is this log's.
  std::string legacy_id = OffsetId(group, topic, partition, "");
  DF_ASSIGN_OR_RETURN(auto legacy, SelectOffsetRow(legacy_id));
  if (!legacy || !adopt) return legacy;
  // Unless another log has a row for the partition: then the row without identity is what an
  // adoption interrupted between its two writes left behind (the other log's copy is its row).
  bool taken = false;
  Status row_error;
  DF_RETURN_IF_ERROR(session_->QueryPages(
      fmt::format("SELECT group_name, topic, partition, log_id FROM {}.dataforge_offsets",
                  meta_keyspace_),
      Params(default_consistency_, {}), [&](const cql::RowsResult& page) {
        for (const auto& row : page.rows) {
          if (row.size() < 4 || !row[0] || !row[1] || !row[2] || !row[3] || row[3]->empty()) {
            continue;
          }
          auto p = cql::DecodeInt(*row[2]);
          if (!p.ok()) {
            row_error = p.status();
            return false;
          }
          if (*row[0] == group && *row[1] == topic && *p == partition) taken = true;
        }
        return !taken;
      }));
  DF_RETURN_IF_ERROR(row_error);
  if (taken) return std::optional<OffsetRow>();
  // The copy first, then the row without identity goes: a crash in between leaves a row that the
  // check above never gives to another log.
  DF_RETURN_IF_ERROR(InsertOffsetRow(group, topic, partition, log_id, *legacy));
  DF_ASSIGN_OR_RETURN(auto remove,
                      session_->Prepare(fmt::format("DELETE FROM {}.dataforge_offsets WHERE id = ?",
                                                    meta_keyspace_)));
  cql::QueryParameters p = Params(default_consistency_, {TextValue(legacy_id)});
  p.timestamp = NextTimestampMicros();
  DF_RETURN_IF_ERROR(session_->Execute(remove, std::move(p)).status());
  return legacy;
}

Status CassandraStore::InsertOffsetRow(const std::string& group, const std::string& topic,
                                       int32_t partition, const std::string& log_id,
                                       const OffsetRow& row, cql::client::Completion* done) {
  DF_ASSIGN_OR_RETURN(
      auto insert,
      session_->Prepare(fmt::format(
          "INSERT INTO {}.dataforge_offsets (id, group_name, topic, partition, log_id, "
          "next_offset, stored, dead_lettered, lost, filtered) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
          "?, ?)",
          meta_keyspace_)));
  const PartitionCounters& c = row.counters;
  cql::QueryParameters p = Params(
      default_consistency_,
      {TextValue(OffsetId(group, topic, partition, log_id)), TextValue(group), TextValue(topic),
       cql::Value::Of(cql::EncodeInt(partition)),
       log_id.empty() ? cql::Value::Null() : TextValue(log_id), BigintValue(row.next_offset),
       BigintValue(static_cast<int64_t>(c.stored)),
       BigintValue(static_cast<int64_t>(c.dead_lettered)),
       BigintValue(static_cast<int64_t>(c.lost)), BigintValue(static_cast<int64_t>(c.filtered))});
  p.timestamp = NextTimestampMicros();
  if (done == nullptr) return session_->Execute(insert, std::move(p)).status();
  done->Add();
  session_->ExecuteAsync(insert, std::move(p), done->Callback());
  return Status::OK();
}

Status CassandraStore::WriteOffsets(const StoreBatch& batch) {
  if (batch.offsets.empty()) return Status::OK();
  // One row per partition and log, even if the batch names a partition twice.
  std::map<std::string, PartitionOffset> merged;
  for (const PartitionOffset& o : batch.offsets) {
    auto [it, fresh] = merged.try_emplace(OffsetId(batch.group, o.topic, o.partition, o.log_id), o);
    if (fresh) continue;
    it->second.next_offset = std::max(it->second.next_offset, o.next_offset);
    it->second.stored += o.stored;
    it->second.dead_lettered += o.dead_lettered;
    it->second.lost += o.lost;
    it->second.filtered += o.filtered;
  }
  std::map<std::string, PartitionCounters> updated;
  cql::client::Completion done;
  for (const auto& [id, o] : merged) {
    auto cached = counters_.find(id);
    PartitionCounters c;
    if (cached != counters_.end()) {
      c = cached->second;
    } else {
      auto loaded = ReadOffsetRow(batch.group, o.topic, o.partition, o.log_id, /*adopt=*/true);
      if (!loaded.ok()) {
        DF_RETURN_IF_ERROR(done.Wait());
        return loaded.status();
      }
      if (*loaded) c = (*loaded)->counters;
    }
    c.stored += o.stored;
    c.dead_lettered += o.dead_lettered;
    c.lost += o.lost;
    c.filtered += o.filtered;
    updated[id] = c;
    Status sent = InsertOffsetRow(batch.group, o.topic, o.partition, o.log_id,
                                  OffsetRow{o.next_offset, c}, &done);
    if (!sent.ok()) {
      DF_RETURN_IF_ERROR(done.Wait());
      return sent;
    }
  }
  DF_RETURN_IF_ERROR(done.Wait());
  for (auto& [id, c] : updated) counters_[id] = c;
  return Status::OK();
}

// Called when the log assigns the partition to this process (Processor::ResumeOffset): another
// member may have written the partition's row since this process last did, so its counters are
// taken from the row, not from the cache.
Result<std::optional<int64_t>> CassandraStore::CommittedOffset(const std::string& group,
                                                               const std::string& topic,
                                                               int32_t partition,
                                                               const std::string& log_id) {
  if (mode_ == OpenMode::kReadWrite) DF_RETURN_IF_ERROR(EnsureBookkeeping());
  DF_ASSIGN_OR_RETURN(bool bookkeeping, HasBookkeeping());
  if (!bookkeeping) return std::optional<int64_t>();
  DF_ASSIGN_OR_RETURN(auto row, ReadOffsetRow(group, topic, partition, log_id,
                                              /*adopt=*/mode_ == OpenMode::kReadWrite));
  std::lock_guard<std::mutex> lock(apply_mu_);
  counters_[OffsetId(group, topic, partition, log_id)] = row ? row->counters : PartitionCounters{};
  if (!row) return std::optional<int64_t>();
  return std::optional<int64_t>(row->next_offset);
}

Result<StoreCounters> CassandraStore::Counters() {
  StoreCounters total;
  DF_ASSIGN_OR_RETURN(bool bookkeeping, HasBookkeeping());
  if (!bookkeeping) return total;
  DF_ASSIGN_OR_RETURN(bool has_filtered, HasFiltered());
  Status row_error;
  DF_RETURN_IF_ERROR(session_->QueryPages(
      fmt::format("SELECT stored, dead_lettered, lost{} FROM {}.dataforge_offsets",
                  has_filtered ? ", filtered" : "", meta_keyspace_),
      Params(default_consistency_, {}), [&](const cql::RowsResult& page) {
        for (const auto& row : page.rows) {
          auto stored = BigintAt(row, 0);
          auto dead = BigintAt(row, 1);
          auto lost = BigintAt(row, 2);
          auto filtered = BigintAt(row, 3);  // null or absent: 0
          if (!stored.ok() || !dead.ok() || !lost.ok() || !filtered.ok()) {
            row_error = !stored.ok() ? stored.status()
                        : !dead.ok() ? dead.status()
                        : !lost.ok() ? lost.status()
                                     : filtered.status();
            return false;
          }
          total.stored += static_cast<uint64_t>(*stored);
          total.dead_lettered += static_cast<uint64_t>(*dead);
          total.lost += static_cast<uint64_t>(*lost);
          total.filtered += static_cast<uint64_t>(*filtered);
        }
        return true;
      }));
  DF_RETURN_IF_ERROR(row_error);
  DF_RETURN_IF_ERROR(AddReplays("", "", &total));
  return total;
}

Result<uint64_t> CassandraStore::PartitionLost(const std::string& group, const std::string& topic,
                                               int32_t partition, const std::string& log_id) {
  DF_ASSIGN_OR_RETURN(bool bookkeeping, HasBookkeeping());
  if (!bookkeeping) return uint64_t{0};
  DF_ASSIGN_OR_RETURN(auto row, ReadOffsetRow(group, topic, partition, log_id, /*adopt=*/false));
  return row ? row->counters.lost : 0;
}

Result<StoreCounters> CassandraStore::LogCounters(const std::string& group,
                                                  const std::string& topic,
                                                  const std::string& log_id) {
  if (log_id.empty()) return Counters();
  StoreCounters total;
  DF_ASSIGN_OR_RETURN(bool bookkeeping, HasBookkeeping());
  if (!bookkeeping) return total;
  // A keyspace no identity-aware process wrote (read-only) has rows without identity only.
  DF_ASSIGN_OR_RETURN(bool identities, HasLogIds());
  DF_ASSIGN_OR_RETURN(bool has_filtered, HasFiltered());
  // Rows without identity of partitions no log has a row for are this log's (as CommittedOffset
  // reads them): kept aside until every row was seen.
  std::map<int32_t, PartitionCounters> untaken;
  std::set<int32_t> taken;
  Status row_error;
  DF_RETURN_IF_ERROR(session_->QueryPages(
      fmt::format("SELECT group_name, topic, partition, stored, dead_lettered, lost, {}{} FROM "
                  "{}.dataforge_offsets",
                  has_filtered ? "filtered" : "lost", identities ? ", log_id" : "", meta_keyspace_),
      Params(default_consistency_, {}), [&](const cql::RowsResult& page) {
        for (const auto& row : page.rows) {
          if (row.size() < 6 || !row[0] || !row[1] || !row[2]) continue;
          if (*row[0] != group || *row[1] != topic) continue;
          auto partition = cql::DecodeInt(*row[2]);
          auto stored = BigintAt(row, 3);
          auto dead = BigintAt(row, 4);
          auto lost = BigintAt(row, 5);
          auto filtered = has_filtered ? BigintAt(row, 6) : Result<int64_t>(int64_t{0});
          if (!partition.ok() || !stored.ok() || !dead.ok() || !lost.ok() || !filtered.ok()) {
            row_error = !partition.ok() ? partition.status()
                        : !stored.ok()  ? stored.status()
                        : !dead.ok()    ? dead.status()
                        : !lost.ok()    ? lost.status()
                                        : filtered.status();
            return false;
          }
          PartitionCounters c{static_cast<uint64_t>(*stored), static_cast<uint64_t>(*dead),
                              static_cast<uint64_t>(*lost), static_cast<uint64_t>(*filtered)};
          bool has_id = identities && row.size() > 7 && row[7] && !row[7]->empty();
          if (!has_id) {
            untaken[*partition] = c;
            continue;
          }
          taken.insert(*partition);
          if (*row[7] != log_id) continue;
          total.stored += c.stored;
          total.dead_lettered += c.dead_lettered;
          total.lost += c.lost;
          total.filtered += c.filtered;
        }
        return true;
      }));
  DF_RETURN_IF_ERROR(row_error);
  for (const auto& [partition, c] : untaken) {
    if (taken.count(partition) > 0) continue;
    total.stored += c.stored;
    total.dead_lettered += c.dead_lettered;
    total.lost += c.lost;
    total.filtered += c.filtered;
  }
  DF_RETURN_IF_ERROR(AddReplays(topic, log_id, &total));
  return total;
}

Status CassandraStore::ListDeadLetters(uint64_t after_id, size_t limit,
                                       std::vector<StoredDeadLetter>* out) {
  DF_ASSIGN_OR_RETURN(bool bookkeeping, HasBookkeeping());
  if (!bookkeeping) return Status::OK();
  DF_ASSIGN_OR_RETURN(bool keys, HasRecordKeys());
  DF_ASSIGN_OR_RETURN(auto replays, ReadReplays());
  std::vector<DeadLetter> all;
  Status row_error;
  DF_RETURN_IF_ERROR(session_->QueryPages(
      fmt::format("SELECT location, stage, reason, payload, at_us{} FROM "
                  "{}.dataforge_dead_letters",
                  keys ? ", record_key" : "", meta_keyspace_),
      Params(default_consistency_, {}), [&](const cql::RowsResult& page) {
        for (const auto& row : page.rows) {
          DeadLetter d;
          auto text = [&](size_t i) { return i < row.size() && row[i] ? *row[i] : std::string(); };
          d.location = text(0);
          d.stage = text(1);
          d.reason = text(2);
          d.payload = text(3);
          auto at = BigintAt(row, 4);
          if (!at.ok()) {
            row_error = at.status();
            return false;
          }
          d.at_us = *at;
          d.key = text(5);
          all.push_back(std::move(d));
        }
        return true;
      }));
  DF_RETURN_IF_ERROR(row_error);
  std::sort(all.begin(), all.end(), [](const DeadLetter& a, const DeadLetter& b) {
    return a.at_us != b.at_us ? a.at_us < b.at_us : a.location < b.location;
  });
  size_t added = 0;
  for (size_t i = static_cast<size_t>(std::min<uint64_t>(after_id, all.size()));
       i < all.size() && (limit == 0 || added < limit); ++i, ++added) {
    StoredDeadLetter d{i + 1, std::move(all[i])};
    if (auto it = replays.find(d.letter.location); it != replays.end()) {
      d.replay = it->second.marker;
    }
    out->push_back(std::move(d));
  }
  return Status::OK();
}

Result<std::string> CassandraStore::Compact() {
  return std::string(
      "compaction is the cluster's job: run `nodetool compact` on each node (nothing done)");
}

}  // namespace dataforge
