// The opaque cursor of GET /v1/tables/{table}/rows: base64url (no padding) of
//   byte 1 (version) | varint n | table (n bytes) | varint m | last key (m bytes)
// The next page is Store::Scan(table, start_after = last key): keyset paging, so a cursor stays
// valid while rows are written (store.h Scan: pages neither skip nor repeat a row that stays).
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dataforge::rest {

std::string EncodeCursor(std::string_view table, std::string_view last_key);

// The last key of a cursor made for `table`; nullopt for anything else (bad base64url, another
// version, trailing bytes, another table's cursor).
std::optional<std::string> DecodeCursor(std::string_view cursor, std::string_view table);

}  // namespace dataforge::rest
