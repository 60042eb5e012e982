// Percent-decoding of request targets (RFC 3986 section 2.1) for the HTTP server and its router.
// Stateless, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace dataforge::http {

// Decodes %XX escapes (and '+' as a space when `plus_as_space`, as in a query string). False
// when a '%' is not followed by two hex digits; `*out` is then unspecified.
bool PercentDecode(std::string_view in, bool plus_as_space, std::string* out);

// Splits a raw query string ("a=1&b=x%20y", without the '?') into decoded pairs in order. A
// pair without '=' has an empty value; empty pairs ("a=1&&b=2") are skipped. InvalidArgument
// naming the parameter for bad percent-encoding: "query parameter 'b': bad percent-encoding
// in 'x%zz' (a '%' must be followed by two hex digits)".
Result<std::vector<std::pair<std::string, std::string>>> ParseQuery(std::string_view raw);

}  // namespace dataforge::http
