// RocksDbStore: the processor's offset rows and their counters (docs/store-format.md).
//
// A partition's offset row is kept per log identity (store.h PartitionOffset::log_id):
//   "i\0<group>\0<topic>\0<partition>\0<log id>" -> next offset, stored, dead-lettered, lost,
//   filtered (filtered since issue 20; older 32-byte rows read it as 0).
// Rows written before identities existed ("o\0…" next offset, "l\0…" lost) belong to the first
// log that asks for them with an identity while no log has a row for the partition: they move
// to that log's row in one atomic write.
#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "store/rocksdb/rocksdb_keys.h"
#include "store/rocksdb/rocksdb_store.h"

namespace dataforge {
namespace {

using rocksdb_keys::IdentityKey;
using rocksdb_keys::IdentityPrefix;
using rocksdb_keys::LostKey;
using rocksdb_keys::OffsetKey;
using rocksdb_keys::ParseU64;
using rocksdb_keys::U64;

// Five u64 (40 bytes): next offset, stored, dead-lettered, lost, filtered. Rows written before
// `filtered` existed have the first four (32 bytes) and read filtered as 0.
std::string EncodeRow(uint64_t next, uint64_t stored, uint64_t dead, uint64_t lost,
                      uint64_t filtered) {
  return U64(next) + U64(stored) + U64(dead) + U64(lost) + U64(filtered);
}

bool IsOffsetRow(const std::string& v) {
  return v.size() == 32 || v.size() == 40;
}
uint64_t FilteredOf(const std::string& v) {
  return v.size() == 40 ? ParseU64(v.substr(32, 8)) : 0;
}

}  // namespace

Result<std::optional<RocksDbStore::OffsetRow>> RocksDbStore::ReadOffsetRowLocked(
    const std::string& group, const std::string& topic, int32_t partition,
    const std::string& log_id, rocksdb::WriteBatch* adopt, StoreCounters* attributed) {
  std::string v;
  rocksdb::Status st = db_->Get({}, meta_, IdentityKey(group, topic, partition, log_id), &v);
  if (!st.ok() && !st.IsNotFound()) return Error(st, "reading a consumer offset");
  if (st.ok()) {
    if (!IsOffsetRow(v)) {
      return Status::Corruption(fmt::format(
          "store {}: the offset row of {}/{}/{} (log {}) has {} bytes, expected 32 or 40", dir_,
          group, topic, partition, log_id, v.size()));
    }
    OffsetRow row;
    row.next_offset = ParseU64(v.substr(0, 8));
    row.stored = ParseU64(v.substr(8, 8));
    row.dead_lettered = ParseU64(v.substr(16, 8));
    row.lost = ParseU64(v.substr(24, 8));
    row.filtered = FilteredOf(v);
    return std::optional<OffsetRow>(row);
  }
  // No row of this log: the partition's row without identity, if any, is this log's, unless
  // another log has a row for the partition.
  st = db_->Get({}, meta_, OffsetKey(group, topic, partition), &v);
  if (st.IsNotFound()) return std::optional<OffsetRow>();
  if (!st.ok()) return Error(st, "reading a consumer offset");
  {
    std::string others = IdentityPrefix(group, topic) + std::to_string(partition);
    others.push_back('\0');
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, meta_));
    it->Seek(others);
    if (!it->status().ok()) return Error(it->status(), "reading the offset rows");
    if (it->Valid() && it->key().starts_with(others)) return std::optional<OffsetRow>();
  }
  OffsetRow row;
  row.next_offset = ParseU64(v);
  st = db_->Get({}, meta_, LostKey(group, topic, partition), &v);
  if (!st.ok() && !st.IsNotFound()) return Error(st, "reading a lost-records counter");
  if (st.ok()) row.lost = ParseU64(v);
  if (adopt == nullptr) return std::optional<OffsetRow>(row);
  // Rows without identity kept no stored/dead-lettered counts of their own: the store's counts
  // that no row with identity accounts for go to the first row adopted.
  StoreCounters accounted = *attributed;
  std::string prefix = "i";
  prefix.push_back('\0');
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, meta_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    std::string value = it->value().ToString();
    if (!IsOffsetRow(value)) continue;
    accounted.stored += ParseU64(value.substr(8, 8));
    accounted.dead_lettered += ParseU64(value.substr(16, 8));
    accounted.filtered += FilteredOf(value);
  }
  if (!it->status().ok()) return Error(it->status(), "reading the offset rows");
  row.stored = counters_.stored > accounted.stored ? counters_.stored - accounted.stored : 0;
  row.dead_lettered = counters_.dead_lettered > accounted.dead_lettered
                          ? counters_.dead_lettered - accounted.dead_lettered
                          : 0;
  row.filtered =
      counters_.filtered > accounted.filtered ? counters_.filtered - accounted.filtered : 0;
  attributed->stored += row.stored;
  attributed->dead_lettered += row.dead_lettered;
  attributed->filtered += row.filtered;
  adopt->Delete(meta_, OffsetKey(group, topic, partition));
  adopt->Delete(meta_, LostKey(group, topic, partition));
  adopt->Put(meta_, IdentityKey(group, topic, partition, log_id),
             EncodeRow(row.next_offset, row.stored, row.dead_lettered, row.lost, row.filtered));
  return std::optional<OffsetRow>(row);
}

