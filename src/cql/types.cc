// CQL data types: names, the [option] encoding and scalar value codecs (types.h).
// The JSON conversions are in value_json.cc.
#include "cql/types.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstring>

#include <fmt/format.h>

#include "common/uuid.h"

namespace dataforge::cql {
namespace {

// Nesting deeper than this in an [option] (list<map<...>> ...) is refused: real schemas nest a
// handful of levels; the limit bounds recursion on hostile input.
constexpr int kMaxTypeDepth = 16;

struct NamedType {
  const char* name;
  TypeId id;
};
constexpr NamedType kSimpleTypes[] = {
    {"ascii", TypeId::kAscii},       {"bigint", TypeId::kBigint},
    {"blob", TypeId::kBlob},         {"boolean", TypeId::kBoolean},
    {"counter", TypeId::kCounter},   {"decimal", TypeId::kDecimal},
    {"double", TypeId::kDouble},     {"float", TypeId::kFloat},
    {"int", TypeId::kInt},           {"timestamp", TypeId::kTimestamp},
    {"uuid", TypeId::kUuid},         {"text", TypeId::kVarchar},
    {"varchar", TypeId::kVarchar},   {"varint", TypeId::kVarint},
    {"timeuuid", TypeId::kTimeuuid}, {"inet", TypeId::kInet},
    {"date", TypeId::kDate},         {"time", TypeId::kTime},
    {"smallint", TypeId::kSmallint}, {"tinyint", TypeId::kTinyint},
};

bool IsSimple(TypeId id) {
  return std::any_of(std::begin(kSimpleTypes), std::end(kSimpleTypes),
                     [id](const NamedType& n) { return n.id == id; });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Splits "a, map<b, c>" at top-level commas.
std::vector<std::string_view> SplitParams(std::string_view s) {
  std::vector<std::string_view> out;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '<') ++depth;
    if (s[i] == '>') --depth;
    if (s[i] == ',' && depth == 0) {
      out.push_back(Trim(s.substr(start, i - start)));
      start = i + 1;
    }
  }
  out.push_back(Trim(s.substr(start)));
  return out;
}

Result<DataType> ParseTypeNameAt(std::string_view full, std::string_view name, int depth) {
  if (depth > kMaxTypeDepth) {
    return Status::InvalidArgument(fmt::format(
        "CQL type '{}' nests deeper than {} levels; use a flatter type", full, kMaxTypeDepth));
  }
  name = Trim(name);
  const size_t lt = name.find('<');
  if (lt == std::string_view::npos) {
    const std::string lower = Lower(name);
    for (const auto& n : kSimpleTypes) {
      if (lower == n.name) return DataType::Of(n.id);
    }
    return Status::InvalidArgument(fmt::format(
        "unknown CQL type '{}' in '{}'; expected one of text, int, bigint, uuid, timestamp, "
        "double, boolean, ... or list<T>, set<T>, map<K, V>",
        name, full));
  }
  if (name.back() != '>') {
    return Status::InvalidArgument(
        fmt::format("CQL type '{}' in '{}' does not end with '>'", name, full));
  }
  const std::string outer = Lower(Trim(name.substr(0, lt)));
  const std::vector<std::string_view> params =
      SplitParams(name.substr(lt + 1, name.size() - lt - 2));
  auto want = [&](size_t n) -> Status {
    if (params.size() != n) {
      return Status::InvalidArgument(fmt::format(
          "CQL type '{}' in '{}' takes {} parameter(s), got {}", name, full, n, params.size()));
    }
    return Status::OK();
  };
  if (outer == "frozen") {
    DF_RETURN_IF_ERROR(want(1));
    return ParseTypeNameAt(full, params[0], depth + 1);
  }
  if (outer == "list" || outer == "set") {
    DF_RETURN_IF_ERROR(want(1));
    DF_ASSIGN_OR_RETURN(DataType e, ParseTypeNameAt(full, params[0], depth + 1));
    return outer == "list" ? DataType::List(std::move(e)) : DataType::Set(std::move(e));
  }
  if (outer == "map") {
    DF_RETURN_IF_ERROR(want(2));
    DF_ASSIGN_OR_RETURN(DataType k, ParseTypeNameAt(full, params[0], depth + 1));
    DF_ASSIGN_OR_RETURN(DataType v, ParseTypeNameAt(full, params[1], depth + 1));
    return DataType::Map(std::move(k), std::move(v));
  }
  if (outer == "tuple") {
    DataType t = DataType::Of(TypeId::kTuple);
    for (std::string_view p : params) {
      DF_ASSIGN_OR_RETURN(DataType e, ParseTypeNameAt(full, p, depth + 1));
      t.params.push_back(std::move(e));
    }
    return t;
  }
  return Status::InvalidArgument(fmt::format(
      "unknown CQL type '{}' in '{}'; expected list<T>, set<T>, map<K, V>, tuple<...> or "
      "frozen<T>",
      outer, full));
}

DataType ReadTypeAt(WireReader* r, int depth) {
  const size_t at = r->position();
  if (depth > kMaxTypeDepth) {
    r->Fail(fmt::format("[option] at byte {} nests deeper than {} levels", at, kMaxTypeDepth));
    return {};
  }
  const uint16_t raw = r->Short();
  if (!r->ok()) return {};
  DataType t = DataType::Of(static_cast<TypeId>(raw));
  switch (t.id) {
    case TypeId::kCustom:
      t.custom = r->String();
      return t;
    case TypeId::kList:
    case TypeId::kSet:
      t.params.push_back(ReadTypeAt(r, depth + 1));
      return t;
    case TypeId::kMap:
      t.params.push_back(ReadTypeAt(r, depth + 1));
      if (r->ok()) t.params.push_back(ReadTypeAt(r, depth + 1));
      return t;
    case TypeId::kUdt: {
      t.udt_keyspace = r->String();
      t.udt_name = r->String();
      const size_t count_at = r->position();
      const uint16_t n = r->Short();
      // Each field needs at least a [string] (2) and an [option] (2).
      if (r->ok() && size_t{n} * 4 > r->remaining()) {
        r->Fail(fmt::format("UDT field count {} at byte {} exceeds the {} bytes left", n, count_at,
                            r->remaining()));
      }
      for (uint16_t i = 0; i < n && r->ok(); ++i) {
        std::string field = r->String();
        DataType ft = ReadTypeAt(r, depth + 1);
        t.udt_fields.push_back({std::move(field), std::move(ft)});
      }
      return t;
    }
    case TypeId::kTuple: {
      const size_t count_at = r->position();
      const uint16_t n = r->Short();
      if (r->ok() && size_t{n} * 2 > r->remaining()) {
        r->Fail(fmt::format("tuple element count {} at byte {} exceeds the {} bytes left", n,
                            count_at, r->remaining()));
      }
      for (uint16_t i = 0; i < n && r->ok(); ++i) t.params.push_back(ReadTypeAt(r, depth + 1));
      return t;
    }
    default:
      if (!IsSimple(t.id)) {
        r->Fail(fmt::format("unknown [option] type id 0x{:04x} at byte {}", raw, at));
      }
      return t;
  }
}

Status SizeError(const char* type, size_t want, size_t got) {
  return Status::InvalidArgument(
      fmt::format("CQL {} value: expected {} bytes, got {}", type, want, got));
}

uint64_t BigEndian(std::string_view b) {
  uint64_t u = 0;
  for (char c : b) u = (u << 8) | static_cast<uint8_t>(c);
  return u;
}

std::string BigEndianBytes(uint64_t u, int n) {
  std::string out(static_cast<size_t>(n), '\0');
  for (int i = n - 1; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>(u & 0xFF);
    u >>= 8;
  }
  return out;
}

}  // namespace

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

