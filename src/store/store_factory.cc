#include <fmt/format.h>

#include "common/redact.h"
#include "store/cassandra/cassandra_store.h"
#include "store/rocksdb/rocksdb_store.h"
#include "store/store.h"

namespace dataforge {

Result<std::unique_ptr<Store>> OpenStore(const std::string& url, OpenMode mode,
                                         const StoreOptions& options) {
  constexpr std::string_view kRocks = "rocksdb://";
  if (url.rfind(kRocks, 0) == 0 && url.size() > kRocks.size()) {
    return RocksDbStore::Open(url.substr(kRocks.size()), mode, options);
  }
  if (url.rfind("cassandra://", 0) == 0) {
    DF_ASSIGN_OR_RETURN(auto store, CassandraStore::Open(url, mode, options));
    return std::unique_ptr<Store>(std::move(store));
  }
  return Status::ConfigError(fmt::format(
      "store url '{}': unsupported; use rocksdb://DIR or cassandra://host[:port][/keyspace]",
      Redact(url)));
}

}  // namespace dataforge
