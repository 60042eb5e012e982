// Errors quote text from outside (a YAML scalar, a record's value, a schedule): a newline or other
// control character in it must not break the one-line error. Stateless; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include <fmt/format.h>

#include "common/status.h"

namespace dataforge {

// `s` with each control character written as \n, \r, \t or \xNN; other bytes as they are.
inline std::string EscapeControlChars(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != 0x7f) {
      out.push_back(ch);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  return out;
}

// `s` with its message passed through EscapeControlChars (OK stays OK).
inline Status OneLineError(const Status& s) {
  if (s.ok()) return s;
  return Status(s.code(), EscapeControlChars(s.message()));
}

}  // namespace dataforge
