// Shared by the libFuzzer targets in tests/fuzz: invariant checks that abort with the target's
// name (libFuzzer then saves the input as a crash reproducer), and a JSON validity check.
#pragma once

#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/status.h"

namespace dataforge::fuzz {

// Aborts with "<target>: <what>" when `ok` is false.
inline void Check(bool ok, const char* target, std::string_view what) {
  if (ok) return;
  std::fprintf(stderr, "%s: invariant broken: %.*s\n", target, static_cast<int>(what.size()),
               what.data());
  std::abort();
}

// An error must be a value with a one-line message: not OK, a non-empty message, no newline.
inline void CheckError(const Status& s, const char* target, std::string_view what) {
  Check(!s.ok(), target, what);
  Check(!s.message().empty(), target, std::string(what) + ": empty error message");
  Check(s.message().find('\n') == std::string::npos, target,
        std::string(what) + ": error message spans lines: " + s.message());
}

// True when `text` is one complete JSON value.
inline bool IsJson(std::string_view text) {
  static simdjson::dom::parser parser;
  simdjson::dom::element e;
  return !parser.parse(text.data(), text.size(), true).get(e);
}

// True when `text` is one JSON object.
inline bool IsJsonObject(std::string_view text) {
  static simdjson::dom::parser parser;
  simdjson::dom::element e;
  return !parser.parse(text.data(), text.size(), true).get(e) &&
         e.type() == simdjson::dom::element_type::OBJECT;
}

}  // namespace dataforge::fuzz

// Wraps a target's body: any exception escaping it is a bug (the parsers return Status).
#define DF_FUZZ_NO_EXCEPTIONS(target, body)                                \
  try {                                                                    \
    body;                                                                  \
  } catch (const std::exception& e) {                                      \
    std::fprintf(stderr, "%s: exception escaped: %s\n", target, e.what()); \
    std::abort();                                                          \
  } catch (...) {                                                          \
    std::fprintf(stderr, "%s: unknown exception escaped\n", target);       \
    std::abort();                                                          \
  }
