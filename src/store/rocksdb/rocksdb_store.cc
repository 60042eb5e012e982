#include "store/rocksdb/rocksdb_store.h"

#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <simdjson.h>
#include <stdlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdarg>
#include <cstdio>

#include "common/json_writer.h"
#include "store/rocksdb/rocksdb_keys.h"
#include "store/rocksdb/wal_page_cache.h"

namespace dataforge {
namespace {

using rocksdb_keys::BigEndian;
using rocksdb_keys::FromBigEndian;
using rocksdb_keys::KeyspaceKey;
using rocksdb_keys::ParseU64;
using rocksdb_keys::RowPrefix;
using rocksdb_keys::SchemaKey;
using rocksdb_keys::TableKey;
using rocksdb_keys::U64;

constexpr char kStoredKey[] = "c\0stored";
constexpr char kDeadKey[] = "c\0dead_lettered";
constexpr char kLostKey[] = "c\0lost";
constexpr char kFilteredKey[] = "c\0filtered";
const std::string kStored(kStoredKey, sizeof kStoredKey - 1);
const std::string kDead(kDeadKey, sizeof kDeadKey - 1);
const std::string kLost(kLostKey, sizeof kLostKey - 1);
const std::string kFiltered(kFilteredKey, sizeof kFilteredKey - 1);

// RocksDB's own log goes to our debug log (--log-level debug), errors only, not to a LOG file in
// the store: a LOG file on a full disk makes Debian's RocksDB build (assertions on) abort on its
// next line. Every RocksDB failure that matters reaches us as a Status from Write() or Open().
class SpdlogLogger final : public rocksdb::Logger {
 public:
  SpdlogLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::ERROR_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < rocksdb::InfoLogLevel::ERROR_LEVEL) return;  // errors only, whatever RocksDB sets
    char buf[1024];
    vsnprintf(buf, sizeof buf, format, ap);
    spdlog::debug("rocksdb: {}", buf);
  }
};

rocksdb::Options BaseOptions() {
  rocksdb::Options o;
  static auto logger = std::make_shared<SpdlogLogger>();
  o.info_log = logger;
  o.info_log_level = rocksdb::InfoLogLevel::ERROR_LEVEL;  // DB::Open applies this to the logger
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  o.max_background_jobs = 2;
  o.avoid_flush_during_shutdown =
      true;                        // the WAL holds everything; no flush on a full disk at exit
  o.max_bgerror_resume_count = 0;  // no automatic resume after a disk error: we stop and report
  // Memtables: most of a long run's peak RSS. Up to two per column family are in memory (one
  // written, one flushing), allocated from the writing thread's malloc arena, which keeps what
  // they free (common/allocator.h). 64 MiB memtables (RocksDB's default) peaked at 203-207 MB
  // over 4,000,000 records (pipeline_bench); 32 MiB at 164-167 MB, at the same speed once eight
  // flushes, not four, start a level-0 compaction, so each moves as many bytes as before (with
  // four the run was 8-16% slower). A point read then checks the Bloom filters of up to eight
  // level-0 files instead of four. docs/benchmarks.md "Issue 19: peak RSS and the memtables".
  o.write_buffer_size = 32 << 20;
  o.level0_file_num_compaction_trigger = 8;
  o.compression = rocksdb::kLZ4Compression;
  rocksdb::BlockBasedTableOptions t;
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}

// The "<table>\0" prefix of a rows key. As the memtable's insert-hint extractor, it keeps one
// skip-list position per table, which the next insert of that table starts from. AddRows writes
// each table's keys in order, so an insert only walks the nodes between its key and the one
// before it, not the whole list. Memtable only: nothing on disk depends on it.
// A key that ends at its "\0" (the prefix alone) is outside the domain: a truncate's range
// deletion starts at one, and RocksDB 7.8 keeps one map of hints for a memtable's point and
// range-deletion lists, so a hint made by one list must never reach the other (its assertion
// fails in FindSpliceForLevel). Such keys, and a row with an empty key, insert without a hint.
class TablePrefix : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "dataforge.TablePrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return {key.data(), PrefixSize(key)};
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    size_t n = PrefixSize(key);
    return n > 0 && n < key.size();
  }

 private:
  static size_t PrefixSize(const rocksdb::Slice& key) {
    const void* end = std::memchr(key.data(), '\0', key.size());
    return end == nullptr ? 0 : static_cast<size_t>(static_cast<const char*>(end) - key.data()) + 1;
  }
};

}  // namespace

