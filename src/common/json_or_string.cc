#include "common/json_or_string.h"

#include <simdjson.h>

#include "common/json_writer.h"

namespace dataforge {

void AppendJsonOrString(std::string* out, std::string_view text) {
  static thread_local simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::element doc;
  if (!text.empty() && parser.parse(padded).get(doc) == simdjson::SUCCESS) {
    out->append(text);
  } else {
    AppendJsonString(out, text);
  }
}

}  // namespace dataforge
