// Tokenizer for the CQL subset the endpoint speaks (docs/cql.md): identifiers (unquoted ones
// fold to lower case, "Quoted" ones keep their case), string literals ('it''s' and $$...$$),
// integers, floats, uuids, blobs (0x...), ? and :name bind markers, punctuation, and comments
// (-- and // to the end of the line, /* ... */). Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace dataforge::cql {

enum class TokenKind {
  kIdentifier,        // unquoted: `value` is lower-case
  kQuotedIdentifier,  // "Name": `value` is Name
  kString,            // 'text': `value` is the unescaped text
  kInteger,           // `value` is the digits, with a leading '-' when negative
  kFloat,
  kUuid,        // `value` is lower-case
  kBlob,        // 0x...: `value` is the hex digits after 0x
  kBindMarker,  // ?
  kNamedBind,   // :name: `value` is the name (lower-case unless quoted)
  kPunct,       // one of ( ) , ; . * = < > <= >= != [ ] { } : +
  kEnd,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string value;
  std::string_view text;  // as written (empty for kEnd)
  size_t offset = 0;      // byte offset in the statement
  int line = 1;           // 1-based
  int column = 0;         // 0-based, like Cassandra's "line 1:17"

  // True for an unquoted identifier equal to `keyword` (given in lower case).
  bool Is(std::string_view keyword) const {
    return kind == TokenKind::kIdentifier && value == keyword;
  }
  bool IsPunct(std::string_view p) const { return kind == TokenKind::kPunct && value == p; }
};

// Splits `text` into tokens ending with one kEnd. `text` must outlive the tokens. An
// unterminated string or comment, or a character CQL does not use, is InvalidArgument in the
// parser's style: "line 1:7 unterminated string literal starting at 'abc".
Result<std::vector<Token>> Tokenize(std::string_view text);

}  // namespace dataforge::cql
