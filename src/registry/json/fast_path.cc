#include "registry/json/fast_path.h"

// <regex>: GCC 12's false positive at -O1 with the sanitizers, see valijson_includes.h.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <regex>

#include <string_view>

namespace dataforge::registry::json_schema {

struct FastSchema::Pattern {
  std::regex re;
};

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// Two digits at s[i] forming a number in [lo, hi].
bool TwoDigits(std::string_view s, size_t i, int lo, int hi, int* value) {
  if (i + 2 > s.size() || !IsDigit(s[i]) || !IsDigit(s[i + 1])) return false;
  *value = (s[i] - '0') * 10 + (s[i + 1] - '0');
  return *value >= lo && *value <= hi;
}

// valijson's validate_date_range.
bool DayInMonth(int month, int day) {
  if (month == 2) return day <= 29;
  int limit = 31;
  if (month <= 7) {
    if (month % 2 == 0) limit = 30;
  } else if (month % 2 != 0) {
    limit = 30;
  }
  return day <= limit;
}

// ([0-9]+)-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01]) from s[*i]; *i moves past it.
bool DatePart(std::string_view s, size_t* i, int* month, int* day) {
  size_t p = *i;
  while (p < s.size() && IsDigit(s[p])) ++p;
  if (p == *i || p >= s.size() || s[p] != '-') return false;
  if (!TwoDigits(s, p + 1, 1, 12, month)) return false;
  if (p + 3 >= s.size() || s[p + 3] != '-') return false;
  if (!TwoDigits(s, p + 4, 1, 31, day)) return false;
  *i = p + 6;
  return true;
}

// ([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9]|60)(\.[0-9]+)?([Zz]|[+|-]([01][0-9]|2[0-3]):[0-5][0-9])
// to the end of s.
bool TimePart(std::string_view s, size_t i) {
  int v = 0;
  if (!TwoDigits(s, i, 0, 23, &v) || i + 2 >= s.size() || s[i + 2] != ':') return false;
  if (!TwoDigits(s, i + 3, 0, 59, &v) || i + 5 >= s.size() || s[i + 5] != ':') return false;
  if (!TwoDigits(s, i + 6, 0, 60, &v)) return false;
  i += 8;
  if (i < s.size() && s[i] == '.') {
    size_t p = i + 1;
    while (p < s.size() && IsDigit(s[p])) ++p;
    if (p == i + 1) return false;
    i = p;
  }
  if (i >= s.size()) return false;
  if (s[i] == 'Z' || s[i] == 'z') return i + 1 == s.size();
  if (s[i] != '+' && s[i] != '-' && s[i] != '|') return false;
  if (!TwoDigits(s, i + 1, 0, 23, &v) || i + 3 >= s.size() || s[i + 3] != ':') return false;
  if (!TwoDigits(s, i + 4, 0, 59, &v)) return false;
  return i + 6 == s.size();
}

// valijson's u8_strlen: characters up to the first NUL byte; nullopt when there is one (the
// fast path then leaves the decision to valijson).
std::optional<uint64_t> Utf8Length(std::string_view s) {
  uint64_t n = 0;
  for (char c : s) {
    if (c == '\0') return std::nullopt;
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

bool NumberOf(element e, double* out) {
  return e.get_double().get(*out) == simdjson::SUCCESS;
}

bool IsAnnotation(std::string_view key) {
  return key == "$schema" || key == "$id" || key == "title" || key == "description" ||
         key == "$comment" || key == "default" || key == "examples";
}

}  // namespace

bool IsValijsonDate(std::string_view s) {
  size_t i = 0;
  int month = 0, day = 0;
  return DatePart(s, &i, &month, &day) && i == s.size() && DayInMonth(month, day);
}

bool IsValijsonTime(std::string_view s) {
  return TimePart(s, 0);
}

bool IsValijsonDateTime(std::string_view s) {
  size_t i = 0;
  int month = 0, day = 0;
  if (!DatePart(s, &i, &month, &day)) return false;
  if (i >= s.size() || (s[i] != 'T' && s[i] != 't')) return false;
  return TimePart(s, i + 1) && DayInMonth(month, day);
}

std::optional<FastSchema> FastSchema::Compile(element schema) {
  if (schema.type() != element_type::OBJECT) return std::nullopt;
  FastSchema fast;
  bool typed_object = false, has_properties = false;
  std::vector<std::string> required;
  for (auto [key, value] : simdjson::dom::object(schema.get_object().value_unsafe())) {
    if (key == "type") {
      std::string_view t;
      if (value.get_string().get(t) != simdjson::SUCCESS || t != "object") return std::nullopt;
      typed_object = true;
    } else if (key == "required") {
      if (value.type() != element_type::ARRAY) return std::nullopt;
      for (element n : simdjson::dom::array(value.get_array().value_unsafe())) {
        std::string_view s;
        if (n.get_string().get(s) != simdjson::SUCCESS) return std::nullopt;
        required.emplace_back(s);
      }
    } else if (key == "additionalProperties") {
      if (value.type() != element_type::BOOL) return std::nullopt;
      fast.additional_ = value.get_bool().value_unsafe();
    } else if (key == "properties") {
      if (value.type() != element_type::OBJECT) return std::nullopt;
      has_properties = true;
      for (auto [name, sub] : simdjson::dom::object(value.get_object().value_unsafe())) {
        if (sub.type() != element_type::OBJECT) return std::nullopt;
        Property p;
        p.name = std::string(name);
        for (const auto& existing : fast.properties_) {
          if (existing.name == p.name) return std::nullopt;  // duplicate member
        }
        for (auto [k, v] : simdjson::dom::object(sub.get_object().value_unsafe())) {
          if (k == "type") {
            auto bit = [](std::string_view t) -> uint8_t {
              if (t == "string") return kString;
              if (t == "integer") return kInteger;
              if (t == "number") return kNumber;
              if (t == "boolean") return kBoolean;
              if (t == "null") return kNull;
              if (t == "object") return kObject;
              if (t == "array") return kArray;
              return 0;
            };
            p.types = 0;
            std::string_view t;
            if (v.get_string().get(t) == simdjson::SUCCESS) {
              p.types = bit(t);
            } else if (v.type() == element_type::ARRAY) {
              for (element n : simdjson::dom::array(v.get_array().value_unsafe())) {
                if (n.get_string().get(t) != simdjson::SUCCESS) return std::nullopt;
                p.types |= bit(t);
              }
            } else {
              return std::nullopt;
            }
            if (p.types == 0) return std::nullopt;
          } else if (k == "maxLength" || k == "minLength") {
            uint64_t n = 0;
            if (v.get_uint64().get(n) != simdjson::SUCCESS) return std::nullopt;
            (k == "maxLength" ? p.max_length : p.min_length) = n;
          } else if (k == "minimum" || k == "maximum" || k == "exclusiveMinimum" ||
                     k == "exclusiveMaximum") {
            double d = 0;
            if (!NumberOf(v, &d)) return std::nullopt;
            const bool max = k == "maximum" || k == "exclusiveMaximum";
            const bool exclusive = k[0] == 'e';
            auto& bound = max ? p.maximum : p.minimum;
            bool& excl = max ? p.exclusive_maximum : p.exclusive_minimum;
            if (bound) return std::nullopt;  // both inclusive and exclusive: leave to valijson
            bound = d;
            excl = exclusive;
          } else if (k == "enum") {
            if (v.type() != element_type::ARRAY) return std::nullopt;
            p.has_enum = true;
            for (element e : simdjson::dom::array(v.get_array().value_unsafe())) {
              std::string_view s;
              bool b = false;
              if (e.get_string().get(s) == simdjson::SUCCESS) {
                p.enum_strings.emplace_back(s);
              } else if (e.get_bool().get(b) == simdjson::SUCCESS) {
                (b ? p.enum_true : p.enum_false) = true;
              } else if (e.is_null()) {
                p.enum_null = true;
              } else {
                return std::nullopt;
              }
            }
          } else if (k == "pattern") {
            std::string_view re;
            if (v.get_string().get(re) != simdjson::SUCCESS) return std::nullopt;
            try {
              p.pattern = std::make_shared<const Pattern>(Pattern{std::regex(std::string(re))});
            } catch (const std::regex_error&) {
              return std::nullopt;  // valijson fails such records; let it
            }
          } else if (k == "format") {
            std::string_view f;
            if (v.get_string().get(f) != simdjson::SUCCESS) return std::nullopt;
            p.format = f == "date-time" ? Format::kDateTime
                       : f == "date"    ? Format::kDate
                       : f == "time"    ? Format::kTime
                                        : Format::kOther;
          } else if (!IsAnnotation(k)) {
            return std::nullopt;
          }
        }
        fast.properties_.push_back(std::move(p));
      }
    } else if (!IsAnnotation(key)) {
      return std::nullopt;
    }
  }
  if (!typed_object || !has_properties || fast.properties_.size() > 64) return std::nullopt;
  for (const auto& name : required) {
    bool found = false;
    for (auto& p : fast.properties_) {
      if (p.name == name) p.required = found = true;
    }
    if (!found) fast.required_only_.push_back(name);
  }
  return fast;
}

bool FastSchema::CheckValue(const Property& p, element value) const {
  std::string_view s;
  if (p.format != Format::kNone && value.type() != element_type::STRING) return false;
  switch (value.type()) {
    case element_type::STRING: {
      if (!(p.types & kString)) return false;
      s = value.get_string().value_unsafe();
      if (p.max_length || p.min_length) {
        const auto n = Utf8Length(s);
        if (!n) return false;
        if (p.max_length && *n > *p.max_length) return false;
        if (p.min_length && *n < *p.min_length) return false;
      }
      if (p.pattern && !std::regex_search(s.begin(), s.end(), p.pattern->re)) return false;
      if (p.format == Format::kDateTime && !IsValijsonDateTime(s)) return false;
      if (p.format == Format::kDate && !IsValijsonDate(s)) return false;
      if (p.format == Format::kTime && !IsValijsonTime(s)) return false;
      if (p.has_enum) {
        for (const auto& e : p.enum_strings) {
          if (e == s) return true;
        }
        return false;
      }
      return true;
    }
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: {
      const bool integer = value.type() != element_type::DOUBLE;
      if (!(p.types & kNumber) && !(integer && (p.types & kInteger))) return false;
      if (p.has_enum) return false;
      double d = 0;
      if (!NumberOf(value, &d)) return false;
      if (p.maximum && (p.exclusive_maximum ? d >= *p.maximum : d > *p.maximum)) return false;
      if (p.minimum && (p.exclusive_minimum ? d <= *p.minimum : d < *p.minimum)) return false;
      return true;
    }
    case element_type::BOOL: {
      if (!(p.types & kBoolean)) return false;
      if (!p.has_enum) return true;
      return value.get_bool().value_unsafe() ? p.enum_true : p.enum_false;
    }
    case element_type::NULL_VALUE:
      return (p.types & kNull) && (!p.has_enum || p.enum_null);
    case element_type::OBJECT:
      return (p.types & kObject) && !p.has_enum;
    case element_type::ARRAY:
      return (p.types & kArray) && !p.has_enum;
  }
  return false;
}

bool FastSchema::Accepts(element record) const {
  if (record.type() != element_type::OBJECT || !required_only_.empty()) return false;
  uint64_t seen = 0;
  for (auto [key, value] : simdjson::dom::object(record.get_object().value_unsafe())) {
    size_t i = 0;
    while (i < properties_.size() && properties_[i].name != key) ++i;
    if (i == properties_.size()) {
      if (!additional_) return false;
      continue;
    }
    const uint64_t bit = uint64_t{1} << i;
    if (seen & bit) return false;  // a duplicate member: valijson decides
    seen |= bit;
    if (!CheckValue(properties_[i], value)) return false;
  }
  for (size_t i = 0; i < properties_.size(); ++i) {
    if (properties_[i].required && !(seen & (uint64_t{1} << i))) return false;
  }
  return true;
}

}  // namespace dataforge::registry::json_schema
