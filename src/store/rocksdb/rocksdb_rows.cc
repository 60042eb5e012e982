// RocksDbStore: a batch's rows as RocksDB writes. Rows go to their tables (RowWrite::table); a
// row that sets every column of its table's schema, a complete row and a delete are written
// without reading the stored row; any other upsert is merged into it (store/row_merge.h), and
// the writes of one key in one batch compose in order.
#include <algorithm>
#include <map>
#include <unordered_map>

#include <fmt/format.h>

#include "store/rocksdb/rocksdb_keys.h"
#include "store/rocksdb/rocksdb_store.h"
#include "store/row_merge.h"

namespace dataforge {

using rocksdb_keys::RowPrefix;

namespace {

// True when the `n` names name_at(0), ..., name_at(n - 1) cover every column of `columns` (the
// table's schema): a write of them leaves nothing of the stored row, so it is put without
// reading it. `seen` is scratch.
template <typename NameAt>
bool NamesEveryColumn(size_t n, NameAt name_at, const RocksDbStore::ColumnSet& columns,
                      std::vector<bool>* seen) {
  if (columns.empty() || n < columns.size()) return false;
  seen->assign(columns.size(), false);
  size_t found = 0;
  for (size_t j = 0; j < n; ++j) {
    const std::string_view name = name_at(j);
    size_t i = j;
    // Rows usually list the columns in the schema's order: try the name's own position first.
    if (j >= columns.names.size() || columns.names[j] != name) {
      auto it = columns.position.find(name);
      if (it == columns.position.end()) continue;
      i = static_cast<size_t>(it->second);
    }
    if (!(*seen)[i]) ++found;
    (*seen)[i] = true;
  }
  return found == columns.size();
}

// NamesEveryColumn over the members of `row_json` (parsed into `members`).
bool SetsEveryColumn(std::string_view row_json, const RocksDbStore::ColumnSet& columns,
                     std::vector<std::pair<std::string_view, std::string_view>>* members,
                     std::vector<bool>* seen) {
  if (columns.empty() || !ObjectMembers(row_json, members).ok()) return false;
  auto name_at = [&](size_t j) {
    const std::string_view quoted = (*members)[j].first;
    return quoted.substr(1, quoted.size() - 2);
  };
  return NamesEveryColumn(members->size(), name_at, columns, seen);
}

// NamesEveryColumn over a row's column list (RowWrite::columns).
bool ListsEveryColumn(const std::vector<std::string>& names, const RocksDbStore::ColumnSet& columns,
                      std::vector<bool>* seen) {
  auto name_at = [&](size_t j) { return std::string_view(names[j]); };
  return NamesEveryColumn(names.size(), name_at, columns, seen);
}

}  // namespace

Result<std::shared_ptr<const RocksDbStore::ColumnSet>> RocksDbStore::TableColumns(
    const std::string& table) {
  std::lock_guard lock(columns_mu_);
  if (auto it = columns_.find(table); it != columns_.end()) return it->second;
  auto set = std::make_shared<ColumnSet>();
  auto schema = DescribeTable(table);
  if (schema.ok()) {
    for (const auto& c : schema->columns) {
      if (set->position.emplace(c.name, set->names.size()).second) set->names.push_back(c.name);
    }
  } else if (schema.status().code() != StatusCode::kNotFound) {
    return schema.status();
  }
  columns_[table] = set;
  return std::shared_ptr<const ColumnSet>(set);
}

Result<std::vector<std::pair<std::string, RocksDbStore::RowRefs>>> RocksDbStore::RowsByTable(
    const StoreBatch& batch) {
  std::vector<std::pair<std::string, RowRefs>> out;
  bool other = std::any_of(batch.rows.begin(), batch.rows.end(), [&](const RowWrite& r) {
    return !r.table.empty() && r.table != batch.table;
  });
  if (!other) return out;
  std::map<std::string, size_t> index;
  for (const RowWrite& r : batch.rows) {
    const std::string& table = r.table.empty() ? batch.table : r.table;
    auto [it, fresh] = index.try_emplace(table, out.size());
    if (fresh) {
      if (table != batch.table) {
        Status exists = CheckTableExists(table);
        if (exists.code() == StatusCode::kNotFound) {
          return Status::NotFound(fmt::format(
              "row '{}' goes to table {}, which does not exist in the store; create it first "
              "(EnsureTable: process.outputs and process.aggregates tables are created at start)",
              r.key, table));
        }
        DF_RETURN_IF_ERROR(exists);
      }
      out.emplace_back(table, RowRefs());
    }
    out[it->second].second.push_back(&r);
  }
  return out;
}

RocksDbStore::RowRefs RocksDbStore::AllRows(const StoreBatch& batch) {
  RowRefs rows;
  rows.reserve(batch.rows.size());
  for (const RowWrite& r : batch.rows) rows.push_back(&r);
  return rows;
}

Status RocksDbStore::AddRows(const std::string& table, const RowRefs& rows, bool truncated,
                             const ColumnSet* columns, rocksdb::WriteBatch* wb) const {
  const std::string prefix = RowPrefix(table);
  // A write that needs nothing of the row before it: a delete, a complete row, a row that sets
  // every column of the table's schema.
  std::vector<bool> blind(rows.size());
  std::vector<std::pair<std::string_view, std::string_view>> members;
  std::vector<bool> seen;
  // The last column list a row vouched for (RowWrite::columns) and what NamesEveryColumn said.
  const std::vector<std::string>* listed = nullptr;
  bool listed_sets_all = false;
  auto sets_every_column = [&](const RowWrite& r) {
    if (columns == nullptr) return false;
    if (r.columns == nullptr) return SetsEveryColumn(r.row_json, *columns, &members, &seen);
    if (r.columns.get() != listed) {
      listed = r.columns.get();
      listed_sets_all = ListsEveryColumn(*listed, *columns, &seen);
    }
    return listed_sets_all;
  };
  for (size_t i = 0; i < rows.size(); ++i) {
    const RowWrite& r = *rows[i];
    blind[i] = r.deleted || r.complete || sets_every_column(r);
  }
  // Each key's row after the batch's writes so far, in first-write order.
  struct KeyState {
    std::string_view key;
    bool exists = false;
    const std::string* written = nullptr;  // the row is this write's row_json as it is...
    std::string merged;                    // ...or, when `written` is null, this
    bool read = false;  // its first write is a partial upsert: the stored row is needed
  };
  std::vector<KeyState> states;
  std::unordered_map<std::string_view, size_t> index;
  std::vector<size_t> slot(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const RowWrite& r = *rows[i];
    auto [it, fresh] = index.try_emplace(r.key, states.size());
    if (fresh) {
      states.emplace_back();
      states.back().key = r.key;
      // After a truncate in the same batch the table holds no row to merge into.
      states.back().read = !blind[i] && !truncated;
    }
    slot[i] = it->second;
  }
  // The stored rows that partial upserts merge into, in one MultiGet.
  std::vector<std::string> keys;
  std::vector<size_t> read;
  for (size_t k = 0; k < states.size(); ++k) {
    if (!states[k].read) continue;
    keys.push_back(prefix + std::string(states[k].key));
    read.push_back(k);
  }
  if (!keys.empty()) {
    std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
    std::vector<rocksdb::PinnableSlice> values(keys.size());
    std::vector<rocksdb::Status> statuses(keys.size());
    db_->MultiGet({}, rows_, keys.size(), slices.data(), values.data(), statuses.data());
    for (size_t j = 0; j < keys.size(); ++j) {
      KeyState& state = states[read[j]];
      if (statuses[j].ok()) {
        state.exists = true;
        state.merged.assign(values[j].data(), values[j].size());
      } else if (!statuses[j].IsNotFound()) {
        return Error(statuses[j],
                     fmt::format("reading row '{}' of {} to update it", state.key, table));
      }
    }
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    const RowWrite& r = *rows[i];
    KeyState& state = states[slot[i]];
    if (r.deleted) {
      state.exists = false;
    } else if (blind[i] || !state.exists) {
      state.exists = true;
      state.written = &r.row_json;
    } else {
      auto merged = MergeRowJson(state.written ? *state.written : state.merged, r.row_json);
      if (!merged.ok()) {
        return Status(merged.status().code(), fmt::format("store {}: table {} row '{}': {}", dir_,
                                                          table, r.key, merged.status().message()));
      }
      state.merged = std::move(merged).value();
      state.written = nullptr;
    }
  }
  // In key order: RocksDB's memtable keeps the skip-list position of its last insert (its
  // "splice"), so neighbouring keys insert at a fraction of the cost of random ones. Each key
  // is written once, so the order within the batch does not change what it stores.
  std::vector<const KeyState*> ordered;
  ordered.reserve(states.size());
  for (const KeyState& state : states) ordered.push_back(&state);
  std::sort(ordered.begin(), ordered.end(),
            [](const KeyState* a, const KeyState* b) { return a->key < b->key; });
  std::string key;
  for (const KeyState* s : ordered) {
    const KeyState& state = *s;
    key = prefix;
    key += state.key;
    if (state.exists) {
      wb->Put(rows_, key, state.written ? *state.written : state.merged);
    } else {
      wb->Delete(rows_, key);
    }
  }
  return Status::OK();
}

}  // namespace dataforge
