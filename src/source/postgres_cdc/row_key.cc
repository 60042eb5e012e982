#include "source/postgres_cdc/row_key.h"

#include <algorithm>

#include <fmt/format.h>

namespace dataforge {
namespace {

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

Result<std::vector<std::string>> ChooseRowKey(const TableKeyFacts& facts,
                                              const std::vector<std::string>& configured,
                                              const std::string& store_key_column) {
  const bool full = facts.replica_identity == 'f';
  // The columns PostgreSQL sends with a delete (and with an update that changes them).
  const std::vector<std::string> none;
  const std::vector<std::string>& identity = facts.replica_identity == 'd'   ? facts.primary_key
                                             : facts.replica_identity == 'i' ? facts.identity_index
                                                                             : none;
  if (!configured.empty()) {
    for (const auto& col : configured) {
      if (!Has(facts.columns, col)) {
        return Status::ConfigError(fmt::format(
            "postgres_cdc source: source.key_columns names column '{}' of {}, which has no such "
            "column (columns: {})",
            col, facts.table, fmt::join(facts.columns, ", ")));
      }
      if (!full && !Has(identity, col)) {
        return Status::ConfigError(fmt::format(
            "postgres_cdc source: source.key_columns names column '{}' of {}, which is not in its "
            "replica identity ({}), so a delete does not carry it: name those columns, or run "
            "ALTER TABLE {} REPLICA IDENTITY FULL",
            col, facts.table,
            identity.empty() ? "none" : fmt::format("{}", fmt::join(identity, ", ")), facts.table));
      }
    }
    return configured;
  }
  if (!store_key_column.empty() && Has(facts.columns, store_key_column) &&
      (full || Has(identity, store_key_column))) {
    return std::vector<std::string>{store_key_column};
  }
  if (!facts.primary_key.empty()) return facts.primary_key;
  if (facts.replica_identity == 'i') return std::vector<std::string>{};
  if (full) {
    std::string why = store_key_column.empty()
                          ? "the store's key (process.key_column) is not read from a path "
                            "data.<column>"
                          : fmt::format("it has no column '{}' (the store's key reads data.{})",
                                        store_key_column, store_key_column);
    return Status::ConfigError(fmt::format(
        "postgres_cdc source: table {} has REPLICA IDENTITY FULL and no primary key, and {}: name "
        "the columns that identify a store row with source.key_columns: {{{}: [COLUMN, ...]}}",
        facts.table, why, facts.table));
  }
  return Status::ConfigError(fmt::format(
      "postgres_cdc source: table {} has no primary key, so its updates and deletes cannot name a "
      "row: add a primary key, or ALTER TABLE {} REPLICA IDENTITY FULL",
      facts.table, facts.table));
}

}  // namespace dataforge
