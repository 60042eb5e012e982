// Minimal helpers to write JSON text. Stateless, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dataforge {

// Appends `s` as a quoted JSON string. Bytes >= 0x80 are copied as they are (UTF-8 passes
// through); control characters, quote and backslash are escaped.
void AppendJsonString(std::string* out, std::string_view s);
// {"name":"value",...} of string pairs in their order (a log record's headers).
std::string JsonObjectOfStrings(const std::vector<std::pair<std::string, std::string>>& pairs);
std::string JsonString(std::string_view s);

// Builds one JSON object: {"k":v,...}. Not thread-safe; one builder per object.
class JsonObjectWriter {
 public:
  JsonObjectWriter() { out_.push_back('{'); }
  JsonObjectWriter& String(std::string_view key, std::string_view value);
  JsonObjectWriter& Int(std::string_view key, int64_t value);
  JsonObjectWriter& Double(std::string_view key, double value);
  JsonObjectWriter& Bool(std::string_view key, bool value);
  JsonObjectWriter& Null(std::string_view key);
  // `json` must already be valid JSON text.
  JsonObjectWriter& Raw(std::string_view key, std::string_view json);
  // Raw() with the key already written as a JSON string (JsonString(key)), so a caller writing
  // the same keys for many objects escapes them once.
  JsonObjectWriter& RawQuotedKey(std::string_view quoted_key, std::string_view json);
  // Room for `bytes` more of the object's text (no reallocation while it grows that far).
  void Reserve(size_t bytes) { out_.reserve(out_.size() + bytes); }
  // Closes the object and returns its text; the writer is left empty.
  std::string Finish();

 private:
  void Comma();  // before every member but the first
  void Key(std::string_view key);
  std::string out_;
  bool first_ = true;
};

}  // namespace dataforge
