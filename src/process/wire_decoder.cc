#include "process/wire_decoder.h"

#include <fmt/format.h>

#include "common/base64.h"
#include "common/json_or_string.h"
#include "registry/registry_error.h"
#include "registry/schema_types.h"
#include "registry/wire_format.h"

namespace dataforge {
namespace {

constexpr std::string_view kPayloadPrefix = "base64:";

}  // namespace

WireDecoder::WireDecoder(registry::SchemaRegistry* registry, registry::SchemaType expected)
    : registry_(registry), expected_(expected) {}

Result<WireDecoder::Decoded> WireDecoder::Decode(std::string_view value) {
  Decoded out;
  auto wire = registry::ParseWireRecord(value);
  if (!wire) {
    out.reason = fmt::format(
        "log.format: not in Confluent's wire format: {} bytes, first byte {} (expected magic "
        "byte 0x00 and a 4-byte schema id)",
        value.size(),
        value.empty() ? std::string("none")
                      : fmt::format("0x{:02x}", static_cast<uint8_t>(value[0])));
    return out;
  }
  out.schema_id = wire->schema_id;
  auto it = codecs_.find(wire->schema_id);
  if (it == codecs_.end()) {
    auto parsed = registry_->ParsedById(wire->schema_id);
    if (!parsed.ok()) {
      int code = registry::RegistryErrorOf(parsed.status()).error_code;
      // Not found, or a stored schema that does not parse: the record's id is unusable. Any
      // other error is the registry's (its database): the batch is tried again. Not cached:
      // the id may be imported later, and asking again costs a lookup only for such records.
      if (code != registry::kSchemaNotFound && code != registry::kInvalidSchema) {
        return parsed.status().WithContext(
            fmt::format("log.format: reading schema id {}", wire->schema_id));
      }
      out.reason = fmt::format("log.format: unknown schema id {} ({})", wire->schema_id,
                               parsed.status().message());
      return out;
    }
    Entry e;
    if ((*parsed)->type() != expected_) {
      e.refusal = fmt::format(
          "log.format: schema id {} is {}, log.format {} expects {}", wire->schema_id,
          registry::SchemaTypeName((*parsed)->type()),
          expected_ == registry::SchemaType::kAvro ? "confluent-avro" : "confluent-json",
          registry::SchemaTypeName(expected_));
    } else {
      e.schema = *parsed;
      e.codec = e.schema->NewCodec();
    }
    it = codecs_.emplace(wire->schema_id, std::move(e)).first;
  }
  Entry& e = it->second;
  if (!e.refusal.empty()) {
    out.reason = e.refusal;
    return out;
  }
  Status s = e.codec->Decode(wire->payload, &out.json);
  if (!s.ok()) {
    out.json.clear();
    out.reason =
        fmt::format("log.format: the payload does not decode with schema id {} ({}): {}",
                    wire->schema_id, registry::SchemaTypeName(e.schema->type()), s.message());
    return out;
  }
  out.ok = true;
  return out;
}

DisplayedValue DisplayLogValue(WireDecoder* decoder, const LogRecord& record) {
  DisplayedValue out;
  if (record.tombstone) {
    out.json = "null";
    return out;
  }
  const std::string_view value = record.value;
  if (decoder != nullptr) {
    auto decoded = decoder->Decode(value);
    if (decoded.ok() && decoded->ok) {
      out.json = std::move(decoded->json);
      out.schema_id = decoded->schema_id;
      return out;
    }
    if (decoded.ok()) {
      out.schema_id = decoded->schema_id;
      out.error = std::move(decoded->reason);
    } else {
      out.error = decoded.status().message();
    }
  }
  AppendJsonOrString(&out.json, value);
  return out;
}

std::string WirePayloadText(std::string_view value) {
  return std::string(kPayloadPrefix) + Base64Encode(value);
}

std::optional<std::string> WireBytesOfPayload(std::string_view payload) {
  if (!payload.starts_with(kPayloadPrefix)) return std::nullopt;
  return Base64Decode(payload.substr(kPayloadPrefix.size()));
}

}  // namespace dataforge
