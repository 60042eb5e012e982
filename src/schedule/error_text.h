// Private to src/schedule: errors quote the text the user wrote; a control character in that
// text (a newline inside a quoted YAML scalar) must not break the one-line error.
#pragma once

#include <string>

#include <fmt/format.h>

#include "common/status.h"

namespace dataforge::schedule_internal {

// `s` with each control character of its message written as \n, \r, \t or \xNN.
inline Status OneLineError(const Status& s) {
  if (s.ok()) return s;
  std::string m;
  for (char ch : s.message()) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != 0x7f) {
      m.push_back(ch);
    } else if (c == '\n') {
      m += "\\n";
    } else if (c == '\r') {
      m += "\\r";
    } else if (c == '\t') {
      m += "\\t";
    } else {
      m += fmt::format("\\x{:02x}", c);
    }
  }
  return Status(s.code(), std::move(m));
}

}  // namespace dataforge::schedule_internal
