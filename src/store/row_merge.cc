#include "store/row_merge.h"

#include <cstring>

#include <fmt/format.h>

namespace dataforge {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void SkipSpace(std::string_view s, size_t* i) {
  while (*i < s.size() && IsSpace(s[*i])) ++*i;
}

// Past the string that starts at s[*i] == '"'; false if it does not end. A quote ends it
// unless an odd run of backslashes inside the string stands before it (an escaped quote).
bool SkipString(std::string_view s, size_t* i) {
  const size_t open = *i;
  size_t from = open + 1;
  while (from < s.size()) {
    const void* q = std::memchr(s.data() + from, '"', s.size() - from);
    if (q == nullptr) break;
    size_t at = static_cast<size_t>(static_cast<const char*>(q) - s.data());
    size_t backslashes = 0;
    while (at - backslashes > open + 1 && s[at - backslashes - 1] == '\\') ++backslashes;
    if (backslashes % 2 == 0) {
      *i = at + 1;
      return true;
    }
    from = at + 1;
  }
  *i = s.size();
  return false;
}

// Past the value that starts at s[*i]: a string, an object or array (nested), or a literal.
bool SkipValue(std::string_view s, size_t* i) {
  if (*i >= s.size()) return false;
  if (s[*i] == '"') return SkipString(s, i);
  if (s[*i] == '{' || s[*i] == '[') {
    int depth = 0;
    while (*i < s.size()) {
      char c = s[*i];
      if (c == '"') {
        if (!SkipString(s, i)) return false;
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') --depth;
      ++*i;
      if (depth == 0) return true;
    }
    return false;
  }
  size_t start = *i;
  while (*i < s.size() && s[*i] != ',' && s[*i] != '}' && s[*i] != ']' && !IsSpace(s[*i])) ++*i;
  return *i > start;
}

}  // namespace

Status ObjectMembers(std::string_view json,
                     std::vector<std::pair<std::string_view, std::string_view>>* out) {
  out->clear();
  auto bad = [&](size_t at, const char* what) {
    return Status::InvalidArgument(
        fmt::format("row is not a JSON object: {} at byte {}", what, at));
  };
  size_t i = 0;
  SkipSpace(json, &i);
  if (i >= json.size() || json[i] != '{') return bad(i, "no '{'");
  ++i;
  SkipSpace(json, &i);
  if (i < json.size() && json[i] == '}') {
    ++i;
  } else {
    while (true) {
      SkipSpace(json, &i);
      size_t key_start = i;
      if (i >= json.size() || json[i] != '"' || !SkipString(json, &i)) return bad(i, "no key");
      std::string_view key = json.substr(key_start, i - key_start);
      SkipSpace(json, &i);
      if (i >= json.size() || json[i] != ':') return bad(i, "no ':'");
      ++i;
      SkipSpace(json, &i);
      size_t value_start = i;
      if (!SkipValue(json, &i)) return bad(value_start, "no value");
      out->emplace_back(key, json.substr(value_start, i - value_start));
      SkipSpace(json, &i);
      if (i < json.size() && json[i] == ',') {
        ++i;
        continue;
      }
      if (i < json.size() && json[i] == '}') {
        ++i;
        break;
      }
      return bad(i, "no ',' or '}'");
    }
  }
  SkipSpace(json, &i);
  if (i != json.size()) return bad(i, "text after the object");
  return Status::OK();
}

Result<std::string> MergeRowJson(std::string_view base, std::string_view update) {
  std::vector<std::pair<std::string_view, std::string_view>> b, u;
  if (Status s = ObjectMembers(base, &b); !s.ok()) {
    return Status::InvalidArgument("the stored " + s.message());
  }
  if (Status s = ObjectMembers(update, &u); !s.ok()) {
    return Status::InvalidArgument("the written " + s.message());
  }
  std::vector<bool> used(u.size(), false);
  std::string out;
  out.reserve(base.size() + update.size());
  out.push_back('{');
  auto append = [&](std::string_view key, std::string_view value) {
    if (out.size() > 1) out.push_back(',');
    out.append(key);
    out.push_back(':');
    out.append(value);
  };
  for (const auto& [key, value] : b) {
    std::string_view v = value;
    for (size_t j = 0; j < u.size(); ++j) {
      if (u[j].first == key) {  // the last one if a key repeats
        v = u[j].second;
        used[j] = true;
      }
    }
    append(key, v);
  }
  for (size_t j = 0; j < u.size(); ++j) {
    if (used[j]) continue;
    bool later = false;  // a repeated key is written once, with its last value
    for (size_t k = j + 1; k < u.size() && !later; ++k) later = u[k].first == u[j].first;
    if (!later) append(u[j].first, u[j].second);
  }
  out.push_back('}');
  return out;
}

}  // namespace dataforge
