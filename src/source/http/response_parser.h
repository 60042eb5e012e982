// Splits a randomuser-style response ({"results":[...], ...}) into records, each with its raw
// JSON text and key. Thread-compatible: one parser per thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/record.h"
#include "config/pipeline_config.h"

namespace simdjson::dom {
class parser;
}

namespace dataforge {

// One item of a page, in order: a record or a dead letter (a bad record, or the whole response).
struct PageItem {
  bool dead = false;
  SourceRecord record;
  DeadLetter letter;
};

class ResponseParser {
 public:
  explicit ResponseParser(const SourceConfig& config);
  ~ResponseParser();

  // Appends the page's items to `out`. A response that is not the expected shape becomes one
  // dead letter holding the body (truncated to 64 KiB). `location` names the request.
  // A record's raw text is the object exactly as the body wrote it (string escapes, every digit
  // of its numbers), less the whitespace between its tokens.
  void Parse(const std::string& body, const std::string& location, int64_t fetched_at_us,
             std::vector<PageItem>* out);

  // A record's text in the body; `space`: whitespace separates some of its tokens.
  struct Slice {
    std::string_view text;
    bool space = false;
  };

 private:
  const SourceConfig config_;
  std::unique_ptr<simdjson::dom::parser> parser_;
  std::vector<std::string> key_pointers_;  // config_.key_paths as JSON pointers
  std::vector<Slice> slices_;              // scratch for Parse()
};

// A name-based UUID (version 5 layout, SHA-1) of `bytes`: the same bytes give the same key.
std::string NameBasedUuid(std::string_view bytes);

}  // namespace dataforge