Result<std::unique_ptr<Store>> RocksDbStore::Open(const std::string& dir, OpenMode mode,
                                                  const StoreOptions& options) {
  std::unique_ptr<RocksDbStore> s(new RocksDbStore());
  s->dir_ = dir;
  s->mode_ = mode;
  s->options_ = options;
  rocksdb::Options opts = BaseOptions();
  rocksdb::ColumnFamilyOptions cf_opts(opts);
  rocksdb::ColumnFamilyOptions rows_opts(opts);
  rows_opts.memtable_insert_with_hint_prefix_extractor = std::make_shared<TablePrefix>();
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, cf_opts}, {"rows", rows_opts}, {"deadletters", cf_opts}};
  rocksdb::DB* db = nullptr;
  rocksdb::Status st;
  if (mode == OpenMode::kReadWrite) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);  // else RocksDB logs an error for a new store
    opts.env = WalCacheDroppingEnv();              // synced WAL pages leave the page cache
    st = rocksdb::DB::Open(opts, dir, cfs, &s->handles_, &db);
    if (!st.ok()) {
      std::string hint = st.ToString().find("lock") != std::string::npos
                             ? " (is another dataforge running on this data dir?)"
                             : "";
      return Status::IOError(
          fmt::format("cannot open the store {}: {}{}", dir, st.ToString(), hint));
    }
  } else {
    if (!std::filesystem::exists(dir + "/CURRENT")) {
      return Status::NotFound(fmt::format("no store at {} (run `dataforge run` first)", dir));
    }
    char tmpl[] = "/tmp/dataforge-secondary-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      return Status::IOError(
          fmt::format("cannot create a temporary directory: {}", strerror(errno)));
    }
    s->secondary_dir_ = tmpl;
    opts.max_open_files = -1;
    opts.info_log_level = rocksdb::InfoLogLevel::ERROR_LEVEL;
    st = rocksdb::DB::OpenAsSecondary(opts, dir, s->secondary_dir_, cfs, &s->handles_, &db);
    if (!st.ok()) {
      return Status::IOError(
          fmt::format("cannot open the store {} for reading: {}", dir, st.ToString()));
    }
  }
  s->db_.reset(db);
  s->meta_ = s->handles_[0];
  s->rows_ = s->handles_[1];
  s->dead_ = s->handles_[2];
  DF_RETURN_IF_ERROR(s->Refresh());
  DF_RETURN_IF_ERROR(s->LoadMeta());
  return std::unique_ptr<Store>(std::move(s));
}

RocksDbStore::~RocksDbStore() {
  if (db_) {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    db_.reset();
  }
  if (!secondary_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(secondary_dir_, ec);
  }
}

Status RocksDbStore::Error(const rocksdb::Status& s, const std::string& what) const {
  StatusCode code = s.IsNoSpace() || s.ToString().find("No space") != std::string::npos
                        ? StatusCode::kResourceExhausted
                        : StatusCode::kIOError;
  std::string hint = code == StatusCode::kResourceExhausted
                         ? " (the disk is full: free space, then run again)"
                         : "";
  return Status(code, fmt::format("store {}: {}: {}{}", dir_, what, s.ToString(), hint));
}

