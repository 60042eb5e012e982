// Which columns of a captured table make its record key. The relay partitions the log by record
// key, so every change that lands on one store row must have the same key to stay in commit
// order: the key is built from the columns that name a store row, not from whatever the
// source's replica identity happens to be (under REPLICA IDENTITY FULL that is every column, and
// an UPDATE would become a delete of one key and an insert of another, on different partitions).
//
// Pure function; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace dataforge {

// What the catalog says about one table (pg_class.relreplident, pg_attribute, pg_index).
struct TableKeyFacts {
  std::string table;                        // "schema.name", for messages
  char replica_identity = 'd';              // 'd' default, 'n' nothing, 'f' full, 'i' index
  std::vector<std::string> columns;         // every column, in order
  std::vector<std::string> primary_key;     // empty = none
  std::vector<std::string> identity_index;  // the REPLICA IDENTITY USING INDEX columns
};

// The record key columns of a table, in this order of choice:
//  1. `configured` (source.key_columns), when not empty: each must be a column, and unless the
//     identity is FULL one of the replica identity's columns (PostgreSQL sends only those with a
//     delete);
//  2. `store_key_column` (derived from process.key_column, "" = none), when the table has it
//     and it is in the replica identity (any column under FULL);
//  3. the primary key;
//  4. REPLICA IDENTITY USING INDEX: {} (the server marks the index columns itself).
// Otherwise ConfigError (exit 2), one line naming the table and what to set.
Result<std::vector<std::string>> ChooseRowKey(const TableKeyFacts& facts,
                                              const std::vector<std::string>& configured,
                                              const std::string& store_key_column);

}  // namespace dataforge
