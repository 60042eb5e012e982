// Query parameters of the pipeline endpoints: each known, each well-formed, or a 400 naming the
// parameter and what was expected. Errors are InvalidArgument (ErrorFromStatus: 400).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "serve/http/api.h"

namespace dataforge::rest {

inline constexpr size_t kDefaultLimit = 100;
inline constexpr size_t kMaxLimit = 10'000;

// InvalidArgument "unknown query parameter 'x'; GET /v1/runs takes only dag, limit, cursor" for
// a parameter not in `known` ("takes none" when empty).
Status CheckKnownParams(const http::ApiRequest& req, std::initializer_list<std::string_view> known);

// `limit`: a whole number from 1 to kMaxLimit; kDefaultLimit when absent. InvalidArgument
// "limit=0: expected a whole number from 1 to 10000 (default 100)" (as /v1/tables says it).
Result<size_t> LimitParam(const http::ApiRequest& req);
// The same with another range: 1 to `max_limit`, `default_limit` when absent.
Result<size_t> LimitParam(const http::ApiRequest& req, size_t default_limit, size_t max_limit);

// A decimal integer >= `min` (no sign, no spaces); InvalidArgument "<what>: expected a whole
// number >= <min>" (what: "offset=-1", "partition 'x' in the path").
Result<int64_t> ParseIntParam(std::string_view what, std::string_view text, int64_t min);

// Opaque cursors: integers behind a kind tag, URL-safe base64; InvalidArgument "cursor is not
// valid for this endpoint (...)" for anything else (another endpoint's cursor included).
std::string EncodeCursor(std::string_view kind, const std::vector<int64_t>& fields);
Result<std::vector<int64_t>> DecodeCursor(std::string_view kind, std::string_view cursor,
                                          size_t fields);

}  // namespace dataforge::rest
