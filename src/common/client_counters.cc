#include "common/client_counters.h"

namespace dataforge {

std::string_view ClientBackendName(ClientBackend backend) {
  switch (backend) {
    case ClientBackend::kKafka:
      return "kafka";
    case ClientBackend::kPostgresql:
      return "postgresql";
    case ClientBackend::kCassandra:
      return "cassandra";
  }
  return "unknown";
}

ClientCounters& ClientCounters::Get() {
  static ClientCounters counters;
  return counters;
}

}  // namespace dataforge