Status RocksDbStore::AddOffsetsLocked(const StoreBatch& batch, rocksdb::WriteBatch* wb,
                                      uint64_t* lost) {
  std::map<std::string, uint64_t> partition_lost;  // LostKey -> new cumulative value
  std::map<std::string, OffsetRow> rows;           // IdentityKey -> new row
  StoreCounters attributed;
  for (const auto& o : batch.offsets) {
    if (batch.counted) *lost += o.lost;
    if (!o.log_id.empty()) {
      std::string key = IdentityKey(batch.group, o.topic, o.partition, o.log_id);
      auto it = rows.find(key);
      if (it == rows.end()) {
        DF_ASSIGN_OR_RETURN(auto row, ReadOffsetRowLocked(batch.group, o.topic, o.partition,
                                                          o.log_id, wb, &attributed));
        it = rows.emplace(key, row.value_or(OffsetRow{})).first;
      }
      it->second.next_offset = static_cast<uint64_t>(o.next_offset);
      if (batch.counted) {
        it->second.stored += o.stored;
        it->second.dead_lettered += o.dead_lettered;
        it->second.lost += o.lost;
        it->second.filtered += o.filtered;
      }
      continue;
    }
    wb->Put(meta_, OffsetKey(batch.group, o.topic, o.partition),
            U64(static_cast<uint64_t>(o.next_offset)));
    if (o.lost == 0 || !batch.counted) continue;
    std::string key = LostKey(batch.group, o.topic, o.partition);
    auto [it, fresh] = partition_lost.try_emplace(key, 0);
    if (fresh) {
      std::string v;
      rocksdb::Status st = db_->Get({}, meta_, key, &v);
      if (!st.ok() && !st.IsNotFound()) return Error(st, "reading a lost-records counter");
      if (st.ok()) it->second = ParseU64(v);
    }
    it->second += o.lost;
  }
  for (const auto& [key, n] : partition_lost) wb->Put(meta_, key, U64(n));
  for (const auto& [key, r] : rows) {
    wb->Put(meta_, key, EncodeRow(r.next_offset, r.stored, r.dead_lettered, r.lost, r.filtered));
  }
  return Status::OK();
}

Result<std::optional<int64_t>> RocksDbStore::CommittedOffset(const std::string& group,
                                                             const std::string& topic,
                                                             int32_t partition,
                                                             const std::string& log_id) {
  if (log_id.empty()) {
    std::string v;
    rocksdb::Status st = db_->Get({}, meta_, OffsetKey(group, topic, partition), &v);
    if (st.IsNotFound()) return std::optional<int64_t>();
    if (!st.ok()) return Error(st, "reading a consumer offset");
    return std::optional<int64_t>(static_cast<int64_t>(ParseU64(v)));
  }
  std::lock_guard lock(apply_mu_);
  rocksdb::WriteBatch adopt;
  StoreCounters attributed;
  bool writable = mode_ == OpenMode::kReadWrite && failed_.ok();
  DF_ASSIGN_OR_RETURN(auto row, ReadOffsetRowLocked(group, topic, partition, log_id,
                                                    writable ? &adopt : nullptr, &attributed));
  if (adopt.Count() > 0) {
    rocksdb::WriteOptions wo;
    wo.sync = options_.sync;
    rocksdb::Status st = db_->Write(wo, &adopt);
    if (!st.ok()) {
      failed_ = Error(st, "giving the offset rows without identity to log " + log_id);
      return failed_;
    }
  }
  if (!row) return std::optional<int64_t>();
  return std::optional<int64_t>(static_cast<int64_t>(row->next_offset));
}

