// A fast path for the common record schema: a flat object whose properties have only simple
// keywords. valijson allocates per property (contexts, sets, string copies), about 2.5 us for
// a 12-column row; this walks the simdjson record once, without allocating.
//
// Contract: the fast path only ever ACCEPTS. When it returns false ("not sure") the caller runs
// valijson, which decides and reports the failure, so a record the fast path accepts must be
// one valijson accepts (the differential test in json_schema_fast_path_test.cc checks this on
// many records). Eligible schemas (FastSchema::Compile returns nullopt otherwise):
//   root: "type": "object", "properties", optional "required" (strings) and
//         "additionalProperties" (a boolean); annotations ($schema, $id, title, description,
//         $comment, default, examples) allowed; nothing else.
//   property: "type" (a name or an array of names), maxLength, minLength, pattern, minimum,
//   maximum,
//         exclusiveMinimum, exclusiveMaximum, "enum" of strings/booleans/null, "format"
//         (date-time, date, time checked as valijson 1.0 checks them; others pass, as there),
//         annotations; nothing else (no $ref, pattern, combinators, nested schemas).
//   valijson 1.0 applies "format" to every value, not only strings (null, [] and {} are
//   checked as "", numbers and booleans as their text, other arrays and objects make it throw:
//   rule "schema"): the fast path leaves non-strings under "format" to valijson.
// Immutable after Compile; thread-safe.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dataforge::registry::json_schema {

class FastSchema {
 public:
  static std::optional<FastSchema> Compile(simdjson::dom::element schema);
  // True when `record` certainly matches; false when valijson must decide.
  bool Accepts(simdjson::dom::element record) const;

 private:
  enum TypeBit : uint8_t {
    kString = 1,
    kInteger = 2,
    kNumber = 4,  // any number
    kBoolean = 8,
    kNull = 16,
    kObject = 32,
    kArray = 64,
  };
  enum class Format { kNone, kDateTime, kDate, kTime, kOther };
  struct Pattern;  // a std::regex (fast_path.cc: <regex> stays out of this header)
  struct Property {
    std::string name;
    uint8_t types = 0xFF;  // no "type": anything
    bool required = false;
    std::optional<uint64_t> max_length, min_length;
    std::optional<double> minimum, maximum;
    bool exclusive_minimum = false, exclusive_maximum = false;
    bool has_enum = false;
    std::vector<std::string> enum_strings;
    bool enum_true = false, enum_false = false, enum_null = false;
    Format format = Format::kNone;
    std::shared_ptr<const Pattern> pattern;  // std::regex_search, ECMAScript, as valijson
  };
  bool CheckValue(const Property& p, simdjson::dom::element value) const;

  std::vector<Property> properties_;
  std::vector<std::string> required_only_;  // required names without a property schema
  bool additional_ = true;
};

// valijson 1.0's format checks (validation_visitor.hpp), without std::regex.
bool IsValijsonDateTime(std::string_view s);
bool IsValijsonDate(std::string_view s);
bool IsValijsonTime(std::string_view s);

}  // namespace dataforge::registry::json_schema
