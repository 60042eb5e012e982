// CheckValue / CompareValues / StorableType (value_check.h).
#include "cql/value_check.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>

#include "common/decimal.h"
#include "cql/types.h"
#include "cql/wire.h"

namespace dataforge::cql {
namespace {

// Collections nest at most this deep (as in value_json.cc and ReadType).
constexpr int kMaxDepth = 16;

Status Bad(const DataType& t, std::string_view why) {
  return Status::InvalidArgument(fmt::format("CQL {} value: {}", TypeName(t), why));
}

Status Size(const DataType& t, std::string_view b, size_t want) {
  if (b.size() == want) return Status::OK();
  return Bad(t, fmt::format("expected {} bytes, got {}", want, b.size()));
}

uint64_t BigEndianValue(std::string_view b) {
  uint64_t u = 0;
  for (char c : b) u = (u << 8) | static_cast<uint8_t>(c);
  return u;
}

// A two's complement big-endian integer of 1 to 8 bytes.
int64_t Signed(std::string_view b) {
  uint64_t u = (static_cast<uint8_t>(b[0]) & 0x80) ? ~uint64_t{0} : 0;
  for (char c : b) u = (u << 8) | static_cast<uint8_t>(c);
  return static_cast<int64_t>(u);
}

// The offset of the first byte that does not start a valid UTF-8 sequence (RFC 3629: no
// overlong forms, surrogates or code points above U+10FFFF), or npos.
size_t FirstBadUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n = 0;                  // continuation bytes
    uint8_t lo = 0x80, hi = 0xBF;  // the range of the first continuation byte
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return i;
      const auto d = static_cast<uint8_t>(s[i + k]);
      if (k == 1 ? (d < lo || d > hi) : (d < 0x80 || d > 0xBF)) return i;
    }
    i += n + 1;
  }
  return std::string_view::npos;
}

int Sign(auto a, auto b) {
  return a < b ? -1 : (a > b ? 1 : 0);
}

int UnsignedBytes(std::string_view a, std::string_view b) {
  const int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
  if (c != 0) return c < 0 ? -1 : 1;
  return Sign(a.size(), b.size());
}

// Java's Double.compare: -0.0 < 0.0, every NaN equal and above +Infinity.
int CompareDouble(double a, double b) {
  const bool na = std::isnan(a), nb = std::isnan(b);
  if (na || nb) return Sign(na, nb);
  if (a != b) return Sign(a, b);
  return Sign(!std::signbit(a), !std::signbit(b));
}

// The time-ordered msb of a version 1 uuid (Cassandra's TimeUUIDType.reorderTimestampBytes).
uint64_t TimeOrder(uint64_t msb) {
  return (msb << 48) | ((msb << 16) & 0xFFFF00000000ULL) | (msb >> 32);
}

int CompareUuid(TypeId id, std::string_view a, std::string_view b) {
  const uint64_t msb_a = BigEndianValue(a.substr(0, 8)), msb_b = BigEndianValue(b.substr(0, 8));
  const uint64_t lsb_a = BigEndianValue(a.substr(8)), lsb_b = BigEndianValue(b.substr(8));
  if (id == TypeId::kTimeuuid) {
    if (int c = Sign(TimeOrder(msb_a), TimeOrder(msb_b))) return c;
    // Signed per-byte comparison (TimeUUIDType.signedBytesToNativeLong).
    constexpr uint64_t kFlip = 0x8080808080808080ULL;
    return Sign(lsb_a ^ kFlip, lsb_b ^ kFlip);
  }
  const uint64_t version_a = (msb_a >> 12) & 0xF, version_b = (msb_b >> 12) & 0xF;
  if (version_a != version_b) return Sign(version_a, version_b);
  if (version_a == 1) {
    if (int c = Sign(TimeOrder(msb_a), TimeOrder(msb_b))) return c;
  } else if (int c = Sign(msb_a, msb_b)) {
    return c;
  }
  return Sign(lsb_a, lsb_b);
}