Status RocksDbStore::LoadMeta() {
  std::lock_guard lock(apply_mu_);
  std::string v;
  if (db_->Get({}, meta_, kStored, &v).ok()) counters_.stored = ParseU64(v);
  if (db_->Get({}, meta_, kDead, &v).ok()) counters_.dead_lettered = ParseU64(v);
  if (db_->Get({}, meta_, kLost, &v).ok()) counters_.lost = ParseU64(v);
  counters_.filtered = 0;  // a store written before `filtered` existed has none
  if (db_->Get({}, meta_, kFiltered, &v).ok()) counters_.filtered = ParseU64(v);
  counters_.replayed = 0;
  if (db_->Get({}, meta_, rocksdb_keys::ReplayedCounterKey(), &v).ok()) {
    counters_.replayed = ParseU64(v);
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, dead_));
  it->SeekToLast();
  next_dead_id_ = it->Valid() ? FromBigEndian(it->key().ToStringView()) + 1 : 1;
  return Status::OK();
}

Status RocksDbStore::Refresh() {
  if (mode_ != OpenMode::kReadOnly) return Status::OK();
  rocksdb::Status st = db_->TryCatchUpWithPrimary();
  if (!st.ok()) return Error(st, "catching up with the running pipeline");
  return LoadMeta();
}

Result<std::string> RocksDbStore::Compact() {
  if (mode_ != OpenMode::kReadWrite) {
    return Status::FailedPrecondition("the store is open read-only: Compact refused");
  }
  auto size = [&] {
    uint64_t total = 0;
    for (auto* h : handles_) {
      uint64_t v = 0;
      if (db_->GetIntProperty(h, "rocksdb.total-sst-files-size", &v)) total += v;
    }
    return total;
  };
  uint64_t before = size();
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (auto* h : handles_) {
    rocksdb::Status st = db_->CompactRange(options, h, nullptr, nullptr);
    if (!st.ok()) return Error(st, "compacting");
  }
  return fmt::format("store compacted: {} -> {} bytes of table files", before, size());
}

Status RocksDbStore::Apply(const StoreBatch& batch) {
  if (mode_ != OpenMode::kReadWrite) {
    return Status::FailedPrecondition("the store is open read-only: Apply refused");
  }
  // Several tables (RowWrite::table): each table's rows apart, all in the one write batch.
  DF_ASSIGN_OR_RETURN(auto by_table, RowsByTable(batch));
  const bool blind = std::all_of(batch.rows.begin(), batch.rows.end(),
                                 [](const RowWrite& r) { return r.deleted || r.complete; });
  if (!batch.counted && !batch.truncate && batch.truncate_also.empty() &&
      batch.dead_letters.empty() && batch.offsets.empty() && blind && by_table.empty()) {
    return ApplyUncounted(batch);
  }
  std::vector<std::shared_ptr<const ColumnSet>> columns(std::max<size_t>(by_table.size(), 1));
  if (!blind) {
    if (by_table.empty()) {
      DF_ASSIGN_OR_RETURN(columns[0], TableColumns(batch.table));
    } else {
      for (size_t t = 0; t < by_table.size(); ++t) {
        DF_ASSIGN_OR_RETURN(columns[t], TableColumns(by_table[t].first));
      }
    }
  }
  std::lock_guard lock(apply_mu_);
  if (!failed_.ok()) return failed_;
  rocksdb::WriteBatch wb;
  std::vector<std::string> emptied = batch.truncate_also;  // emptied before the batch's writes
  if (batch.truncate) emptied.push_back(batch.table);
  for (const std::string& table : emptied) {
    std::string prefix = RowPrefix(table), upper = prefix;
    upper.back() = '\x01';  // the first key after every "<table>\0..." key
    wb.DeleteRange(rows_, prefix, upper);
  }
  auto is_emptied = [&](const std::string& table) {
    return std::find(emptied.begin(), emptied.end(), table) != emptied.end();
  };
  if (by_table.empty()) {
    DF_RETURN_IF_ERROR(
        AddRows(batch.table, AllRows(batch), is_emptied(batch.table), columns[0].get(), &wb));
  } else {
    for (size_t t = 0; t < by_table.size(); ++t) {
      const auto& [table, rows] = by_table[t];
      DF_RETURN_IF_ERROR(AddRows(table, rows, is_emptied(table), columns[t].get(), &wb));
    }
  }
  uint64_t id = next_dead_id_;
  // The letters' log (as Cassandra's keys name it): a replay counts against that log's counters.
  std::string log_id;
  for (const PartitionOffset& o : batch.offsets) {
    if (!o.log_id.empty()) log_id = o.log_id;
  }
  for (const auto& d : batch.dead_letters) {
    std::string json = JsonObjectWriter()
                           .String("stage", d.stage)
                           .String("reason", d.reason)
                           .String("location", d.location)
                           .String("payload", d.payload)
                           .Int("at_us", d.at_us)
                           .String("key", d.key)
                           .String("log_id", log_id)
                           .Finish();
    wb.Put(dead_, BigEndian(id++), json);
  }
  uint64_t lost = 0;
  DF_RETURN_IF_ERROR(AddOffsetsLocked(batch, &wb, &lost));
  StoreCounters next = counters_;
  if (batch.counted) {
    // Rows of other tables (process.outputs, aggregates) derive from the same records: only the
    // batch's own table counts (store.h StoreCounters).
    uint64_t own = by_table.empty() ? batch.rows.size() : 0;
    for (const auto& [table, rows] : by_table) {
      if (table == batch.table) own = rows.size();
    }
    next.stored += own + (batch.truncate ? 1 : 0);
    next.dead_lettered += batch.dead_letters.size() - batch.stage_letters;
    next.lost += lost;
    uint64_t filtered = 0;
    for (const PartitionOffset& o : batch.offsets) filtered += o.filtered;
    next.filtered += filtered;
    wb.Put(meta_, kStored, U64(next.stored));
    wb.Put(meta_, kDead, U64(next.dead_lettered));
    if (lost > 0) wb.Put(meta_, kLost, U64(next.lost));
    if (filtered > 0) wb.Put(meta_, kFiltered, U64(next.filtered));
  }
  if (!batch.rows.empty() && by_table.empty()) wb.Put(meta_, TableKey(batch.table), "");
  for (const auto& [table, rows] : by_table) wb.Put(meta_, TableKey(table), "");
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  rocksdb::Status st = db_->Write(wo, &wb);
  if (!st.ok()) {
    failed_ = Error(st, fmt::format("writing a batch of {} rows", batch.rows.size()));
    return failed_;
  }
  counters_ = next;
  next_dead_id_ = id;
  return Status::OK();
}

