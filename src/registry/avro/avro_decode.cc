// AvroToJson: Avro binary -> plain JSON text, every read bounds-checked.
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "common/decimal.h"
#include "common/json_writer.h"
#include "registry/avro/avro_json.h"

namespace dataforge::registry::avro {
namespace {

// Values nested deeper than this are refused (the walk recurses): room for every value the
// encoder writes (256 levels of records, arrays or maps, each maybe inside a union).
constexpr int kMaxDecodeDepth = 1024;
// Items of a type that may encode to no bytes cannot be bounded by the payload's size.
constexpr int64_t kMaxEmptyItems = int64_t{1} << 20;

template <typename T>
void AppendNumber(T v, std::string* out) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, r.ptr);
}

// Bytes as a JSON string of characters U+0000..U+00FF.
void AppendLatin1(std::string_view bytes, std::string* out) {
  std::string utf8;
  utf8.reserve(bytes.size());
  for (char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      utf8.push_back(ch);
    } else {
      utf8.push_back(static_cast<char>(0xC0 | (c >> 6)));
      utf8.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  AppendJsonString(out, utf8);
}

}  // namespace

Status AvroToJson::Run(const AvroNode& node, std::string_view payload, std::string* out) {
  begin_ = pos_ = payload.data();
  end_ = payload.data() + payload.size();
  depth_ = 0;
  DF_RETURN_IF_ERROR(Walk(node, out));
  if (pos_ != end_) {
    return Status::InvalidArgument(
        fmt::format("invalid Avro payload: {} trailing bytes after the record at offset {}",
                    end_ - pos_, pos_ - begin_));
  }
  return Status::OK();
}

Status AvroToJson::Error(std::string_view what) const {
  return Status::InvalidArgument(
      fmt::format("invalid Avro payload: {} at offset {}", what, pos_ - begin_));
}

Status AvroToJson::Need(uint64_t n, std::string_view what) {
  if (n > static_cast<uint64_t>(end_ - pos_)) {
    return Error(fmt::format("truncated {} ({} bytes needed, {} left)", what, n, end_ - pos_));
  }
  return Status::OK();
}

Status AvroToJson::Long(int64_t* v) {
  uint64_t z = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ == end_) return Error("truncated varint");
    const auto b = static_cast<unsigned char>(*pos_++);
    if (shift == 63 && b > 1) {
      --pos_;
      return Error("varint longer than 64 bits");
    }
    z |= uint64_t{b & 0x7fu} << shift;
    if (!(b & 0x80)) {
      *v = static_cast<int64_t>(z >> 1) ^ -static_cast<int64_t>(z & 1);
      return Status::OK();
    }
  }
  return Error("varint longer than 10 bytes");
}