// The elements of a collection value that passed CheckValue (map: key, value, key, ...).
std::vector<std::string_view> Elements(std::string_view b) {
  std::vector<std::string_view> out;
  const int32_t n = static_cast<int32_t>(BigEndianValue(b.substr(0, 4)));
  size_t at = 4;
  for (int32_t i = 0; i < n; ++i) {
    const auto len = static_cast<size_t>(BigEndianValue(b.substr(at, 4)));
    out.push_back(b.substr(at + 4, len));
    at += 4 + len;
  }
  return out;
}

std::string EncodeParts(size_t count, const std::vector<std::string>& parts) {
  std::string out;
  WireWriter w(&out);
  w.Int(static_cast<int32_t>(count));
  for (const std::string& p : parts) w.BytesView(p);
  return out;
}

// nullopt: `b` is valid and canonical as it is; a string: its canonical replacement.
using Checked = Result<std::optional<std::string>>;
const std::optional<std::string> kCanonical;

Checked Check(const DataType& t, std::string_view b, int depth);

Checked CheckCollection(const DataType& t, std::string_view b, int depth) {
  const bool is_map = t.id == TypeId::kMap;
  if (t.params.size() != (is_map ? 2u : 1u)) return Bad(t, "the type has no element types");
  WireReader r(b);
  const int32_t n = r.Int();
  const size_t per = is_map ? 8 : 4;  // each element is at least an [int] length
  if (!r.ok())
    return Bad(t, fmt::format("expected a 4-byte element count, got {} bytes", b.size()));
  if (n < 0 || static_cast<size_t>(n) * per > r.remaining()) {
    return Bad(
        t, fmt::format("element count {} does not fit the {} bytes after it", n, r.remaining()));
  }
  std::vector<std::string> parts;  // canonical elements (map: key, value, ...)
  for (int32_t i = 0; i < n; ++i) {
    for (size_t p = 0; p < (is_map ? 2u : 1u); ++p) {
      const size_t at = r.position();
      std::optional<std::string> e = r.Bytes();
      if (!r.ok()) {
        return Bad(t, fmt::format("element {} at byte {}: its length does not fit the {} bytes "
                                  "left",
                                  i, at, b.size() - at));
      }
      const char* what = !is_map ? "element" : (p == 0 ? "key" : "value");
      if (!e) {
        return Bad(t, fmt::format("{} {} is null (collections cannot hold nulls)", what, i));
      }
      const DataType& et = t.params[p];
      auto c = Check(et, *e, depth + 1);
      if (!c.ok()) return Bad(t, fmt::format("{} {}: {}", what, i, c.status().message()));
      parts.push_back(c->has_value() ? std::move(**c) : std::string(std::move(*e)));
    }
  }
  if (r.remaining() != 0) {
    return Bad(t, fmt::format("{} bytes after the last element", r.remaining()));
  }
  if (t.id == TypeId::kList) return std::optional<std::string>(EncodeParts(parts.size(), parts));
  const DataType& key_type = t.params[0];
  const size_t stride = is_map ? 2 : 1;
  std::vector<size_t> order(parts.size() / stride);
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  // Stable: of equal keys the last given stays last, and is the one kept.
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    return CompareValues(key_type, parts[x * stride], parts[y * stride]) < 0;
  });
  std::vector<std::string> sorted;
  size_t count = 0;
  for (size_t k = 0; k < order.size(); ++k) {
    const size_t i = order[k];
    if (k + 1 < order.size() &&
        CompareValues(key_type, parts[i * stride], parts[order[k + 1] * stride]) == 0) {
      continue;  // a later duplicate follows
    }
    for (size_t p = 0; p < stride; ++p) sorted.push_back(std::move(parts[i * stride + p]));
    ++count;
  }
  return std::optional<std::string>(EncodeParts(count, sorted));
}

