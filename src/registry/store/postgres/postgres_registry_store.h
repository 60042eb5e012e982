// The registry's tables in a PostgreSQL staging database (dataforge.registry_*, staging schema
// migration 4, staging/postgres/postgres_schema.cc), shared by every server on the database, so
// they share ids.
//
// Write() runs its body in one transaction after pg_advisory_xact_lock(kRegistryLock): writers on
// every server take turns, so two servers registering the same schema at once get one id (and
// the fingerprint's unique index would refuse a second row even without the lock). Read() runs in
// a REPEATABLE READ READ ONLY transaction. Every call runs in a PgSession that reconnects and
// retries for at most kMaxWaitUs; a write whose COMMIT was lost runs again, and the registry's
// writes are idempotent when redone (registering finds the schema it registered).
//
// Generation() is one row every write increments, so the registry's reads by id are cached
// between writes by any server (one round trip instead of a transaction of four).
//
// kReadOnly migrates nothing: while the tables are missing reads see an empty registry.
//
// Thread-safety: one connection; calls are serialized by the session's mutex.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "pg/pg_session.h"
#include "registry/store/registry_store.h"

namespace dataforge::registry {

class PostgresRegistryStore final : public RegistryStore {
 public:
  static constexpr int64_t kMaxWaitUs = 10'000'000;
  static constexpr int64_t kRegistryLock = 8151700017;

  static Result<std::unique_ptr<RegistryStore>> Open(const std::string& url, OpenMode mode);

  Status Read(const std::function<Status(RegistryTxn&)>& body) override;
  Status Write(std::string_view doing, const std::function<Status(RegistryTxn&)>& body) override;
  // dataforge.registry_generation, which every Write() increments in its transaction.
  std::optional<uint64_t> Generation() override;

 private:
  explicit PostgresRegistryStore(bool read_only) : read_only_(read_only) {}
  Result<bool> Readable(PgConnection& c);

  const bool read_only_;
  std::atomic<bool> tables_{false};
  std::unique_ptr<PgSession> session_;
};

}  // namespace dataforge::registry
