// MD5 digests for the CQL endpoint's stable ids: prepared statement ids (like Cassandra's),
// schema versions, host and table ids. Not for security. Thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace dataforge::cql {

// The 16-byte MD5 digest of `data` (OpenSSL EVP).
std::string Md5(std::string_view data);

// A name-based (version 3) uuid from the MD5 of `data`, as 36-character lower-case text.
std::string Md5Uuid(std::string_view data);

}  // namespace dataforge::cql