Checked Check(const DataType& t, std::string_view b, int depth) {
  if (depth > kMaxDepth) return Bad(t, fmt::format("nests deeper than {} levels", kMaxDepth));
  switch (t.id) {
    case TypeId::kVarchar:
      if (!simdjson::validate_utf8(b.data(), b.size())) {
        const size_t at = FirstBadUtf8(b);
        return Bad(t, fmt::format("invalid UTF-8 at byte {} (0x{:02x})", at,
                                  static_cast<uint8_t>(b[std::min(at, b.size() - 1)])));
      }
      return kCanonical;
    case TypeId::kAscii:
      for (size_t k = 0; k < b.size(); ++k) {
        if (static_cast<uint8_t>(b[k]) >= 0x80) {
          return Bad(t, fmt::format("non-ASCII byte 0x{:02x} at offset {}",
                                    static_cast<uint8_t>(b[k]), k));
        }
      }
      return kCanonical;
    case TypeId::kBlob:
      return kCanonical;
    case TypeId::kUuid:
    case TypeId::kTimeuuid:
      DF_RETURN_IF_ERROR(Size(t, b, 16));
      if (t.id == TypeId::kTimeuuid && (static_cast<uint8_t>(b[6]) >> 4) != 1) {
        return Bad(t, fmt::format("a version {} UUID; timeuuid needs version 1 (time-based)",
                                  static_cast<uint8_t>(b[6]) >> 4));
      }
      return kCanonical;
    case TypeId::kInt:
    case TypeId::kFloat:
    case TypeId::kDate:
      DF_RETURN_IF_ERROR(Size(t, b, 4));
      return kCanonical;
    case TypeId::kBigint:
    case TypeId::kCounter:
    case TypeId::kTimestamp:
    case TypeId::kDouble:
      DF_RETURN_IF_ERROR(Size(t, b, 8));
      return kCanonical;
    case TypeId::kTime: {
      DF_RETURN_IF_ERROR(Size(t, b, 8));
      const int64_t ns = Signed(b);
      if (ns < 0 || ns >= kNanosPerDay) {
        return Bad(t, fmt::format("{} is outside [0, 86400000000000) nanoseconds", ns));
      }
      return kCanonical;
    }
    case TypeId::kSmallint:
      DF_RETURN_IF_ERROR(Size(t, b, 2));
      return kCanonical;
    case TypeId::kTinyint:
      DF_RETURN_IF_ERROR(Size(t, b, 1));
      return kCanonical;
    case TypeId::kBoolean:
      DF_RETURN_IF_ERROR(Size(t, b, 1));
      if (b[0] == 0 || b[0] == 1) return kCanonical;
      return std::optional<std::string>(EncodeBoolean(true));
    case TypeId::kVarint:
      if (b.empty() || b.size() > 8) {
        return Bad(t, fmt::format("{} bytes; DataForge stores varints of 1 to 8 bytes (64-bit)",
                                  b.size()));
      }
      return kCanonical;
    case TypeId::kInet:
      if (b.size() != 4 && b.size() != 16) {
        return Bad(t, fmt::format("expected 4 or 16 bytes, got {}", b.size()));
      }
      return kCanonical;
    case TypeId::kDecimal: {
      // [int] scale + varint unscaled value; canonical as Cassandra keeps it: a minimal varint.
      std::optional<Decimal> d = DecimalFromCql(b);
      if (!d) {
        return Bad(t, b.size() < 5 ? fmt::format("expected at least 5 bytes (scale and unscaled "
                                                 "value), got {}",
                                                 b.size())
                                   : fmt::format("unscaled value of more than {} digits",
                                                 kMaxDecimalDigits));
      }
      std::string canonical = DecimalToCql(*d);
      if (canonical == b) return kCanonical;
      return std::optional<std::string>(std::move(canonical));
    }
    case TypeId::kList:
    case TypeId::kSet:
    case TypeId::kMap:
      return CheckCollection(t, b, depth);
    default: {
      std::string why;
      StorableType(t, &why);
      return Status::InvalidArgument(why);
    }
  }
}

}  // namespace

