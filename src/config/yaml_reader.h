// Reading typed values out of a YAML pipeline file: every error is a ConfigError naming the
// file and line and saying what is expected. Scalars go through ${ENV} interpolation.
// Thread-compatible.
#pragma once

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "common/status.h"
#include "config/env_interpolation.h"

namespace dataforge {

class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  Status Error(const YAML::Node& n, const std::string& what) const {
    return Status::ConfigError(fmt::format("{}:{}: {}", file_, n.Mark().line + 1, what));
  }

  Status Keys(const YAML::Node& map, const std::string& where,
              std::initializer_list<const char*> known) const {
    if (!map.IsMap()) return Error(map, fmt::format("{} must be a mapping (key: value)", where));
    std::set<std::string> names(known.begin(), known.end());
    for (const auto& kv : map) {
      auto key = kv.first.as<std::string>();
      if (!names.count(key)) {
        return Error(kv.first, fmt::format("unknown key '{}' in {} (known: {})", key, where,
                                           fmt::join(known, ", ")));
      }
    }
    return Status::OK();
  }

  Status Str(const YAML::Node& map, const char* key, std::string* out) {
    auto n = map[key];
    if (!n) return Status::OK();
    if (n.IsNull()) {
      out->clear();
      return Status::OK();
    }
    if (!n.IsScalar()) return Error(n, fmt::format("'{}' must be a single value", key));
    auto v = InterpolateEnv(n.Scalar());
    if (!v.ok()) return Error(n, v.status().message());
    *out = std::move(v).value();
    return Status::OK();
  }

  template <typename T>
  Status Num(const YAML::Node& map, const char* key, T lo, T hi, T* out) {
    auto n = map[key];
    if (!n) return Status::OK();
    std::string text;
    DF_RETURN_IF_ERROR(Str(map, key, &text));
    std::istringstream in(text);
    T v{};
    in >> v;
    if (!in || !in.eof() || text.empty()) {
      return Error(n, fmt::format("'{}' must be a number, not '{}'", key, text));
    }
    // An unsigned read of "-1" wraps around (strtoull): it is named as written.
    const bool negative = std::is_unsigned_v<T> && text.front() == '-' && v != T{};
    if (negative || v < lo || v > hi) {
      return Error(n, fmt::format("'{}' is {}; it must be between {} and {}", key,
                                  negative ? text : fmt::format("{}", v), lo, hi));
    }
    *out = v;
    return Status::OK();
  }

  Status Bool(const YAML::Node& map, const char* key, bool* out) {
    auto n = map[key];
    if (!n) return Status::OK();
    std::string text;
    DF_RETURN_IF_ERROR(Str(map, key, &text));
    if (text == "true" || text == "yes" || text == "on") {
      *out = true;
    } else if (text == "false" || text == "no" || text == "off") {
      *out = false;
    } else {
      return Error(n, fmt::format("'{}' must be true or false, not '{}'", key, text));
    }
    return Status::OK();
  }

  Status Choice(const YAML::Node& map, const char* key, std::initializer_list<const char*> allowed,
                std::string* out) {
    auto n = map[key];
    if (!n) return Status::OK();
    std::string v;
    DF_RETURN_IF_ERROR(Str(map, key, &v));
    for (const char* a : allowed) {
      if (v == a) {
        *out = v;
        return Status::OK();
      }
    }
    return Error(
        n, fmt::format("'{}' is '{}'; it must be one of: {}", key, v, fmt::join(allowed, ", ")));
  }

  // A scalar or a list of scalars.
  Status StrList(const YAML::Node& map, const char* key, std::vector<std::string>* out) {
    auto n = map[key];
    if (!n) return Status::OK();
    out->clear();
    if (n.IsScalar()) {
      std::string v;
      DF_RETURN_IF_ERROR(Str(map, key, &v));
      out->push_back(std::move(v));
      return Status::OK();
    }
    if (!n.IsSequence()) return Error(n, fmt::format("'{}' must be a value or a list", key));
    for (const auto& item : n) {
      if (!item.IsScalar()) return Error(item, fmt::format("items of '{}' must be values", key));
      auto v = InterpolateEnv(item.Scalar());
      if (!v.ok()) return Error(item, v.status().message());
      out->push_back(std::move(v).value());
    }
    return Status::OK();
  }

  // A mapping of scalars (`what` names it in errors, e.g. "librdkafka properties"); replaces
  // `out` when present. Values go through ${ENV} interpolation.
  Status StrMap(const YAML::Node& map, const char* key, const std::string& what,
                std::vector<std::pair<std::string, std::string>>* out) {
    auto n = map[key];
    if (!n || n.IsNull()) return Status::OK();
    if (!n.IsMap()) return Error(n, fmt::format("'{}' must be a mapping of {}", key, what));
    out->clear();
    for (const auto& kv : n) {
      auto k = kv.first.as<std::string>();
      if (!kv.second.IsScalar()) {
        return Error(kv.second, fmt::format("{} '{}' must be a single value", key, k));
      }
      auto v = InterpolateEnv(kv.second.Scalar());
      if (!v.ok()) return Error(kv.second, v.status().message());
      out->emplace_back(k, std::move(v).value());
    }
    return Status::OK();
  }

 protected:
  std::string file_;
};

}  // namespace dataforge