DataType DataType::List(DataType e) {
  DataType t = Of(TypeId::kList);
  t.params.push_back(std::move(e));
  return t;
}

DataType DataType::Set(DataType e) {
  DataType t = Of(TypeId::kSet);
  t.params.push_back(std::move(e));
  return t;
}

DataType DataType::Map(DataType k, DataType v) {
  DataType t = Of(TypeId::kMap);
  t.params.push_back(std::move(k));
  t.params.push_back(std::move(v));
  return t;
}

bool DataType::operator==(const DataType& o) const {
  return id == o.id && params == o.params && custom == o.custom && udt_keyspace == o.udt_keyspace &&
         udt_name == o.udt_name && udt_fields == o.udt_fields;
}

std::string TypeName(const DataType& t) {
  switch (t.id) {
    case TypeId::kVarchar:
      return "text";
    case TypeId::kCustom:
      return fmt::format("'{}'", t.custom);
    case TypeId::kList:
    case TypeId::kSet:
      if (t.params.size() != 1) break;
      return fmt::format("{}<{}>", t.id == TypeId::kList ? "list" : "set", TypeName(t.params[0]));
    case TypeId::kMap:
      if (t.params.size() != 2) break;
      return fmt::format("map<{}, {}>", TypeName(t.params[0]), TypeName(t.params[1]));
    case TypeId::kTuple: {
      std::string out = "tuple<";
      for (size_t i = 0; i < t.params.size(); ++i) {
        if (i > 0) out += ", ";
        out += TypeName(t.params[i]);
      }
      return out + ">";
    }
    case TypeId::kUdt:
      return t.udt_keyspace.empty() ? t.udt_name : t.udt_keyspace + "." + t.udt_name;
    default:
      for (const auto& n : kSimpleTypes) {
        if (n.id == t.id) return n.name;
      }
      break;
  }
  return fmt::format("type 0x{:04x}", static_cast<uint16_t>(t.id));
}

