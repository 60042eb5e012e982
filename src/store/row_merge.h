// Partial upserts (store.h RowWrite): the row a write leaves, from the stored row and the
// columns the write carries. Used by the RocksDB store (read-modify-write inside Apply's atomic
// batch) and by the Cassandra store (several writes to one key in one batch become one INSERT).
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace dataforge {

// The top-level members of the JSON object `json`, in order: each key as written (quotes and
// escapes included) and its value's text as written (numbers keep every digit). The text is
// scanned, not validated beyond its structure: rows are written by DataForge's JSON writers.
// InvalidArgument (saying where) when `json` is not one JSON object.
Status ObjectMembers(std::string_view json,
                     std::vector<std::pair<std::string_view, std::string_view>>* out);

// `base` with the members of `update` written over it: a column in both takes update's value in
// base's place; update's other columns follow in update's order. Values are copied as written.
// InvalidArgument naming which side is not a JSON object. Keys are compared as written (our
// writers escape a name the same way every time).
Result<std::string> MergeRowJson(std::string_view base, std::string_view update);

}  // namespace dataforge
