#include "config/env_interpolation.h"

#include <cstdlib>

#include <fmt/format.h>

namespace dataforge {

Result<std::string> InterpolateEnv(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '$') {
      out.push_back('$');
      ++i;
      continue;
    }
    if (i + 1 >= text.size() || text[i + 1] != '{') {
      out.push_back('$');
      continue;
    }
    size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      return Status::ConfigError(
          fmt::format("unclosed '${{' in '{}'; write ${{VAR}} or $$ for a literal $", text));
    }
    std::string_view inner = text.substr(i + 2, close - i - 2);
    std::string_view name = inner;
    std::string_view fallback;
    bool has_fallback = false;
    if (size_t sep = inner.find(":-"); sep != std::string_view::npos) {
      name = inner.substr(0, sep);
      fallback = inner.substr(sep + 2);
      has_fallback = true;
    }
    if (name.empty()) return Status::ConfigError(fmt::format("empty ${{}} in '{}'", text));
    const char* value = std::getenv(std::string(name).c_str());
    if (value != nullptr && (*value != '\0' || !has_fallback)) {
      out.append(value);
    } else if (has_fallback) {
      out.append(fallback);
    } else {
      return Status::ConfigError(fmt::format(
          "environment variable {} is not set (export it, or write ${{{}:-default}})", name, name));
    }
    i = close;
  }
  return out;
}

}  // namespace dataforge