Status CheckValue(const DataType& t, std::string* value) {
  DF_ASSIGN_OR_RETURN(std::optional<std::string> canonical, Check(t, *value, 0));
  if (canonical) *value = std::move(*canonical);
  return Status::OK();
}

int CompareValues(const DataType& t, std::string_view a, std::string_view b) {
  switch (t.id) {
    case TypeId::kInt:
    case TypeId::kBigint:
    case TypeId::kCounter:
    case TypeId::kTimestamp:
    case TypeId::kTime:
    case TypeId::kSmallint:
    case TypeId::kTinyint:
    case TypeId::kVarint:
      return Sign(Signed(a), Signed(b));
    case TypeId::kDate:  // days + 2^31, unsigned: chronological
      return Sign(BigEndianValue(a), BigEndianValue(b));
    case TypeId::kDouble:
      return CompareDouble(std::bit_cast<double>(BigEndianValue(a)),
                           std::bit_cast<double>(BigEndianValue(b)));
    case TypeId::kFloat:
      return CompareDouble(std::bit_cast<float>(static_cast<uint32_t>(BigEndianValue(a))),
                           std::bit_cast<float>(static_cast<uint32_t>(BigEndianValue(b))));
    case TypeId::kBoolean:
      return Sign(a[0] != 0, b[0] != 0);
    case TypeId::kDecimal: {
      const std::optional<Decimal> x = DecimalFromCql(a), y = DecimalFromCql(b);
      if (x && y) return CompareDecimals(*x, *y);
      return UnsignedBytes(a, b);
    }
    case TypeId::kUuid:
    case TypeId::kTimeuuid:
      return CompareUuid(t.id, a, b);
    case TypeId::kList:
    case TypeId::kSet:
    case TypeId::kMap: {
      const std::vector<std::string_view> x = Elements(a), y = Elements(b);
      for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
        const DataType& et = t.params[t.id == TypeId::kMap ? i % 2 : 0];
        if (int c = CompareValues(et, x[i], y[i])) return c;
      }
      return Sign(x.size(), y.size());
    }
    default:  // text, ascii, blob, inet
      return UnsignedBytes(a, b);
  }
}

bool StorableType(const DataType& t, std::string* why) {
  switch (t.id) {
    case TypeId::kList:
    case TypeId::kSet:
    case TypeId::kMap:
      return std::all_of(t.params.begin(), t.params.end(),
                         [&](const DataType& p) { return StorableType(p, why); });
    case TypeId::kCounter:
      *why =
          "CQL type counter is not supported by the DataForge CQL endpoint (no counter "
          "updates); use bigint";
      return false;
    case TypeId::kTuple:
    case TypeId::kUdt:
    case TypeId::kCustom:
      *why = fmt::format(
          "CQL type {} has no stored form in DataForge; use text, numbers, uuid, timestamp, "
          "date, time, inet, blob, boolean or list/set/map of those",
          TypeName(t));
      return false;
    default:
      for (TypeId id :
           {TypeId::kAscii, TypeId::kBigint, TypeId::kBlob, TypeId::kBoolean, TypeId::kDouble,
            TypeId::kFloat, TypeId::kInt, TypeId::kTimestamp, TypeId::kUuid, TypeId::kVarchar,
            TypeId::kVarint, TypeId::kTimeuuid, TypeId::kInet, TypeId::kDate, TypeId::kTime,
            TypeId::kSmallint, TypeId::kTinyint, TypeId::kDecimal}) {
        if (t.id == id) return true;
      }
      *why = fmt::format("CQL type {} has no stored form in DataForge", TypeName(t));
      return false;
  }
}

}  // namespace dataforge::cql
