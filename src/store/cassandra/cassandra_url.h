// Parses a cassandra:// store URL (docs/cassandra.md):
//
//   cassandra://[user:password@]host[:port][,host[:port]...][/keyspace][?option=value&...]
//
// Port defaults to 9042; IPv6 hosts are written [::1]:9042; user and password may be
// percent-encoded. Options override StoreOptions::cassandra (the pipeline file's store:
// section): consistency, local_dc, tls, tls_ca, tls_cert, tls_key, tls_verify_hostname,
// connections, max_in_flight, request_timeout_ms, connect_timeout_ms, max_retries.
// `${ENV}` references are resolved by the config layer before this runs.
// Pure function; thread-safe.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "store/store.h"

namespace dataforge {

struct CassandraUrl {
  std::vector<std::pair<std::string, int>> hosts;  // (host, port), in URL order
  std::string keyspace;                            // "" when the URL names none
  CassandraOptions options;                        // the defaults with the URL's overrides
};

// ConfigError, one line, naming the URL (password redacted), the bad part and the fix.
Result<CassandraUrl> ParseCassandraUrl(const std::string& url, const CassandraOptions& defaults);

// True for names Cassandra accepts unquoted and keeps as written: [a-z][a-z0-9_]{0,47}.
bool IsPlainCqlIdentifier(const std::string& name);

}  // namespace dataforge
