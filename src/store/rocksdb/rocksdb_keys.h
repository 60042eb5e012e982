// Keys and values of the RocksDB store's metadata column family ("default"), and the prefix of
// its rows' keys, shared by its source files (docs/store-format.md). Private to store/rocksdb/.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace dataforge::rocksdb_keys {

inline std::string U64(uint64_t v) {
  return std::string(reinterpret_cast<const char*>(&v), 8);
}
inline uint64_t ParseU64(const std::string& s) {
  uint64_t v = 0;
  if (s.size() == 8) std::memcpy(&v, s.data(), 8);
  return v;
}

inline std::string BigEndian(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) s[i] = static_cast<char>(v & 0xff);
  return s;
}
inline uint64_t FromBigEndian(std::string_view s) {
  uint64_t v = 0;
  for (char c : s) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

// "r\0<big-endian letter id>": a dead letter's replay marker, JSON {"at_us","outcome","key",
// "reason","topic","log_id"} (topic and log of the letter's record, for LogCounters).
inline std::string ReplayKey(uint64_t letter_id) {
  std::string k = "r";
  k.push_back('\0');
  return k + BigEndian(letter_id);
}
// The dead letters replayed into rows, in all (u64).
inline std::string ReplayedCounterKey() {
  return std::string("c\0replayed", 10);
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

// "<kind>\0<name>": a catalog key.
inline std::string MetaKey(char kind, const std::string& name) {
  std::string k(1, kind);
  k.push_back('\0');
  return k + name;
}
// "t\0<table>": marks a table that has rows (empty value).
inline std::string TableKey(const std::string& table) {
  return MetaKey('t', table);
}
// "s\0<table>": the table's schema, JSON {"key","columns":[[name,type],...]}.
inline std::string SchemaKey(const std::string& table) {
  return MetaKey('s', table);
}
// "k\0<keyspace>": a keyspace and its replication options, JSON.
inline std::string KeyspaceKey(const std::string& keyspace) {
  return MetaKey('k', keyspace);
}

// "<table>\0": the prefix of a table's keys in the rows column family ("<table>\0<key>").
inline std::string RowPrefix(const std::string& table) {
  std::string k = table;
  k.push_back('\0');
  return k;
}

}  // namespace dataforge::rocksdb_keys
