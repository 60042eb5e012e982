// The canonical text of a JSON Schema document, as Confluent's JsonSchema.canonicalString()
// produces it (Jackson writing the parsed tree back): whitespace between tokens removed, object
// members kept in their order, strings re-escaped as Jackson writes them ('"', '\\' and control
// characters escaped: \b \t \n \f \r short forms, others \u00XX in upper-case hex; '/' and
// non-ASCII characters written as themselves), integers as written ("-0" as "0"), numbers with a
// fraction or exponent as Java's BigDecimal prints them (Confluent parses them exactly:
// "1.50" stays "1.50", "1e2" becomes "1E+2", "0.0000001" becomes "1E-7").
// Known difference: a duplicate member name is kept twice here (Jackson keeps the last value
// at the first position). Pure function; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace dataforge::registry::json_schema {

// `text` must be valid JSON (checked by the caller's parse); InvalidArgument otherwise.
Result<std::string> CanonicalJson(std::string_view text);

// A JSON number's text (a fraction and/or exponent) as Java's BigDecimal.toString() prints it.
std::string BigDecimalText(std::string_view number);

}  // namespace dataforge::registry::json_schema
