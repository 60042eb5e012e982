// Confluent's wire format for Kafka record values: magic byte 0, the schema id as a 4-byte
// big-endian integer, then the payload (Avro binary, or JSON text for JSON Schema).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dataforge::registry {

inline constexpr size_t kWireHeaderBytes = 5;

// Appends the header for `schema_id` to *out.
inline void AppendWireHeader(int64_t schema_id, std::string* out) {
  const auto id = static_cast<uint32_t>(schema_id);
  out->push_back('\0');
  out->push_back(static_cast<char>(id >> 24));
  out->push_back(static_cast<char>(id >> 16));
  out->push_back(static_cast<char>(id >> 8));
  out->push_back(static_cast<char>(id));
}

struct WireRecord {
  int64_t schema_id = 0;
  std::string_view payload;  // points into the input
};

// nullopt when `value` is shorter than the header or its first byte is not 0.
inline std::optional<WireRecord> ParseWireRecord(std::string_view value) {
  if (value.size() < kWireHeaderBytes || value[0] != '\0') return std::nullopt;
  const auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(value[i])); };
  const uint32_t id = (b(1) << 24) | (b(2) << 16) | (b(3) << 8) | b(4);
  return WireRecord{static_cast<int64_t>(id), value.substr(kWireHeaderBytes)};
}

}  // namespace dataforge::registry
