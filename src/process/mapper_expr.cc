// `expr` columns of the mapping (docs/expressions.md "In the pipeline file"): the expression's
// value cast to the column's type, as a path's value is cast (docs/pipeline-file.md).
#include <charconv>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "common/decimal.h"
#include "common/json_writer.h"
#include "common/timestamp.h"
#include "common/uuid.h"
#include "process/mapper.h"

namespace dataforge {
namespace {

using expr::Kind;
using expr::Value;

// Years 0001-9999, as the path columns take timestamps.
constexpr int64_t kMinMs = -62135596800000;
constexpr int64_t kMaxMs = 253402300799999;

bool ParseInt64(std::string_view s, int64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

bool Mapper::ExprColumnValue(const Column& c, const expr::Input& in, std::string* out_json,
                             std::string* out_text, bool* present, std::string* error) {
  Status st = c.expr->EvaluateInto(in, &value_);
  if (!st.ok()) {
    *error =
        fmt::format("column \"{}\": expression \"{}\": {}", c.name, c.expr->text(), st.message());
    return false;
  }
  const Value& v = value_;
  std::string& text = *out_text;
  text.clear();
  *present = !v.is_null();
  if (!*present) return true;
  auto fail = [&](std::string_view what) {
    *error = fmt::format("column \"{}\": expression \"{}\" gave {}, which is not {}", c.name,
                         c.expr->text(), expr::DescribeValue(v), what);
    return false;
  };
  switch (c.type) {
    case Type::kText:
      expr::AppendText(v, &text);
      AppendJsonString(out_json, text);
      return true;
    case Type::kUuid:
      if (v.kind != Kind::kString || !IsUuidText(v.s)) return fail("a UUID");
      text = v.s;
      for (char& ch : text) {
        if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
      }
      AppendJsonString(out_json, text);
      return true;
    case Type::kInt:
    case Type::kBigint: {
      int64_t i = 0;
      bool ok = false;
      if (v.kind == Kind::kInt) {
        i = v.i;
        ok = true;
      } else if (v.kind == Kind::kDouble) {
        // A whole double (round() gives one) is an integer; 2.5 is not: CAST rounds it.
        ok = std::trunc(v.d) == v.d && v.d >= -9223372036854775808.0 && v.d < 9223372036854775808.0;
        if (ok) i = static_cast<int64_t>(v.d);
      } else if (v.kind == Kind::kString) {
        ok = ParseInt64(v.s, &i);
      }
      if (ok && c.type == Type::kInt && (i < INT32_MIN || i > INT32_MAX)) ok = false;
      if (!ok) return fail(c.type == Type::kInt ? "a 32-bit integer" : "a 64-bit integer");
      text = std::to_string(i);
      out_json->append(text);
      return true;
    }
    case Type::kDouble: {
      double d = 0;
      if (v.kind == Kind::kInt) {
        d = static_cast<double>(v.i);
      } else if (v.kind == Kind::kDouble) {
        d = v.d;
      } else if (v.kind == Kind::kString) {
        char* end = nullptr;
        d = std::strtod(v.s.c_str(), &end);
        if (v.s.empty() || end != v.s.c_str() + v.s.size()) return fail("a number");
      } else {
        return fail("a number");
      }
      // As the path columns write them: JSON has no NaN or infinities (mapper.cc).
      if (std::isnan(d) || std::isinf(d)) {
        text = std::isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity";
        AppendJsonString(out_json, text);
      } else if (d == 0 && std::signbit(d)) {
        text = "-0";
        out_json->append("-0.0");
      } else {
        text = fmt::format("{}", d);
        out_json->append(text);
      }
      return true;
    }
    case Type::kBoolean:
      if (v.kind == Kind::kBool) {
        text = v.b ? "true" : "false";
      } else if (v.kind == Kind::kString && (v.s == "true" || v.s == "false")) {
        text = v.s;
      } else {
        return fail("a boolean");
      }
      out_json->append(text);
      return true;
    case Type::kTimestamp: {
      std::optional<int64_t> ms;
      if (v.kind == Kind::kTimestamp) {
        ms = v.i;
      } else if (v.kind == Kind::kString) {
        ms = ParseTimestampMillis(v.s);
      } else if (v.kind == Kind::kInt) {  // seconds since the epoch, as for paths
        if (v.i >= kMinMs / 1000 && v.i <= kMaxMs / 1000) ms = v.i * 1000;
      } else if (v.kind == Kind::kDouble) {
        const double m = v.d * 1000;
        if (m >= static_cast<double>(kMinMs) && m <= static_cast<double>(kMaxMs)) {
          ms = static_cast<int64_t>(m);
        }
      }
      if (!ms || *ms < kMinMs || *ms > kMaxMs) return fail("a timestamp");
      text = FormatTimestampMillis(*ms);
      AppendJsonString(out_json, text);
      return true;
    }
    case Type::kDecimal: {
      std::string digits;
      if (v.kind == Kind::kInt || v.kind == Kind::kDouble || v.kind == Kind::kString) {
        expr::AppendText(v, &digits);
      }
      std::optional<Decimal> d = ParseDecimal(digits);
      if (!d) return fail("a decimal (NaN and Infinity are none: use a double or text column)");
      text = FormatDecimal(*d);
      AppendJsonString(out_json, text);
      return true;
    }
  }
  return true;
}

}  // namespace dataforge
