#include <fmt/format.h>

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
    return Status::ConfigError(fmt::format(
        "store url '{}': the Cassandra store is not built yet; use rocksdb://DIR", url));
  }
  return Status::ConfigError(fmt::format("store url '{}': unsupported; use rocksdb://DIR", url));
}

}  // namespace dataforge