Result<uint64_t> RocksDbStore::PartitionLost(const std::string& group, const std::string& topic,
                                             int32_t partition, const std::string& log_id) {
  if (log_id.empty()) {
    std::string v;
    rocksdb::Status st = db_->Get({}, meta_, LostKey(group, topic, partition), &v);
    if (st.IsNotFound()) return uint64_t{0};
    if (!st.ok()) return Error(st, "reading a lost-records counter");
    return ParseU64(v);
  }
  std::lock_guard lock(apply_mu_);
  StoreCounters attributed;
  DF_ASSIGN_OR_RETURN(auto row,
                      ReadOffsetRowLocked(group, topic, partition, log_id, nullptr, &attributed));
  return row ? row->lost : 0;
}

Result<StoreCounters> RocksDbStore::LogCounters(const std::string& group, const std::string& topic,
                                                const std::string& log_id) {
  if (log_id.empty()) return Counters();
  StoreCounters total, all_rows;
  std::set<std::string> partitions_with_rows;  // of any log
  std::string prefix = IdentityPrefix(group, topic);
  std::string suffix = std::string(1, '\0') + log_id;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, meta_));
  std::string any = "i";
  any.push_back('\0');
  for (it->Seek(any); it->Valid() && it->key().starts_with(any); it->Next()) {
    std::string v = it->value().ToString();
    if (!IsOffsetRow(v)) continue;
    all_rows.stored += ParseU64(v.substr(8, 8));
    all_rows.dead_lettered += ParseU64(v.substr(16, 8));
    all_rows.filtered += FilteredOf(v);
    if (!it->key().starts_with(prefix)) continue;
    std::string_view rest = it->key().ToStringView().substr(prefix.size());
    // "<partition>\0<log id>": the log id follows the partition's digits.
    size_t nul = rest.find('\0');
    if (nul == std::string_view::npos) continue;
    partitions_with_rows.emplace(rest.substr(0, nul));
    if (rest.substr(nul) != suffix) continue;
    total.stored += ParseU64(v.substr(8, 8));
    total.dead_lettered += ParseU64(v.substr(16, 8));
    total.lost += ParseU64(v.substr(24, 8));
    total.filtered += FilteredOf(v);
  }
  if (!it->status().ok()) return Error(it->status(), "reading the offset rows");
  // Rows without identity that no log has taken yet are this log's (as CommittedOffset reads
  // them), with the stored/dead-lettered counts no row with identity accounts for.
  std::string legacy = OffsetKey(group, topic, 0);
  legacy.resize(legacy.size() - 1);  // "o\0<group>\0<topic>\0"
  bool untaken = false;
  for (it->Seek(legacy); it->Valid() && it->key().starts_with(legacy); it->Next()) {
    std::string partition(it->key().ToStringView().substr(legacy.size()));
    if (partitions_with_rows.count(partition) > 0) continue;
    untaken = true;
    std::string v;
    rocksdb::Status st = db_->Get({}, meta_, "l" + it->key().ToString().substr(1), &v);
    if (!st.ok() && !st.IsNotFound()) return Error(st, "reading a lost-records counter");
    if (st.ok()) total.lost += ParseU64(v);
  }
  if (!it->status().ok()) return Error(it->status(), "reading the offset rows");
  if (untaken) {
    std::lock_guard lock(apply_mu_);
    if (counters_.stored > all_rows.stored) total.stored += counters_.stored - all_rows.stored;
    if (counters_.dead_lettered > all_rows.dead_lettered) {
      total.dead_lettered += counters_.dead_lettered - all_rows.dead_lettered;
    }
    if (counters_.filtered > all_rows.filtered) {
      total.filtered += counters_.filtered - all_rows.filtered;
    }
  }
  DF_RETURN_IF_ERROR(AddReplays(topic, log_id, &total));
  return total;
}

}  // namespace dataforge
