// JsonToAvro: plain JSON -> Avro binary (and validation, the same walk without output).
#include <charconv>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "common/decimal.h"
#include "common/escape.h"
#include "registry/avro/avro_json.h"

namespace dataforge::registry::avro {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// Records, arrays and maps nested deeper than this are refused (the walk recurses).
constexpr int kMaxEncodeDepth = 256;
constexpr int64_t kMaxSteps = 1'000'000;

std::string_view JsonTypeName(element v) {
  switch (v.type()) {
    case element_type::ARRAY:
      return "array";
    case element_type::OBJECT:
      return "object";
    case element_type::INT64:
    case element_type::UINT64:
      return "integer";
    case element_type::DOUBLE:
      return "number";
    case element_type::STRING:
      return "string";
    case element_type::BOOL:
      return "boolean";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "?";
}

// The value for an error message, at most ~40 characters.
std::string Shown(element v) {
  if (v.is_array()) return "array";
  if (v.is_object()) return "object";
  std::string text(simdjson::minify(v));
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return fmt::format("{} {}", JsonTypeName(v), EscapeControlChars(text));
}

std::string Expected(const AvroNode& n) {
  if (n.named()) return fmt::format("{} {}", AvroTypeName(n.type), n.full_name);
  if (!n.logical_type.empty()) return fmt::format("{} ({})", AvroTypeName(n.type), n.logical_type);
  return std::string(AvroTypeName(n.type));
}

void AppendPointerToken(std::string* out, std::string_view key) {
  out->push_back('/');
  for (char c : key) {
    if (c == '~') {
      out->append("~0");
    } else if (c == '/') {
      out->append("~1");
    } else {
      out->push_back(c);
    }
  }
}

// Latin-1 bytes of a JSON string (each character U+0000..U+00FF is one byte); false for a
// character beyond U+00FF.
bool Latin1(std::string_view s, std::string* bytes) {
  bytes->clear();
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      bytes->push_back(static_cast<char>(c));
    } else if ((c == 0xC2 || c == 0xC3) && i + 1 < s.size()) {
      bytes->push_back(
          static_cast<char>(((c & 0x03) << 6) | (static_cast<unsigned char>(s[++i]) & 0x3F)));
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<JsonMismatch> JsonToAvro::Run(const AvroNode& node, element value, std::string* out,
                                            size_t input_bytes, bool avro_json_bytes) {
  avro_json_bytes_ = avro_json_bytes;
  path_.clear();
  slots_.clear();
  fatal_ = false;
  steps_ = 0;
  max_steps_ = kMaxSteps + 32 * static_cast<int64_t>(input_bytes);
  quiet_ = 0;
  depth_ = 0;
  if (Walk(node, value, out)) return std::nullopt;
  return std::move(error_);
}

bool JsonToAvro::Fail(std::string_view rule, std::string message) {
  if (quiet_ > 0 && !fatal_) return false;
  error_.path.clear();
  for (const Segment& s : path_) {
    if (s.is_index) {
      error_.path += fmt::format("/{}", s.index);
    } else {
      AppendPointerToken(&error_.path, s.key);
    }
  }
  error_.rule = std::string(rule);
  error_.message = std::move(message);
  return false;
}

bool JsonToAvro::TooDeep() {
  fatal_ = true;  // no union branch can help: reported from wherever it happens
  return Fail("depth", fmt::format("record nested more than {} levels deep", kMaxEncodeDepth));
}

bool JsonToAvro::Mismatch(const AvroNode& n, element v) {
  if (quiet_ > 0) return false;
  return Fail("type", fmt::format("expected {}, got {}", Expected(n), Shown(v)));
}

bool JsonToAvro::Walk(const AvroNode& n, element v, std::string* out) {
  // Unions of records that differ deep down are tried one after the other: bound the work a
  // crafted record can cause.
  if (++steps_ > max_steps_) {
    fatal_ = true;
    return Fail("complexity", fmt::format("matching the record to the schema took more than {} "
                                          "steps (unions of similar records nested deeply)",
                                          max_steps_));
  }
  switch (n.type) {
    case AvroType::kNull:
      return v.is_null() || Mismatch(n, v);
    case AvroType::kBoolean: {
      bool b;
      if (v.get_bool().get(b) != simdjson::SUCCESS) return Mismatch(n, v);
      if (out) out->push_back(b ? 1 : 0);
      return true;
    }
    case AvroType::kInt:
    case AvroType::kLong: {
      int64_t i;
      if (v.type() != element_type::INT64 || v.get_int64().get(i) != simdjson::SUCCESS) {
        if (v.type() == element_type::UINT64) {
          return Fail("range", fmt::format("{} out of range for {}", Shown(v), Expected(n)));
        }
        return Mismatch(n, v);
      }
      if (n.type == AvroType::kInt &&
          (i < std::numeric_limits<int32_t>::min() || i > std::numeric_limits<int32_t>::max())) {
        return Fail("range", fmt::format("{} out of range for int", i));
      }
      if (out) AppendLong(i, out);
      return true;
    }
    case AvroType::kFloat:
    case AvroType::kDouble: {
      double d;
      std::string_view s;
      if (v.get_string().get(s) == simdjson::SUCCESS) {
        // Non-finite values as Avro's JSON encoding (and the mapper) spell them.
        if (s == "NaN") {
          d = std::numeric_limits<double>::quiet_NaN();
        } else if (s == "Infinity") {
          d = std::numeric_limits<double>::infinity();
        } else if (s == "-Infinity") {
          d = -std::numeric_limits<double>::infinity();
        } else {
          return Mismatch(n, v);
        }
      } else if (!v.is_number() || v.get_double().get(d) != simdjson::SUCCESS) {
        return Mismatch(n, v);
      }
      if (out) {
        char buf[8];
        if (n.type == AvroType::kFloat) {
          const auto f = static_cast<float>(d);
          std::memcpy(buf, &f, 4);
          out->append(buf, 4);
        } else {
          std::memcpy(buf, &d, 8);
          out->append(buf, 8);
        }
      }
      return true;
    }
    case AvroType::kString: {
      std::string_view s;
      if (v.get_string().get(s) != simdjson::SUCCESS) return Mismatch(n, v);
      if (out) {
        AppendLong(static_cast<int64_t>(s.size()), out);
        out->append(s);
      }
      return true;
    }
    case AvroType::kBytes:
    case AvroType::kFixed: {
      if (n.logical_type == "decimal" && !avro_json_bytes_) return Decimal(n, v, out);
      std::string_view s;
      if (v.get_string().get(s) != simdjson::SUCCESS) return Mismatch(n, v);
      return Bytes(n, s, out);
    }
    case AvroType::kEnum: {
      std::string_view s;
      if (v.get_string().get(s) != simdjson::SUCCESS) return Mismatch(n, v);
      for (size_t i = 0; i < n.symbols.size(); ++i) {
        if (n.symbols[i] == s) {
          if (out) AppendLong(static_cast<int64_t>(i), out);
          return true;
        }
      }
      if (quiet_ > 0) return false;
      return Fail("enum", fmt::format("\"{}\" is not a symbol of enum {}", EscapeControlChars(s),
                                      n.full_name));
    }
    case AvroType::kArray: {
      simdjson::dom::array arr;
      if (v.get_array().get(arr) != simdjson::SUCCESS) return Mismatch(n, v);
      if (++depth_ > kMaxEncodeDepth) return TooDeep();
      const size_t count = arr.size();
      if (out && count > 0) AppendLong(static_cast<int64_t>(count), out);
      size_t i = 0;
      for (element item : arr) {
        path_.push_back({{}, i++, true});
        if (!Walk(*n.items, item, out)) return false;
        path_.pop_back();
      }
      if (out) out->push_back(0);
      --depth_;
      return true;
    }
    case AvroType::kMap: {
      simdjson::dom::object obj;
      if (v.get_object().get(obj) != simdjson::SUCCESS) return Mismatch(n, v);
      if (++depth_ > kMaxEncodeDepth) return TooDeep();
      const size_t count = obj.size();
      if (out && count > 0) AppendLong(static_cast<int64_t>(count), out);
      for (auto field : obj) {
        if (out) {
          AppendLong(static_cast<int64_t>(field.key.size()), out);
          out->append(field.key);
        }
        path_.push_back({field.key, 0, false});
        if (!Walk(*n.items, field.value, out)) return false;
        path_.pop_back();
      }
      if (out) out->push_back(0);
      --depth_;
      return true;
    }
    case AvroType::kRecord:
      return Record(n, v, out);
    case AvroType::kUnion:
      return Union(n, v, out);
  }
  return Mismatch(n, v);
}

bool JsonToAvro::Record(const AvroNode& n, element v, std::string* out) {
  simdjson::dom::object obj;
  if (v.get_object().get(obj) != simdjson::SUCCESS) return Mismatch(n, v);
  if (++depth_ > kMaxEncodeDepth) {
    return TooDeep();
  }
  // This record's values in schema order, in slots_[base, base + nfields) (a stack shared by
  // the levels keeps the recursion's frames small); released on every way out.
  const size_t nfields = n.fields.size();
  const size_t base = slots_.size();
  slots_.resize(base + nfields, Slot{});
  struct Release {
    std::vector<Slot>* slots;
    size_t base;
    ~Release() { slots->resize(base); }
  } release{&slots_, base};
  size_t hint = 0;
  for (auto field : obj) {
    size_t index;
    if (hint < nfields && n.fields[hint].name == field.key) {
      index = hint;
    } else {
      auto it = n.field_index.find(field.key);
      if (it == n.field_index.end()) {
        if (quiet_ > 0) return false;
        path_.push_back({field.key, 0, false});
        return Fail("unknown field", fmt::format("field \"{}\" is not in record {}",
                                                 EscapeControlChars(field.key), n.full_name));
      }
      index = static_cast<size_t>(it->second);
    }
    hint = index + 1;
    slots_[base + index] = Slot{field.value, true};
  }
  for (size_t i = 0; i < nfields; ++i) {
    const AvroField& f = n.fields[i];
    if (!slots_[base + i].present) {
      if (!f.has_default) {
        if (quiet_ > 0) return false;
        path_.push_back({f.name, 0, false});
        return Fail("missing field", fmt::format("field \"{}\" of record {} is missing and has no "
                                                 "default",
                                                 f.name, n.full_name));
      }
      if (out) out->append(f.default_bytes);
      continue;
    }
    path_.push_back({f.name, 0, false});
    if (!Walk(*f.type, slots_[base + i].value, out)) return false;
    path_.pop_back();
  }
  --depth_;
  return true;
}

bool JsonToAvro::Union(const AvroNode& n, element v, std::string* out) {
  for (size_t i = 0; i < n.branches.size(); ++i) {
    const AvroNode& b = *n.branches[i];
    // Cheap rejections before a deep try.
    if (v.is_null() != (b.type == AvroType::kNull)) continue;
    // Try the branch, writing as we go: one walk per branch tried (probing first and writing
    // after would double the work at each nested union).
    const size_t path_size = path_.size();
    const int depth = depth_;
    const size_t out_size = out ? out->size() : 0;
    if (out) AppendLong(static_cast<int64_t>(i), out);
    ++quiet_;
    const bool ok = Walk(b, v, out);
    --quiet_;
    if (ok) return true;
    if (fatal_) return false;
    path_.resize(path_size);
    depth_ = depth;
    if (out) out->resize(out_size);
  }
  if (quiet_ > 0) return false;
  std::string names;
  for (const AvroNode* b : n.branches) {
    if (!names.empty()) names += ", ";
    names += Expected(*b);
  }
  return Fail("union", fmt::format("{} matches no branch of the union [{}]", Shown(v), names));
}

bool JsonToAvro::Bytes(const AvroNode& n, std::string_view s, std::string* out) {
  if (!Latin1(s, &scratch_)) {
    return Fail("type", fmt::format("{} has a character beyond U+00FF: bytes are written as a "
                                    "string of characters U+0000..U+00FF",
                                    Expected(n)));
  }
  if (n.type == AvroType::kFixed) {
    if (scratch_.size() != n.size) {
      return Fail("size",
                  fmt::format("{} holds {} bytes, got {}", Expected(n), n.size, scratch_.size()));
    }
  } else if (out) {
    AppendLong(static_cast<int64_t>(scratch_.size()), out);
  }
  if (out) out->append(scratch_);
  return true;
}

bool JsonToAvro::Decimal(const AvroNode& n, element v, std::string* out) {
  std::string text;
  std::string_view s;
  int64_t i;
  double d;
  if (v.get_string().get(s) == simdjson::SUCCESS) {
    text = std::string(s);
  } else if (v.type() == element_type::INT64 && v.get_int64().get(i) == simdjson::SUCCESS) {
    text = std::to_string(i);
  } else if (v.is_number() && v.get_double().get(d) == simdjson::SUCCESS) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, d);
    text.assign(buf, r.ptr);
  } else {
    return Mismatch(n, v);
  }
  std::optional<dataforge::Decimal> dec = ParseDecimal(text);
  if (!dec) return Fail("type", fmt::format("expected a decimal number, got {}", Shown(v)));
  if (dec->scale > n.scale) {
    // Only trailing zeros may go.
    const size_t drop = static_cast<size_t>(dec->scale - n.scale);
    const size_t keep = dec->digits.size() > drop ? dec->digits.size() - drop : 0;
    if (dec->digits.find_first_not_of('0', keep) != std::string::npos) {
      return Fail("scale", fmt::format("{} has more than {} fraction digits", Shown(v), n.scale));
    }
    dec->digits = keep == 0 ? "0" : dec->digits.substr(0, keep);
  } else if (dec->digits != "0") {
    dec->digits.append(static_cast<size_t>(n.scale - dec->scale), '0');
  }
  dec->scale = n.scale;
  if (dec->digits != "0" && dec->digits.size() > static_cast<size_t>(n.precision)) {
    return Fail("precision", fmt::format("{} has more than {} digits", Shown(v), n.precision));
  }
  std::string unscaled = DecimalToCql(*dec).substr(4);
  if (n.type == AvroType::kFixed) {
    if (unscaled.size() > n.size) {
      return Fail("size", fmt::format("{} does not fit in {} bytes", Shown(v), n.size));
    }
    const char fill = (static_cast<unsigned char>(unscaled[0]) & 0x80) ? '\xff' : '\0';
    unscaled.insert(0, n.size - unscaled.size(), fill);
  } else if (out) {
    AppendLong(static_cast<int64_t>(unscaled.size()), out);
  }
  if (out) out->append(unscaled);
  return true;
}

}  // namespace dataforge::registry::avro