Status AvroToJson::Walk(const AvroNode& n, std::string* out) {
  if (++depth_ > kMaxDecodeDepth)
    return Error(fmt::format("value nested deeper than {} levels", kMaxDecodeDepth));
  struct Guard {
    int* d;
    ~Guard() { --*d; }
  } guard{&depth_};
  switch (n.type) {
    case AvroType::kNull:
      out->append("null");
      return Status::OK();
    case AvroType::kBoolean:
      DF_RETURN_IF_ERROR(Need(1, "boolean"));
      if (*pos_ != 0 && *pos_ != 1)
        return Error(fmt::format("boolean byte {}", int{static_cast<unsigned char>(*pos_)}));
      out->append(*pos_++ ? "true" : "false");
      return Status::OK();
    case AvroType::kInt:
    case AvroType::kLong: {
      const char* at = pos_;
      int64_t v;
      DF_RETURN_IF_ERROR(Long(&v));
      if (n.type == AvroType::kInt &&
          (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())) {
        pos_ = at;
        return Error(fmt::format("int {} out of range", v));
      }
      AppendNumber(v, out);
      return Status::OK();
    }
    case AvroType::kFloat:
    case AvroType::kDouble: {
      const size_t size = n.type == AvroType::kFloat ? 4 : 8;
      DF_RETURN_IF_ERROR(Need(size, AvroTypeName(n.type)));
      double d;
      float f = 0;
      if (size == 4) {
        std::memcpy(&f, pos_, 4);
        d = f;
      } else {
        std::memcpy(&d, pos_, 8);
      }
      if (std::isnan(d)) {
        out->append("\"NaN\"");  // JSON has no non-finite numbers: Avro's JSON spelling
      } else if (std::isinf(d)) {
        out->append(d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
      } else if (size == 4) {
        AppendNumber(f, out);
      } else {
        AppendNumber(d, out);
      }
      pos_ += size;
      return Status::OK();
    }
    case AvroType::kString:
    case AvroType::kBytes:
    case AvroType::kFixed: {
      const char* at = pos_;
      int64_t len = static_cast<int64_t>(n.size);
      if (n.type != AvroType::kFixed) {
        DF_RETURN_IF_ERROR(Long(&len));
        if (len < 0) {
          pos_ = at;
          return Error(fmt::format("negative length {}", len));
        }
      }
      DF_RETURN_IF_ERROR(Need(static_cast<uint64_t>(len), AvroTypeName(n.type)));
      std::string_view bytes(pos_, static_cast<size_t>(len));
      if (n.type == AvroType::kString) {
        if (!simdjson::validate_utf8(bytes.data(), bytes.size()))
          return Error("string is not UTF-8");
        AppendJsonString(out, bytes);
      } else if (n.logical_type == "decimal") {
        std::string cql(4, '\0');
        for (int i = 0; i < 4; ++i)
          cql[i] = static_cast<char>(static_cast<uint32_t>(n.scale) >> (24 - 8 * i));
        cql.append(bytes.empty() ? std::string_view("\0", 1) : bytes);
        std::optional<dataforge::Decimal> d = DecimalFromCql(cql);
        if (!d) return Error("decimal too long");
        out->append(FormatDecimal(*d));
      } else {
        AppendLatin1(bytes, out);
      }
      pos_ += len;
      return Status::OK();
    }
    case AvroType::kEnum: {
      const char* at = pos_;
      int64_t i;
      DF_RETURN_IF_ERROR(Long(&i));
      if (i < 0 || static_cast<uint64_t>(i) >= n.symbols.size()) {
        pos_ = at;
        return Error(fmt::format("enum index {} out of range for {} ({} symbols)", i, n.full_name,
                                 n.symbols.size()));
      }
      AppendJsonString(out, n.symbols[static_cast<size_t>(i)]);
      return Status::OK();
    }
    case AvroType::kUnion: {
      const char* at = pos_;
      int64_t i;
      DF_RETURN_IF_ERROR(Long(&i));
      if (i < 0 || static_cast<uint64_t>(i) >= n.branches.size()) {
        pos_ = at;
        return Error(
            fmt::format("union index {} out of range ({} branches)", i, n.branches.size()));
      }
      return Walk(*n.branches[static_cast<size_t>(i)], out);
    }
    case AvroType::kRecord:
      out->push_back('{');
      for (size_t i = 0; i < n.fields.size(); ++i) {
        if (i) out->push_back(',');
        AppendJsonString(out, n.fields[i].name);
        out->push_back(':');
        DF_RETURN_IF_ERROR(Walk(*n.fields[i].type, out));
      }
      out->push_back('}');
      return Status::OK();
    case AvroType::kArray:
    case AvroType::kMap: {
      const bool is_map = n.type == AvroType::kMap;
      out->push_back(is_map ? '{' : '[');
      bool first = true;
      int64_t empty_items = 0;
      while (true) {
        const char* at = pos_;
        int64_t count;
        DF_RETURN_IF_ERROR(Long(&count));
        if (count == 0) break;
        if (count < 0) {
          if (count == std::numeric_limits<int64_t>::min()) {
            pos_ = at;
            return Error("block count out of range");
          }
          count = -count;
          int64_t block_bytes;
          DF_RETURN_IF_ERROR(Long(&block_bytes));
        }
        // Each item takes at least one byte unless its type may be empty.
        const bool may_be_empty = !is_map && n.items->may_be_empty;
        if (!may_be_empty && count > end_ - pos_) {
          pos_ = at;
          return Error(
              fmt::format("block of {} items longer than the {} bytes left", count, end_ - at));
        }
        if (may_be_empty && (empty_items += count) > kMaxEmptyItems) {
          pos_ = at;
          return Error(
              fmt::format("more than {} items of a type that takes no bytes", kMaxEmptyItems));
        }
        for (int64_t k = 0; k < count; ++k) {
          if (!first) out->push_back(',');
          first = false;
          if (is_map) {
            const char* key_at = pos_;
            int64_t len;
            DF_RETURN_IF_ERROR(Long(&len));
            if (len < 0) {
              pos_ = key_at;
              return Error(fmt::format("negative length {}", len));
            }
            DF_RETURN_IF_ERROR(Need(static_cast<uint64_t>(len), "map key"));
            std::string_view key(pos_, static_cast<size_t>(len));
            if (!simdjson::validate_utf8(key.data(), key.size()))
              return Error("map key is not UTF-8");
            AppendJsonString(out, key);
            out->push_back(':');
            pos_ += len;
          }
          DF_RETURN_IF_ERROR(Walk(*n.items, out));
        }
      }
      out->push_back(is_map ? '}' : ']');
      return Status::OK();
    }
  }
  return Error("unknown type");
}

}  // namespace dataforge::registry::avro
