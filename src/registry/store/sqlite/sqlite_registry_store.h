// The registry's tables in the SQLite staging file (<data dir>/staging.db), beside the staging,
// run store and credential tables, on a connection of its own (WAL, synchronous=FULL: a
// registration is durable when the call returns; SqliteDb's 10 s busy timeout). Writes are
// BEGIN IMMEDIATE transactions, so two processes on one file take turns; reads are deferred
// transactions (one snapshot). kReadOnly creates neither the file nor the tables: while they are
// missing, reads see an empty registry and the next call looks again.
//
// Thread-safety: calls are serialized by mu_.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "registry/store/registry_store.h"
#include "staging/sqlite/sqlite_db.h"

namespace dataforge::registry {

class SqliteRegistryStore final : public RegistryStore {
 public:
  // Prepared statements by SQL text, kept for the life of the connection.
  using StatementCache = std::unordered_map<std::string, SqliteStatement>;

  static Result<std::unique_ptr<RegistryStore>> Open(const std::string& path, OpenMode mode);

  Status Read(const std::function<Status(RegistryTxn&)>& body) override;
  Status Write(std::string_view doing, const std::function<Status(RegistryTxn&)>& body) override;
  std::optional<uint64_t> Generation() override;

 private:
  SqliteRegistryStore(std::string path, bool read_only)
      : path_(std::move(path)), read_only_(read_only) {}
  // Whether the tables can be read; in kReadOnly opens the file once it and the tables exist.
  // REQUIRES: mu_ is held.
  Result<bool> ReadableLocked();

  const std::string path_;
  const bool read_only_;
  std::mutex mu_;
  std::unique_ptr<SqliteDb> db_;  // guarded by mu_; null in kReadOnly until the tables exist
  StatementCache statements_;     // guarded by mu_; declared after db_: finalized before it closes
  uint64_t own_writes_ = 0;       // guarded by mu_: commits of this store (data_version omits them)
};

}  // namespace dataforge::registry
