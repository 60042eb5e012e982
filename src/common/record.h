// Types that cross stage boundaries. Plain values; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dataforge {

// One record as the source delivered it: the raw JSON object text and its key.
struct SourceRecord {
  std::string key;        // e.g. login.uuid, or a name-based UUID derived from `raw`
  std::string raw;        // the JSON object text, exactly as received
  int64_t fetched_at_us;  // wall clock when the response carrying it arrived
};

// A payload that could not be carried further, with the reason. Every dead letter is one
// fetched record (or one whole response that held no usable records).
struct DeadLetter {
  std::string stage;     // "source", "staging", "process", ...
  std::string reason;    // one line: what was wrong and where
  std::string location;  // where it came from: URL + page + index, or topic/partition/offset
  std::string payload;   // the raw record or response (possibly truncated, see reason)
  int64_t at_us = 0;
};

// A dead letter as kept by a stage's dead-letter table; ids grow per table.
struct StoredDeadLetter {
  uint64_t id = 0;
  DeadLetter letter;
};

}  // namespace dataforge
