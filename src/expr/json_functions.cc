// JSON functions (docs/expressions.md, "JSON"): paths into json values or JSON text. Each thread
// keeps one simdjson parser, so parsing allocates only when a document is larger than any before.
#include <simdjson.h>

#include <fmt/format.h>

#include "expr/function_util.h"

namespace dataforge::expr::internal {
namespace {

using Args = std::span<const Value>;
using simdjson::dom::element;

// The parsed document of a json value or of a string holding JSON text. The element lives until
// the thread parses the next document.
Result<element> Parse(std::string_view fn, std::string_view arg, const Value& v) {
  if (v.kind != Kind::kJson && v.kind != Kind::kString) {
    return TypeError(fn, arg, "json or a string of JSON text", v);
  }
  thread_local simdjson::dom::parser parser;
  element root;
  auto error = parser.parse(v.s).get(root);
  if (error != simdjson::SUCCESS) {
    return FnError(fn, fmt::format("{} is not valid JSON ({})", DescribeValue(v),
                                   simdjson::error_message(error)));
  }
  return root;
}

Status BadPath(std::string_view path, size_t at, std::string_view why) {
  return FnError("json_path", fmt::format("bad path '{}' at character {}: {}; write it like "
                                          "'$.a.b[0]' or \"$['key with spaces']\"",
                                          path, at + 1, why));
}

// Walks `path` ("$", ".key", "['key']", "[\"key\"]", "[N]", "[-N]" from the end) from `cur`.
// Sets *found false when a step does not exist.
Status Walk(std::string_view path, element cur, element* out, bool* found) {
  *found = false;
  if (path.empty() || path[0] != '$') return BadPath(path, 0, "a path starts with '$'");
  size_t i = 1;
  bool missing = false;
  while (i < path.size()) {
    std::string key;
    bool is_index = false;
    int64_t index = 0;
    if (path[i] == '.') {
      size_t b = ++i;
      while (i < path.size() && path[i] != '.' && path[i] != '[') ++i;
      if (i == b) return BadPath(path, b, "a key is missing after '.'");
      key.assign(path.substr(b, i - b));
    } else if (path[i] == '[') {
      ++i;
      if (i < path.size() && (path[i] == '\'' || path[i] == '"')) {
        char q = path[i++];
        size_t b = i;
        while (i < path.size() && path[i] != q) ++i;
        if (i >= path.size()) return BadPath(path, b - 1, "the quoted key is not closed");
        key.assign(path.substr(b, i - b));
        ++i;
      } else {
        size_t b = i;
        bool neg = i < path.size() && path[i] == '-';
        if (neg) ++i;
        if (i >= path.size() || path[i] < '0' || path[i] > '9') {
          return BadPath(path, b, "expected an index or a quoted key after '['");
        }
        while (i < path.size() && path[i] >= '0' && path[i] <= '9') {
          if (index > 100000000) return BadPath(path, b, "the index is too large");
          index = index * 10 + (path[i++] - '0');
        }
        if (neg) index = -index;
        is_index = true;
      }
      if (i >= path.size() || path[i] != ']') return BadPath(path, i, "expected ']'");
      ++i;
    } else {
      return BadPath(path, i, "expected '.' or '['");
    }
    if (missing) continue;  // keep checking the rest of the path's syntax
    element next;
    if (is_index) {
      simdjson::dom::array arr;
      if (cur.get_array().get(arr) != simdjson::SUCCESS) {
        missing = true;
        continue;
      }
      int64_t n = static_cast<int64_t>(arr.size());
      if (index < 0) index += n;
      if (index < 0 || index >= n || arr.at(static_cast<size_t>(index)).get(next)) {
        missing = true;
        continue;
      }
    } else {
      simdjson::dom::object obj;
      if (cur.get_object().get(obj) != simdjson::SUCCESS || obj.at_key(key).get(next)) {
        missing = true;
        continue;
      }
    }
    cur = next;
  }
  if (!missing) {
    *out = cur;
    *found = true;
  }
  return Status::OK();
}

Result<Value> JsonPath(Args args, const CallContext&) {
  if (AnyNull(args)) return Value::Null();
  DF_ASSIGN_OR_RETURN(std::string_view path, TextArg("json_path", "path", args[1]));
  DF_ASSIGN_OR_RETURN(element root, Parse("json_path", "json", args[0]));
  element hit;
  bool found = false;
  DF_RETURN_IF_ERROR(Walk(path, root, &hit, &found));
  return found ? FromJsonElement(hit) : Value::Null();
}

Result<Value> JsonArrayLength(Args args, const CallContext&) {
  if (args[0].is_null()) return Value::Null();
  DF_ASSIGN_OR_RETURN(element root, Parse("json_array_length", "json", args[0]));
  simdjson::dom::array arr;
  if (root.get_array().get(arr) != simdjson::SUCCESS) {
    return TypeError("json_array_length", "json", "a JSON array", args[0]);
  }
  return Value::Int(static_cast<int64_t>(arr.size()));
}

Result<Value> ToJson(Args args, const CallContext&) {
  std::string out;
  AppendJson(args[0], &out);
  return Value::String(std::move(out));
}

Result<Value> ParseJson(Args args, const CallContext&) {
  if (args[0].is_null()) return Value::Null();
  if (args[0].kind != Kind::kString) {
    return TypeError("parse_json", "text", "a string", args[0]);
  }
  DF_ASSIGN_OR_RETURN(element root, Parse("parse_json", "text", args[0]));
  return FromJsonElement(root);
}

constexpr FunctionDef kJsonFunctions[] = {
    {"json_path", 2, 2, JsonPath, "json_path(json, path)"},
    {"json_array_length", 1, 1, JsonArrayLength, "json_array_length(json)"},
    {"to_json", 1, 1, ToJson, "to_json(value)"},
    {"parse_json", 1, 1, ParseJson, "parse_json(text)"},
};

}  // namespace

std::span<const FunctionDef> JsonFunctions() {
  return kJsonFunctions;
}

}  // namespace dataforge::expr::internal