// Rows only, not counted: no shared state to update, so concurrent callers (the CQL endpoint's
// workers) go to RocksDB together and share its group commit (one WAL fsync for many writes).
Status RocksDbStore::ApplyUncounted(const StoreBatch& batch) {
  {
    std::lock_guard lock(apply_mu_);
    if (!failed_.ok()) return failed_;
  }
  rocksdb::WriteBatch wb;
  DF_RETURN_IF_ERROR(AddRows(batch.table, AllRows(batch), false, nullptr, &wb));
  if (!batch.rows.empty()) wb.Put(meta_, TableKey(batch.table), "");
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  rocksdb::Status st = db_->Write(wo, &wb);
  if (!st.ok()) {
    std::lock_guard lock(apply_mu_);
    failed_ = Error(st, fmt::format("writing a batch of {} rows", batch.rows.size()));
    return failed_;
  }
  return Status::OK();
}

Result<std::string> RocksDbStore::Get(const std::string& table, const std::string& key) {
  std::string v;
  rocksdb::Status st = db_->Get({}, rows_, RowPrefix(table) + key, &v);
  if (st.IsNotFound()) {
    return Status::NotFound(fmt::format("no row with key '{}' in table {}", key, table));
  }
  if (!st.ok()) return Error(st, "reading a row");
  return v;
}

