// Decoding log record values written in Confluent's wire format (log.format confluent-json /
// confluent-avro; registry/wire_format.h) into the JSON text the mapper reads.
//
// The schema comes from the record's own id (SchemaRegistry::ParsedById, cached by the
// registry); this decoder keeps one codec per id. A record that cannot be decoded is the
// caller's dead letter, with one of these reasons (class "wire_format",
// common/dead_letter_reason.h), all starting with "log.format: ":
//   "log.format: not in Confluent's wire format: <n> bytes, first byte 0x7b (expected magic
//    byte 0x00 and a 4-byte schema id)"
//   "log.format: unknown schema id 42 (40403 Schema 42 not found)"
//   "log.format: schema id 7 is AVRO, log.format confluent-json expects JSON"
//   "log.format: the payload does not decode with schema id 7 (AVRO): <codec's message>"
// A registry that cannot answer (a store error) is not the record's fault: Decode returns that
// error and the caller retries the batch later.
//
// Undecodable values are kept in the letter as WirePayloadText(value) ("base64:<bytes>"): a
// store keeps letters as text, and Avro binary is not UTF-8. The replay decodes them again
// (WireBytesOfPayload), so a letter whose schema id was missing can be replayed after the
// schema is imported under that id.
//
// Thread-compatible: one thread uses a decoder; the registry is thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "log/log.h"
#include "registry/schema_format.h"
#include "registry/schema_registry.h"

namespace dataforge {

class WireDecoder {
 public:
  // Borrows `registry` (must outlive the decoder). `expected`: the schema type log.format
  // names (confluent-json: JSON, confluent-avro: AVRO).
  WireDecoder(registry::SchemaRegistry* registry, registry::SchemaType expected);

  struct Decoded {
    bool ok = false;
    std::string json;        // ok: the record as JSON text
    int64_t schema_id = -1;  // the id in the header, -1 without a header
    std::string reason;      // !ok: the dead letter's reason
  };
  // Decodes `value`; a runtime error only when the registry cannot answer.
  Result<Decoded> Decode(std::string_view value);

 private:
  registry::SchemaRegistry* registry_;
  registry::SchemaType expected_;
  struct Entry {
    std::shared_ptr<const registry::ParsedSchema> schema;
    std::unique_ptr<registry::RecordCodec> codec;
    std::string refusal;  // non-empty: the id is unusable (unknown, wrong type)
  };
  std::map<int64_t, Entry> codecs_;
};

// A log record's value as people and tools are shown it (`dataforge topic consume`,
// GET /v1/topics/{t}/partitions/{p}/records): `json` is the decoded record for a confluent
// format, the value itself otherwise (JSON, or a JSON string of text that is not JSON);
// `schema_id` is the header's id (-1: none); `error` says why a confluent value did not decode
// (then `json` is the raw value as a JSON string). `decoder` null = log.format json.
struct DisplayedValue {
  std::string json;
  int64_t schema_id = -1;
  std::string error;
};
// A tombstone (LogRecord::tombstone) shows as JSON null.
DisplayedValue DisplayLogValue(WireDecoder* decoder, const LogRecord& record);

// "base64:" + the value's bytes in base64: how a letter keeps an undecodable value.
std::string WirePayloadText(std::string_view value);
// The bytes of a letter's payload made by WirePayloadText; nullopt for any other payload.
std::optional<std::string> WireBytesOfPayload(std::string_view payload);

}  // namespace dataforge
