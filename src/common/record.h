// Types that cross stage boundaries. Plain values; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dataforge {

// One record as the source delivered it: the raw JSON object text and its key.
struct SourceRecord {
  std::string key;        // e.g. login.uuid, or a name-based UUID derived from `raw`
  std::string raw;        // the JSON object text as received, less whitespace between tokens
  int64_t fetched_at_us;  // wall clock when the response carrying it arrived
};

// Broadcast records. A record whose key starts with kBroadcastKeyPrefix is meant for every
// partition of the topic, not for the one its key hashes to: the relay appends it (the same
// outbox row, the same "seq") to each partition, and the processor acts on it once every
// partition has reached it (a barrier, see process/processor.h). Staging keeps it like any
// record (one outbox row, one fetched record; its key is one key of the upsert view).
// The prefix starts with the ASCII record separator (0x1E), which ordinary keys do not start
// with (UUIDs; "schema.table/<key values>" from postgres_cdc).
// The one broadcast so far: a table truncated at the source (postgres_cdc), keyed
// kBroadcastKeyPrefix + "truncate/" + "schema.table", value
// {"op":"truncate","table":"schema.table","lsn":"X/Y","xid":N,"commit_time":"..."}.
inline constexpr std::string_view kBroadcastKeyPrefix =
    "\x1e"
    "broadcast/";
inline constexpr std::string_view kTruncateKeyPrefix =
    "\x1e"
    "broadcast/truncate/";
inline bool IsBroadcastKey(std::string_view key) {
  return key.starts_with(kBroadcastKeyPrefix);
}
inline std::string TruncateKey(std::string_view table) {
  return std::string(kTruncateKeyPrefix) + std::string(table);
}

// A payload that could not be carried further, with the reason. Every dead letter is one
// fetched record (or one whole response that held no usable records).
struct DeadLetter {
  std::string stage;     // "source", "staging", "process", ...
  std::string reason;    // one line: what was wrong and where
  std::string location;  // where it came from: URL + page + index, or topic/partition/offset
  std::string payload;   // the raw record or response (possibly truncated, see reason)
  int64_t at_us = 0;
  // The log record's key ("process" letters of records the mapping refused: a replay maps
  // key + payload again). "" for other letters, and for letters written before keys were kept.
  std::string key{};
};

// A dead letter's replay (`dataforge deadletter replay`, pipeline/dead_letter_replay.h): the letter
// was mapped again with the pipeline file's mapping at `at_us`.
struct ReplayMarker {
  int64_t at_us = 0;
  std::string outcome;  // "stored" (the row `key` was written) or "dead_lettered" (`reason`)
  std::string key;      // the row key written ("stored")
  std::string reason;   // why the mapping refused it again ("dead_lettered")
};

// A dead letter as kept by a stage's dead-letter table; ids grow per table.
struct StoredDeadLetter {
  uint64_t id = 0;
  DeadLetter letter;
  // The store's letters only (Store::ListDeadLetters): the last replay of the letter, if any.
  std::optional<ReplayMarker> replay{};
};

}  // namespace dataforge
