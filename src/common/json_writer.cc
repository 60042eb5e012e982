#include "common/json_writer.h"

#include <cstdint>
#include <cstring>

#include <fmt/format.h>

namespace dataforge {

namespace {

// Where the first byte that needs escaping (a control character, '"' or '\\') is in the 8 bytes
// of `w` (little-endian), or 8 when none does: the bytewise "has a byte below n" test.
inline size_t FirstToEscape(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHighs = 0x8080808080808080ull;
  const uint64_t quote = w ^ (kOnes * '"'), backslash = w ^ (kOnes * '\\');
  const uint64_t hits = ((w - kOnes * 0x20) | (quote - kOnes) | (backslash - kOnes)) & ~w &
                        kHighs;  // bytes >= 0x80 never need escaping
  return hits == 0 ? 8 : static_cast<size_t>(__builtin_ctzll(hits)) / 8;
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  size_t run = 0;  // start of the current run of bytes that need no escaping
  for (size_t i = 0; i < s.size(); ++i) {
    // Eight bytes at a time while none of them needs escaping.
    while (i + 8 <= s.size()) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      size_t k = FirstToEscape(w);
      i += k;
      if (k < 8) break;
    }
    if (i >= s.size()) break;
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default:
        fmt::format_to(std::back_inserter(*out), "\\u{:04x}", c);
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

std::string JsonString(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  AppendJsonString(&out, s);
  return out;
}

void JsonObjectWriter::Comma() {
  if (!first_) out_.push_back(',');
  first_ = false;
}

void JsonObjectWriter::Key(std::string_view key) {
  Comma();
  AppendJsonString(&out_, key);
  out_.push_back(':');
}

JsonObjectWriter& JsonObjectWriter::String(std::string_view key, std::string_view value) {
  Key(key);
  AppendJsonString(&out_, value);
  return *this;
}

JsonObjectWriter& JsonObjectWriter::Int(std::string_view key, int64_t value) {
  Key(key);
  fmt::format_to(std::back_inserter(out_), "{}", value);
  return *this;
}

JsonObjectWriter& JsonObjectWriter::Double(std::string_view key, double value) {
  Key(key);
  fmt::format_to(std::back_inserter(out_), "{}", value);
  return *this;
}

JsonObjectWriter& JsonObjectWriter::Bool(std::string_view key, bool value) {
  Key(key);
  out_.append(value ? "true" : "false");
  return *this;
}

JsonObjectWriter& JsonObjectWriter::Null(std::string_view key) {
  Key(key);
  out_.append("null");
  return *this;
}

JsonObjectWriter& JsonObjectWriter::Raw(std::string_view key, std::string_view json) {
  Key(key);
  out_.append(json);
  return *this;
}

JsonObjectWriter& JsonObjectWriter::RawQuotedKey(std::string_view quoted_key,
                                                 std::string_view json) {
  Comma();
  out_.append(quoted_key);
  out_.push_back(':');
  out_.append(json);
  return *this;
}

std::string JsonObjectWriter::Finish() {
  out_.push_back('}');
  return std::move(out_);
}

std::string JsonObjectOfStrings(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string out = "{";
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (i) out += ',';
    AppendJsonString(&out, pairs[i].first);
    out += ':';
    AppendJsonString(&out, pairs[i].second);
  }
  out += '}';
  return out;
}

}  // namespace dataforge
