#include "store/store.h"

namespace dataforge {

StoreOptions StoreOptionsFor(const StoreConfig& config) {
  StoreOptions o;
  o.sync = config.sync;
  o.cassandra = config.cassandra;
  return o;
}

}  // namespace dataforge