std::unique_ptr<RocksDbStore::TableCursor> RocksDbStore::OpenTable(const std::string& table) {
  auto c = std::make_unique<TableCursor>();
  c->prefix = RowPrefix(table);
  c->upper = c->prefix;
  c->upper.back() = '\x01';  // the first key after every "<table>\0..." key
  c->upper_slice = rocksdb::Slice(c->upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &c->upper_slice;
  c->it.reset(db_->NewIterator(ro, rows_));
  return c;
}

Status RocksDbStore::Scan(const std::string& table, const std::string& start_after, size_t limit,
                          const std::function<bool(const std::string&, const std::string&)>& fn) {
  DF_RETURN_IF_ERROR(CheckTableExists(table));
  auto c = OpenTable(table);
  size_t n = 0;
  for (c->it->Seek(c->prefix + start_after); c->it->Valid() && (limit == 0 || n < limit);
       c->it->Next()) {
    std::string key(c->it->key().data() + c->prefix.size(), c->it->key().size() - c->prefix.size());
    if (!start_after.empty() && key == start_after) continue;
    ++n;
    if (!fn(key, c->it->value().ToString())) break;
  }
  if (!c->it->status().ok()) return Error(c->it->status(), "scanning " + table);
  return Status::OK();
}

Status RocksDbStore::CheckTableExists(const std::string& table) {
  std::string v;
  for (const std::string& key : {TableKey(table), SchemaKey(table)}) {
    rocksdb::Status st = db_->Get({}, meta_, key, &v);
    if (st.ok()) return Status::OK();
    if (!st.IsNotFound()) return Error(st, "reading the table catalog");
  }
  return Status::NotFound(fmt::format("no table {} in the store", table));
}

Result<uint64_t> RocksDbStore::Count(const std::string& table) {
  DF_RETURN_IF_ERROR(CheckTableExists(table));
  auto c = OpenTable(table);
  uint64_t n = 0;
  for (c->it->Seek(c->prefix); c->it->Valid(); c->it->Next()) ++n;
  if (!c->it->status().ok()) return Error(c->it->status(), "counting " + table);
  return n;
}

Result<std::vector<std::string>> RocksDbStore::ListTables() {
  // Tables that got rows, and tables that only have a schema (created empty, e.g. over CQL).
  std::set<std::string> names;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, meta_));
  for (const std::string& prefix : {TableKey(""), SchemaKey("")}) {
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      names.emplace(it->key().data() + prefix.size(), it->key().size() - prefix.size());
    }
  }
  if (!it->status().ok()) return Error(it->status(), "listing tables");
  return std::vector<std::string>(names.begin(), names.end());
}

Result<StoreCounters> RocksDbStore::Counters() {
  std::lock_guard lock(apply_mu_);
  StoreCounters c = counters_;
  c.stored += c.replayed;
  c.dead_lettered -= std::min(c.dead_lettered, c.replayed);
  return c;
}

Status RocksDbStore::ListDeadLetters(uint64_t after_id, size_t limit,
                                     std::vector<StoredDeadLetter>* out) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, dead_));
  simdjson::dom::parser parser;
  size_t n = 0;
  for (it->Seek(BigEndian(after_id + 1)); it->Valid() && (limit == 0 || n < limit);
       it->Next(), ++n) {
    StoredDeadLetter d;
    d.id = FromBigEndian(it->key().ToStringView());
    simdjson::dom::element e;
    std::string json = it->value().ToString();
    if (parser.parse(json).get(e) != simdjson::SUCCESS) {
      return Status::Corruption(fmt::format("store {}: dead letter {} is not JSON", dir_, d.id));
    }
    std::string_view sv;
    if (e["stage"].get(sv) == simdjson::SUCCESS) d.letter.stage = sv;
    if (e["reason"].get(sv) == simdjson::SUCCESS) d.letter.reason = sv;
    if (e["location"].get(sv) == simdjson::SUCCESS) d.letter.location = sv;
    if (e["payload"].get(sv) == simdjson::SUCCESS) d.letter.payload = sv;
    int64_t at = 0;
    if (e["at_us"].get(at) == simdjson::SUCCESS) d.letter.at_us = at;
    if (e["key"].get(sv) == simdjson::SUCCESS) d.letter.key = sv;
    DF_ASSIGN_OR_RETURN(d.replay, ReadReplayMarker(d.id));
    out->push_back(std::move(d));
  }
  return Status::OK();
}

}  // namespace dataforge
