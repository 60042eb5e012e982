#include "schedule/time_zone.h"

#include <chrono>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include <fmt/format.h>

namespace dataforge::schedule_internal {
namespace {

using Seconds = std::chrono::seconds;

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class ZoneCache {
 public:
  Result<const date::time_zone*> Find(std::string_view name) {
    {
      std::lock_guard lock(mutex_);
      auto it = zones_.find(name);
      if (it != zones_.end()) return it->second;
    }
    const date::time_zone* zone = nullptr;
    try {
      zone = date::locate_zone(name);
      // Loads the zone's tzdata file now, so that later conversions cannot throw.
      (void)zone->get_info(date::sys_seconds{});
    } catch (const std::exception&) {
      return Status::InvalidArgument(fmt::format(
          "unknown time zone '{}'; use an IANA name such as UTC or Europe/Berlin", name));
    }
    std::lock_guard lock(mutex_);
    zones_.emplace(std::string(name), zone);
    return zone;
  }

 private:
  std::mutex mutex_;  // guards zones_
  std::unordered_map<std::string, const date::time_zone*, StringHash, std::equal_to<>> zones_;
};

ZoneCache& Cache() {
  static auto* cache = new ZoneCache();  // never destroyed: used from any thread at exit
  return *cache;
}

}  // namespace

Result<const date::time_zone*> FindTimeZone(std::string_view name) {
  return Cache().Find(name);
}

const date::time_zone* ZoneOrUtc(std::string_view name) {
  auto zone = FindTimeZone(name);
  if (zone.ok()) return *zone;
  auto utc = FindTimeZone("UTC");
  return utc.ok() ? *utc : nullptr;
}

int64_t UtcOffsetMicros(const date::time_zone* zone, int64_t utc_us) {
  if (zone == nullptr) return 0;
  date::sys_seconds t{Seconds{FloorDiv(utc_us, kMicrosPerSecond)}};
  return std::chrono::duration_cast<Seconds>(zone->get_info(t).offset).count() * kMicrosPerSecond;
}

int64_t LocalToUtc(const date::time_zone* zone, int64_t local_us) {
  if (zone == nullptr) return local_us;
  int64_t local_s = FloorDiv(local_us, kMicrosPerSecond);
  date::local_seconds t{Seconds{local_s}};
  date::local_info info = zone->get_info(t);
  if (info.result == date::local_info::nonexistent) {
    // first.end is the transition: the first instant after the gap.
    return info.first.end.time_since_epoch().count() * kMicrosPerSecond;
  }
  // unique, or ambiguous: `first` is the earlier occurrence.
  return local_us - info.first.offset.count() * kMicrosPerSecond;
}

}  // namespace dataforge::schedule_internal
