// CAST(x AS type) and the text form of values (docs/expressions.md "Casting").
#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "common/json_writer.h"
#include "common/timestamp.h"
#include "expr/ast.h"

namespace dataforge::expr {
namespace {

// Years 0001-9999, as the mapper's timestamp columns take them.
constexpr int64_t kMinMs = -62135596800000;  // 0001-01-01T00:00:00Z
constexpr int64_t kMaxMs = 253402300799999;  // 9999-12-31T23:59:59.999Z

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool ParseInt64(std::string_view s, int64_t* out) {
  s = Trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

bool ParseDouble(std::string_view s, double* out) {
  std::string text(Trim(s));
  if (text.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size();
}

bool EqualsLowercase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

Status CannotCast(const Value& v, Kind to, std::string_view why = "") {
  return Status::InvalidArgument(
      fmt::format("cannot cast {} to {}{}", DescribeValue(v), KindName(to), why));
}

}  // namespace

std::string Literal(const Value& v) {
  std::string s;
  switch (v.kind) {
    case Kind::kNull:
      return "NULL";
    case Kind::kBool:
      return v.b ? "TRUE" : "FALSE";
    case Kind::kString: {
      std::string_view body(v.s);
      bool cut = body.size() > 60;
      if (cut) body = body.substr(0, 57);
      s.push_back('\'');
      for (char c : body) {
        s.push_back(c);
        if (c == '\'') s.push_back('\'');
      }
      s.append(cut ? "...'" : "'");
      return s;
    }
    case Kind::kTimestamp:
      return "TIMESTAMP '" + FormatTimestampMillis(v.i) + "'";
    case Kind::kJson:
      return v.s.size() > 60 ? v.s.substr(0, 57) + "..." : v.s;
    default:
      AppendText(v, &s);
      return s;
  }
}

Status CastValue(const Value& v, Kind to, Value* out) {
  if (v.kind == Kind::kNull) {
    out->kind = Kind::kNull;
    return Status::OK();
  }
  if (v.kind == to) {
    if (out != &v) *out = v;
    return Status::OK();
  }
  switch (to) {
    case Kind::kNull:
      out->kind = Kind::kNull;
      return Status::OK();
    case Kind::kString: {
      std::string text;
      AppendText(v, &text);
      out->s.swap(text);
      out->kind = Kind::kString;
      return Status::OK();
    }
    case Kind::kInt: {
      int64_t i = 0;
      switch (v.kind) {
        case Kind::kBool:
          i = v.b ? 1 : 0;
          break;
        case Kind::kDouble: {
          // Rounded half away from zero, as PostgreSQL casts a double to an integer.
          double r = std::round(v.d);
          if (!(r >= -9223372036854775808.0 && r < 9223372036854775808.0)) {
            return CannotCast(v, to, ": out of the range of a 64-bit integer");
          }
          i = static_cast<int64_t>(r);
          break;
        }
        case Kind::kString:
          if (!ParseInt64(v.s, &i)) return CannotCast(v, to);
          break;
        case Kind::kTimestamp:  // seconds since the epoch, toward the past
          i = v.i >= 0 ? v.i / 1000 : -((-v.i + 999) / 1000);
          break;
        default:
          return CannotCast(v, to);
      }
      out->kind = Kind::kInt;
      out->i = i;
      return Status::OK();
    }
    case Kind::kDouble: {
      double d = 0;
      switch (v.kind) {
        case Kind::kBool:
          d = v.b ? 1 : 0;
          break;
        case Kind::kInt:
          d = static_cast<double>(v.i);
          break;
        case Kind::kString:
          if (!ParseDouble(v.s, &d)) return CannotCast(v, to);
          break;
        case Kind::kTimestamp:
          d = static_cast<double>(v.i) / 1000;
          break;
        default:
          return CannotCast(v, to);
      }
      out->kind = Kind::kDouble;
      out->d = d;
      return Status::OK();
    }
    case Kind::kBool: {
      bool b = false;
      if (v.kind == Kind::kInt) {
        b = v.i != 0;
      } else if (v.kind == Kind::kString) {
        std::string_view s = Trim(v.s);
        if (EqualsLowercase(s, "true") || EqualsLowercase(s, "t") || EqualsLowercase(s, "yes") ||
            EqualsLowercase(s, "y") || s == "1") {
          b = true;
        } else if (!(EqualsLowercase(s, "false") || EqualsLowercase(s, "f") ||
                     EqualsLowercase(s, "no") || EqualsLowercase(s, "n") || s == "0")) {
          return CannotCast(v, to, " (true/false, t/f, yes/no, 1/0)");
        }
      } else {
        return CannotCast(v, to);
      }
      out->kind = Kind::kBool;
      out->b = b;
      return Status::OK();
    }
    case Kind::kTimestamp: {
      std::optional<int64_t> ms;
      if (v.kind == Kind::kString) {
        ms = ParseTimestampMillis(Trim(v.s));
      } else if (v.kind == Kind::kInt) {  // seconds since the epoch
        if (v.i >= kMinMs / 1000 && v.i <= kMaxMs / 1000) ms = v.i * 1000;
      } else if (v.kind == Kind::kDouble) {
        double m = std::floor(v.d * 1000);
        if (m >= static_cast<double>(kMinMs) && m <= static_cast<double>(kMaxMs)) {
          ms = static_cast<int64_t>(m);
        }
      }
      if (!ms) return CannotCast(v, to);
      out->kind = Kind::kTimestamp;
      out->i = *ms;
      return Status::OK();
    }
    case Kind::kJson: {
      std::string text;
      if (v.kind == Kind::kString) {
        // The text must be JSON; it is kept in its compact form.
        simdjson::dom::parser parser;
        simdjson::dom::element e;
        if (parser.parse(v.s).get(e) != simdjson::SUCCESS) {
          return CannotCast(v, to, ": it is not JSON text");
        }
        text = simdjson::minify(e);
      } else if (v.kind == Kind::kTimestamp) {
        AppendJsonString(&text, FormatTimestampMillis(v.i));
      } else if (v.kind == Kind::kDouble && !std::isfinite(v.d)) {
        text = "null";  // JSON has no NaN or infinities
      } else {
        AppendText(v, &text);
      }
      out->s.swap(text);
      out->kind = Kind::kJson;
      return Status::OK();
    }
  }
  return CannotCast(v, to);
}

}  // namespace dataforge::expr
