#include "process/aggregate/aggregate_keys.h"

#include <charconv>
#include <cstdio>
#include <optional>

#include <fmt/format.h>

#include "common/timestamp.h"

namespace dataforge {

std::string PartitionPrefix(char kind, int32_t partition) {
  return fmt::format("{}/{}/", kind, partition);
}

namespace {

// Takes "<kind>/<partition>/" off the front of `key`; false when it does not start so.
bool TakePartitionPrefix(char kind, std::string_view* key, int32_t* partition) {
  if (key->size() < 2 || (*key)[0] != kind || (*key)[1] != '/') return false;
  key->remove_prefix(2);
  auto [p, ec] = std::from_chars(key->data(), key->data() + key->size(), *partition);
  if (ec != std::errc() || p == key->data() + key->size() || *p != '/') return false;
  key->remove_prefix(static_cast<size_t>(p - key->data()) + 1);
  return true;
}

}  // namespace

bool ParseGroupStateKey(std::string_view key, int32_t* partition, std::string_view* group_key) {
  if (!TakePartitionPrefix('g', &key, partition)) return false;
  *group_key = key;
  return true;
}

bool ParseStateKey(std::string_view key, int64_t size_ms, int32_t* partition,
                   std::string_view* window_key, int64_t* end_ms) {
  if (!TakePartitionPrefix('s', &key, partition)) return false;
  size_t bar = key.rfind('|');
  if (bar == std::string_view::npos) return false;
  std::optional<int64_t> start = ParseTimestampMillis(key.substr(bar + 1));
  if (!start) return false;
  *window_key = key;
  *end_ms = *start + size_ms;
  return true;
}

bool ParseWatermarkRow(const std::string& text, int64_t* watermark, int64_t* base_offset,
                       int64_t* base_watermark) {
  long long wm = 0, base = 0, base_wm = 0;
  if (std::sscanf(text.c_str(), "v1 %lld %lld %lld", &wm, &base, &base_wm) != 3) return false;
  *watermark = wm;
  *base_offset = base;
  *base_watermark = base_wm;
  return true;
}

}  // namespace dataforge
