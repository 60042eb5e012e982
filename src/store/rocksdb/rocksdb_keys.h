// Keys and values of the RocksDB store's metadata column family ("default"), shared by its
// source files (docs/store-format.md). Private to store/rocksdb/.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

namespace dataforge::rocksdb_keys {

inline std::string U64(uint64_t v) {
  return std::string(reinterpret_cast<const char*>(&v), 8);
}
inline uint64_t ParseU64(const std::string& s) {
  uint64_t v = 0;
  if (s.size() == 8) std::memcpy(&v, s.data(), 8);
  return v;
}

// "o\0<group>\0<topic>\0<partition>": the offset row of a partition without log identity
// (written before identities existed): the next offset (u64).
inline std::string OffsetKey(const std::string& group, const std::string& topic,
                             int32_t partition) {
  std::string k = "o";
  k.push_back('\0');
  k += group;
  k.push_back('\0');
  k += topic;
  k.push_back('\0');
  k += std::to_string(partition);
  return k;
}

// "l\0<group>\0<topic>\0<partition>": the records counted lost in that row's partition (u64).
inline std::string LostKey(const std::string& group, const std::string& topic, int32_t partition) {
  return "l" + OffsetKey(group, topic, partition).substr(1);
}

// "i\0<group>\0<topic>\0": the prefix of the offset rows of (group, topic) with log identity.
inline std::string IdentityPrefix(const std::string& group, const std::string& topic) {
  std::string k = "i";
  k.push_back('\0');
  k += group;
  k.push_back('\0');
  k += topic;
  k.push_back('\0');
  return k;
}

// IdentityPrefix + "<partition>\0<log id>": one log's offset row of a partition; its value is
// four u64: next offset, stored, dead-lettered, lost (the partition's cumulative counters).
inline std::string IdentityKey(const std::string& group, const std::string& topic,
                               int32_t partition, const std::string& log_id) {
  std::string k = IdentityPrefix(group, topic) + std::to_string(partition);
  k.push_back('\0');
  return k + log_id;
}

}  // namespace dataforge::rocksdb_keys