Result<DataType> ParseTypeName(std::string_view name) {
  return ParseTypeNameAt(name, name, 0);
}

void WriteType(const DataType& t, WireWriter* w) {
  w->Short(static_cast<uint16_t>(t.id));
  switch (t.id) {
    case TypeId::kCustom:
      w->String(t.custom);
      break;
    case TypeId::kList:
    case TypeId::kSet:
    case TypeId::kMap:
      for (const DataType& p : t.params) WriteType(p, w);
      break;
    case TypeId::kUdt:
      w->String(t.udt_keyspace);
      w->String(t.udt_name);
      w->Short(static_cast<uint16_t>(t.udt_fields.size()));
      for (const auto& [name, ft] : t.udt_fields) {
        w->String(name);
        WriteType(ft, w);
      }
      break;
    case TypeId::kTuple:
      w->Short(static_cast<uint16_t>(t.params.size()));
      for (const DataType& p : t.params) WriteType(p, w);
      break;
    default:
      break;
  }
}

DataType ReadType(WireReader* r) {
  return ReadTypeAt(r, 0);
}

std::string EncodeInt(int32_t v) {
  return BigEndianBytes(static_cast<uint32_t>(v), 4);
}
std::string EncodeBigint(int64_t v) {
  return BigEndianBytes(static_cast<uint64_t>(v), 8);
}
std::string EncodeDouble(double v) {
  return BigEndianBytes(std::bit_cast<uint64_t>(v), 8);
}
std::string EncodeBoolean(bool v) {
  return std::string(1, v ? '\x01' : '\x00');
}
std::string EncodeText(std::string_view v) {
  return std::string(v);
}

Result<std::string> EncodeUuid(std::string_view uuid) {
  auto bad = [&](const char* why) {
    return Status::InvalidArgument(
        fmt::format("'{}' is not a UUID ({}); expected 36 characters like "
                    "'123e4567-e89b-12d3-a456-426614174000'",
                    uuid.substr(0, 64), why));
  };
  if (uuid.size() != 36) return bad("wrong length");
  std::string out;
  out.reserve(16);
  for (size_t i = 0; i < 36;) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (uuid[i] != '-') return bad("dash expected");
      ++i;
      continue;
    }
    const int hi = HexDigit(uuid[i]);
    const int lo = HexDigit(uuid[i + 1]);
    if (hi < 0 || lo < 0) return bad("non-hex digit");
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::string EncodeCollection(const std::vector<std::string>& elements) {
  std::string out;
  WireWriter w(&out);
  w.Int(static_cast<int32_t>(elements.size()));
  for (const auto& e : elements) w.BytesView(e);
  return out;
}

std::string EncodeStringSet(const std::vector<std::string>& texts) {
  return EncodeCollection(texts);
}

std::string EncodeStringMap(const std::vector<std::pair<std::string, std::string>>& m) {
  std::string out;
  WireWriter w(&out);
  w.Int(static_cast<int32_t>(m.size()));
  for (const auto& [k, v] : m) {
    w.BytesView(k);
    w.BytesView(v);
  }
  return out;
}

Result<int32_t> DecodeInt(std::string_view b) {
  if (b.size() != 4) return SizeError("int", 4, b.size());
  return static_cast<int32_t>(static_cast<uint32_t>(BigEndian(b)));
}

Result<int64_t> DecodeBigint(std::string_view b) {
  if (b.size() != 8) return SizeError("bigint", 8, b.size());
  return static_cast<int64_t>(BigEndian(b));
}

Result<double> DecodeDouble(std::string_view b) {
  if (b.size() != 8) return SizeError("double", 8, b.size());
  return std::bit_cast<double>(BigEndian(b));
}

Result<bool> DecodeBoolean(std::string_view b) {
  if (b.size() != 1) return SizeError("boolean", 1, b.size());
  return b[0] != 0;
}

Result<std::string> DecodeUuid(std::string_view b) {
  if (b.size() != 16) return SizeError("uuid", 16, b.size());
  // FormatUuid's text (8-4-4-4-12 lower-case hex digits), without fmt: this runs for every uuid
  // key and column the endpoint reads or writes.
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  size_t at = 0;
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) ++at;  // the dashes
    const auto c = static_cast<unsigned char>(b[i]);
    out[at++] = kHex[c >> 4];
    out[at++] = kHex[c & 15];
  }
  return out;
}

}  // namespace dataforge::cql
