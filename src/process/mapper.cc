#include "process/mapper.h"

#include <simdjson.h>

#include <charconv>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "common/decimal.h"
#include "common/escape.h"
#include "common/json_writer.h"
#include "common/timestamp.h"
#include "common/uuid.h"

namespace dataforge {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// What a record says about a path: a value, an explicit null (the value or an object on the
// way is null), or nothing (a step is missing, or crosses a scalar or an array).
enum class Found { kAbsent, kNull, kValue };

// A step into a string continues inside the JSON text the string holds: json/jsonb values of a
// change event are their JSON text (pgoutput.h AppendValueJson), and `data.payload.name` reaches
// into them. `nested` parses that text; an element found there is valid until its next parse.
Found Lookup(const element& root, const std::vector<std::string>& parts, element* out,
             simdjson::dom::parser* nested) {
  element cur = root;
  for (const auto& p : parts) {
    if (cur.is_null()) return Found::kNull;
    if (cur.type() == element_type::STRING) {
      const std::string text(cur.get_string().value_unsafe());  // copied: it may live in `nested`
      if (nested->parse(text).get(cur) != simdjson::SUCCESS) return Found::kAbsent;
      if (cur.is_null()) return Found::kNull;
    }
    element next;
    if (cur.type() != element_type::OBJECT ||
        cur.get_object().at_key(p).get(next) != simdjson::SUCCESS) {
      return Found::kAbsent;
    }
    cur = next;
  }
  if (cur.is_null()) return Found::kNull;
  *out = cur;
  return Found::kValue;
}

// Follows `parts` from `root`; false if any step is missing or the value is null.
bool Resolve(const element& root, const std::vector<std::string>& parts, element* out,
             simdjson::dom::parser* nested) {
  return Lookup(root, parts, out, nested) == Found::kValue;
}

// A scalar as text (strings as they are, numbers as decimal text); false for objects/arrays.
bool ScalarText(const element& e, std::string* out) {
  switch (e.type()) {
    case element_type::STRING:
      out->assign(std::string_view(e.get_string().value_unsafe()));
      return true;
    case element_type::INT64:
      *out = std::to_string(e.get_int64().value_unsafe());
      return true;
    case element_type::UINT64:
      *out = std::to_string(e.get_uint64().value_unsafe());
      return true;
    case element_type::DOUBLE:
      *out = fmt::format("{}", e.get_double().value_unsafe());
      return true;
    case element_type::BOOL:
      *out = e.get_bool().value_unsafe() ? "true" : "false";
      return true;
    default:
      return false;
  }
}

// ScalarText, appended to `out`.
bool AppendScalarText(const element& e, std::string* out) {
  switch (e.type()) {
    case element_type::STRING:
      out->append(std::string_view(e.get_string().value_unsafe()));
      return true;
    case element_type::INT64:
    case element_type::UINT64: {
      char buf[24];
      auto [end, ec] = e.type() == element_type::INT64
                           ? std::to_chars(buf, buf + sizeof buf, e.get_int64().value_unsafe())
                           : std::to_chars(buf, buf + sizeof buf, e.get_uint64().value_unsafe());
      out->append(buf, end);
      return true;
    }
    case element_type::DOUBLE:
      fmt::format_to(std::back_inserter(*out), "{}", e.get_double().value_unsafe());
      return true;
    case element_type::BOOL:
      out->append(e.get_bool().value_unsafe() ? "true" : "false");
      return true;
    default:
      return false;
  }
}

std::string Describe(const element& e) {
  std::string s = simdjson::minify(e);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

template <typename T>
bool ParseInt(std::string_view s, T* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

}  // namespace

Mapper::Mapper(Mapper&&) noexcept = default;
Mapper& Mapper::operator=(Mapper&&) noexcept = default;
Mapper::~Mapper() = default;

Result<Mapper> Mapper::Create(const ProcessConfig& config) {
  Mapper m;
  m.parser_ = std::make_unique<simdjson::dom::parser>();
  m.nested_parser_ = std::make_unique<simdjson::dom::parser>();
  auto compile_path = [](const std::string& text) {
    Path p;
    p.text = text;
    if (text == "$key") {
      p.is_key = true;
      return p;
    }
    if (text == "$timestamp") {
      p.is_record_time = true;
      return p;
    }
    size_t start = 0;
    while (true) {
      size_t dot = text.find('.', start);
      p.parts.push_back(text.substr(start, dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    return p;
  };
  for (size_t i = 0; i < config.columns.size(); ++i) {
    const ColumnSpec& spec = config.columns[i];
    auto err = [&](const std::string& what) {
      return Status::ConfigError(
          fmt::format("line {}: column '{}': {}", spec.line, spec.name, what));
    };
    Column c;
    c.name = spec.name;
    c.json_name = JsonString(spec.name);
    c.required = spec.required;
    static const std::pair<const char*, Type> kTypes[] = {
        {"text", Type::kText},           {"uuid", Type::kUuid},      {"int", Type::kInt},
        {"bigint", Type::kBigint},       {"double", Type::kDouble},  {"boolean", Type::kBoolean},
        {"timestamp", Type::kTimestamp}, {"decimal", Type::kDecimal}};
    bool known = false;
    for (const auto& [name, type] : kTypes) {
      if (spec.type == name) {
        c.type = type;
        known = true;
      }
    }
    if (!known) return err(fmt::format("unknown type '{}'", spec.type));
    if (!spec.expr.empty()) {
      if (!spec.paths.empty() || !spec.templates.empty()) {
        return err("has an 'expr' and a 'path' or 'template': give one of them");
      }
      auto e = expr::Expression::Compile(spec.expr, "", spec.line,
                                         spec.expr_column ? spec.expr_column : 1);
      if (!e.ok()) {
        return Status::ConfigError(fmt::format("column '{}': {}", spec.name, e.status().message()));
      }
      c.expr = std::move(e).value();
      m.has_expressions_ = true;
    } else if (spec.paths.empty() && spec.templates.empty()) {
      return err("needs a path, a template or an expr");
    }
    for (const auto& p : spec.paths) {
      if (p.empty() || p.front() == '.' || p.back() == '.' || p.find("..") != std::string::npos) {
        return err(fmt::format("path '{}' is not a dotted field path", p));
      }
      c.paths.push_back(compile_path(p));
    }
    for (const auto& t : spec.templates) {
      std::vector<TemplatePart> parts;
      std::string literal;
      for (size_t k = 0; k < t.size(); ++k) {
        if (t[k] == '{' && k + 1 < t.size() && t[k + 1] == '{') {
          literal += '{';
          ++k;
        } else if (t[k] == '}' && k + 1 < t.size() && t[k + 1] == '}') {
          literal += '}';
          ++k;
        } else if (t[k] == '{') {
          size_t close = t.find('}', k);
          if (close == std::string::npos)
            return err(fmt::format("template '{}' has an unclosed '{{'", t));
          std::string path = t.substr(k + 1, close - k - 1);
          if (path.empty()) return err(fmt::format("template '{}' has an empty {{}}", t));
          if (!literal.empty()) parts.push_back({false, std::move(literal), {}});
          literal.clear();
          parts.push_back({true, "", compile_path(path)});
          k = close;
        } else {
          literal += t[k];
        }
      }
      if (!literal.empty()) parts.push_back({false, std::move(literal), {}});
      if (parts.empty()) return err("has an empty template");
      c.templates.push_back(std::move(parts));
    }
    if (spec.name == config.key_column) m.key_column_ = i;
    m.columns_.push_back(std::move(c));
  }
  if (m.columns_.empty()) return Status::ConfigError("the mapping has no columns");
  auto names = std::make_shared<std::vector<std::string>>();
  for (const Column& c : m.columns_) names->push_back(c.name);
  m.column_names_ = std::move(names);
  auto where = RecordFilter::Compile(config.where, "", config.where_line,
                                     config.where_column ? config.where_column : 1);
  if (!where.ok()) return Status::ConfigError("process.where: " + where.status().message());
  m.where_ = std::move(where).value();
  m.has_expressions_ = m.has_expressions_ || !m.where_.keeps_all();
  if (!config.delete_path.empty()) {
    m.delete_path_ = compile_path(config.delete_path);
    m.delete_value_ = config.delete_value;
  }
  return m;
}

bool Mapper::ColumnValue(const Column& c, const expr::Input& in, std::string* out_json,
                         std::string* out_text, bool* present, bool* carried, std::string* error) {
  *present = false;
  *carried = false;  // some path or template said something (a value or null)
  element value;
  bool have_element = false;
  std::string& text = *out_text;  // a key or a rendered template, then the value as text
  text.clear();
  const Path* used = nullptr;
  const std::string_view key = in.key;
  const element& root = *in.record;
  for (const auto& p : c.paths) {
    if (p.is_key) {
      text.assign(key);
      used = &p;
      *present = !key.empty();
      *carried = true;
    } else if (p.is_record_time) {
      *present = in.record_ms != expr::kNoRecordTime;
      if (*present) text = FormatTimestampMillis(in.record_ms);
      used = &p;
      *carried = true;
    } else {
      Found f = Lookup(root, p.parts, &value, nested_parser_.get());
      *carried = *carried || f != Found::kAbsent;
      if (f == Found::kValue) {
        have_element = true;
        used = &p;
        *present = true;
      }
    }
    if (*present) break;
  }
  if (!*present) {
    for (const auto& tmpl : c.templates) {
      // A template with a path the record lacks says nothing; one with a null (or non-scalar)
      // part says null.
      text.clear();  // rendered here
      Found found = Found::kValue;
      for (const auto& part : tmpl) {
        if (!part.is_path) {
          text += part.literal;
          continue;
        }
        element e;
        if (part.path.is_key) {
          text.append(key);
          continue;
        }
        if (part.path.is_record_time) {
          if (in.record_ms == expr::kNoRecordTime) {
            found = Found::kNull;
            break;
          }
          text += FormatTimestampMillis(in.record_ms);
          continue;
        }
        Found f = Lookup(root, part.path.parts, &e, nested_parser_.get());
        if (f == Found::kAbsent) {
          found = Found::kAbsent;
          break;
        }
        if (f == Found::kNull || (found == Found::kValue && !AppendScalarText(e, &text))) {
          found = Found::kNull;
        }
      }
      *carried = *carried || found != Found::kAbsent;
      if (found == Found::kValue) {
        *present = true;
        break;
      }
    }
  }
  if (!*present) {  // null; the caller decides if that is an error
    text.clear();
    return true;
  }
  // Where the value came from, for an error (formatted only then).
  auto where = [&] { return used ? " at " + used->text : std::string(" from its template"); };
  // Text form of the value for string-ish types.
  if (have_element && c.type != Type::kInt && c.type != Type::kBigint && c.type != Type::kDouble &&
      c.type != Type::kBoolean && c.type != Type::kDecimal &&
      !(c.type == Type::kTimestamp && value.is_number())) {
    if (c.type == Type::kText && (value.is_object() || value.is_array())) {
      text = simdjson::minify(value);  // an object or array in a text column: its JSON text
    } else if (!ScalarText(value, &text)) {
      *error = fmt::format("column \"{}\": value {}{} is not a scalar", c.name, Describe(value),
                           where());
      return false;
    }
  }
  switch (c.type) {
    case Type::kText:
      AppendJsonString(out_json, text);
      return true;
    case Type::kUuid: {
      if (!IsUuidText(text)) {
        *error = fmt::format("column \"{}\": value \"{}\"{} is not a UUID", c.name, text, where());
        return false;
      }
      for (char& ch : text) {
        if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
      }
      AppendJsonString(out_json, text);
      return true;
    }
    case Type::kTimestamp: {
      // Seconds since the epoch as a number: years 0001-9999 only (further out, the
      // conversion to milliseconds would overflow).
      constexpr int64_t kMinMs = -62135596800000;  // 0001-01-01T00:00:00Z
      constexpr int64_t kMaxMs = 253402300799999;  // 9999-12-31T23:59:59.999Z
      std::optional<int64_t> ms;
      if (have_element && value.is_int64()) {
        const int64_t s = value.get_int64().value_unsafe();
        if (s >= kMinMs / 1000 && s <= kMaxMs / 1000) ms = s * 1000;
      } else if (have_element && value.is_number()) {
        const double d = value.get_double().value_unsafe() * 1000;
        if (d >= static_cast<double>(kMinMs) && d <= static_cast<double>(kMaxMs)) {
          ms = static_cast<int64_t>(d);
        }
      } else {
        ms = ParseTimestampMillis(text);
      }
      if (!ms) {
        if (have_element && value.is_number()) text = Describe(value);
        *error =
            fmt::format("column \"{}\": value \"{}\"{} is not a timestamp", c.name, text, where());
        return false;
      }
      *out_text = FormatTimestampMillis(*ms);
      AppendJsonString(out_json, *out_text);
      return true;
    }
    case Type::kInt:
    case Type::kBigint: {
      int64_t v = 0;
      bool ok = false;
      if (have_element && value.is_int64()) {
        v = value.get_int64().value_unsafe();
        text = std::to_string(v);
        ok = true;
      } else if (have_element && value.is_string()) {
        ok = ParseInt(std::string_view(value.get_string().value_unsafe()), &v);
        text = std::string(value.get_string().value_unsafe());
      } else if (!have_element) {
        ok = ParseInt(std::string_view(text), &v);
      } else {
        text = Describe(value);
      }
      if (ok && c.type == Type::kInt && (v < INT32_MIN || v > INT32_MAX)) ok = false;
      if (!ok) {
        *error = fmt::format("column \"{}\": value {}{} is not {}", c.name, text, where(),
                             c.type == Type::kInt ? "a 32-bit integer" : "a 64-bit integer");
        return false;
      }
      *out_text = std::to_string(v);
      out_json->append(*out_text);
      return true;
    }
    case Type::kDouble: {
      double v = 0;
      bool ok = false;
      if (have_element && value.is_number()) {
        v = value.get_double().value_unsafe();
        ok = true;
      } else {
        std::string s = have_element && value.is_string()
                            ? std::string(value.get_string().value_unsafe())
                            : text;
        char* end = nullptr;
        v = std::strtod(s.c_str(), &end);
        ok = !s.empty() && end == s.c_str() + s.size();
        text = s;
      }
      if (!ok) {
        *error = fmt::format("column \"{}\": value {}{} is not a number", c.name,
                             have_element ? Describe(value) : text, where());
        return false;
      }
      if (std::isinf(v) && text.find_first_of("nN") == std::string::npos) {
        // A finite number beyond a double (numeric 1e400) is not Infinity.
        *error = fmt::format(
            "column \"{}\": value {}{} is beyond the range of a double; use a decimal or text "
            "column",
            c.name, have_element ? Describe(value) : text, where());
        return false;
      }
      // JSON has no NaN, Infinity or -0: those are written as PostgreSQL and the CQL
      // codec (cql/value_json.cc) write them, as "NaN", "Infinity", "-Infinity" and -0.0.
      if (std::isnan(v)) {
        *out_text = "NaN";
      } else if (std::isinf(v)) {
        *out_text = v > 0 ? "Infinity" : "-Infinity";
      } else if (v == 0 && std::signbit(v)) {
        *out_text = "-0";
        out_json->append("-0.0");
        return true;
      } else {
        *out_text = fmt::format("{}", v);
        out_json->append(*out_text);
        return true;
      }
      AppendJsonString(out_json, *out_text);
      return true;
    }
    case Type::kDecimal: {
      // Exact: from the text (a JSON string) or the number's own digits, never via a double
      // unless the source sent a double.
      std::string s = text;
      if (have_element) {
        switch (value.type()) {
          case element_type::STRING:
            s = std::string(value.get_string().value_unsafe());
            break;
          case element_type::INT64:
          case element_type::UINT64:
          case element_type::DOUBLE:
            ScalarText(value, &s);
            break;
          default:
            s = Describe(value);
            break;
        }
      }
      std::optional<Decimal> d = ParseDecimal(s);
      if (!d) {
        *error = fmt::format(
            "column \"{}\": value {}{} is not a decimal (digits with an optional point and "
            "exponent, at most {} digits; NaN and Infinity have none: use a double or text column)",
            c.name, have_element ? Describe(value) : JsonString(s), where(), kMaxDecimalDigits);
        return false;
      }
      *out_text = FormatDecimal(*d);
      AppendJsonString(out_json, *out_text);
      return true;
    }
    case Type::kBoolean: {
      bool v = false;
      bool ok = false;
      if (have_element && value.is_bool()) {
        v = value.get_bool().value_unsafe();
        ok = true;
      } else {
        std::string s = have_element && value.is_string()
                            ? std::string(value.get_string().value_unsafe())
                            : text;
        ok = s == "true" || s == "false";
        v = s == "true";
      }
      if (!ok) {
        *error = fmt::format("column \"{}\": value {}{} is not a boolean", c.name,
                             have_element ? Describe(value) : text, where());
        return false;
      }
      *out_text = v ? "true" : "false";
      out_json->append(*out_text);
      return true;
    }
  }
  return true;
}

bool Mapper::AnyColumnValue(const Column& c, const expr::Input& in, std::string* out_json,
                            std::string* out_text, bool* present, bool* carried,
                            std::string* error) {
  if (c.expr) {
    *carried = true;  // an expression's NULL is written: it clears the stored value
    return ExprColumnValue(c, in, out_json, out_text, present, error);
  }
  return ColumnValue(c, in, out_json, out_text, present, carried, error);
}

namespace {

// `$timestamp` of a record whose log timestamp is `record_us` (0: none).
int64_t RecordMillis(int64_t record_us) {
  if (record_us == 0) return expr::kNoRecordTime;
  return record_us >= 0 ? record_us / 1000 : -((-record_us + 999) / 1000);
}

// now() of the expressions: the processor's clock, or the system clock when it gave none.
int64_t NowOr(int64_t now_ms) {
  return now_ms != 0 ? now_ms
                     : std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
}

}  // namespace

MapResult Mapper::DeleteByKey(const expr::Input& in, std::string absent) {
  MapResult d;
  std::string json, text;
  bool present = false, carried = false;
  if (!AnyColumnValue(columns_[key_column_], in, &json, &text, &present, &carried, &d.error)) {
    d.error = EscapeControlChars(d.error);
    return d;
  }
  if (!present) {
    d.error = EscapeControlChars(absent);
    return d;
  }
  d.key = std::move(text);
  d.deleted = true;
  d.ok = true;
  return d;
}

MapResult Mapper::MapTombstone(std::string_view key, int64_t now_ms, int64_t record_us) {
  element root;
  if (parser_->parse("{}", 2, true).get(root) != simdjson::SUCCESS) {  // only $key says anything
    MapResult d;
    d.error = "a tombstone: cannot parse an empty object";
    return d;
  }
  expr::Input in;
  in.record = &root;
  in.key = key;
  in.now_ms = NowOr(now_ms);
  in.record_ms = RecordMillis(record_us);
  return DeleteByKey(
      in, fmt::format("a tombstone (a null value) with key '{}': key column \"{}\" takes no value "
                      "from the record's key, so no row is known to delete; map it from $key to "
                      "apply tombstones as deletes",
                      key, columns_[key_column_].name));
}

MapResult Mapper::Map(std::string_view key, std::string_view raw_json, int64_t now_ms,
                      int64_t record_us) {
  MapResult r;
  element root;
  auto err = parser_->parse(raw_json.data(), raw_json.size(), true).get(root);
  if (err) {
    r.error = fmt::format("record is not valid JSON: {}", simdjson::error_message(err));
    return r;
  }
  if (root.type() != element_type::OBJECT) {
    r.error = fmt::format("record is not a JSON object: {}", Describe(root));
    return r;
  }
  expr::Input in;
  in.record = &root;
  in.key = key;
  in.record_ms = RecordMillis(record_us);
  if (has_expressions_) in.now_ms = NowOr(now_ms);
  if (!delete_path_.parts.empty()) {
    element marker;
    std::string value;
    if (Resolve(root, delete_path_.parts, &marker, nested_parser_.get()) &&
        ScalarText(marker, &value) && value == delete_value_) {
      // A delete needs only the key: the other columns are gone with the row.
      return DeleteByKey(
          in, fmt::format("delete: key column \"{}\" has no value", columns_[key_column_].name));
    }
  }
  if (!where_.keeps_all()) {
    Result<bool> keep = where_.Keep(in);
    if (!keep.ok()) {
      r.error = keep.status().message();
      return r;
    }
    if (!*keep) {
      r.ok = true;
      r.filtered = true;
      return r;
    }
  }
  std::string& row = r.row_json;
  row.reserve(raw_json.size() / 2);
  row.push_back('{');
  std::string text;
  bool every_column = true;
  for (size_t i = 0; i < columns_.size(); ++i) {
    const Column& c = columns_[i];
    const size_t mark = row.size();
    if (mark > 1) row.push_back(',');
    row.append(c.json_name);
    row.push_back(':');
    bool present = false, carried = false;
    text.clear();
    if (!AnyColumnValue(c, in, &row, &text, &present, &carried, &r.error)) {
      r.error = EscapeControlChars(r.error);
      return r;
    }
    if (!present) {
      if (c.required || i == key_column_) {
        if (c.expr) {
          r.error =
              EscapeControlChars(fmt::format("column \"{}\": no value (expression \"{}\" "
                                             "gave NULL)",
                                             c.name, c.expr->text()));
          return r;
        }
        std::string tried;
        for (const auto& p : c.paths) tried += (tried.empty() ? "" : ", ") + p.text;
        if (!c.templates.empty()) tried += std::string(tried.empty() ? "" : ", ") + "its templates";
        r.error = fmt::format("column \"{}\": no value (tried {})", c.name, tried);
        return r;
      }
      if (carried) {
        row.append("null");  // an explicit null clears the stored value
      } else {
        row.resize(mark);  // not in the record: the store keeps what it has (a partial upsert)
        every_column = false;
      }
    }
    if (i == key_column_) r.key = text;
  }
  row.push_back('}');
  r.ok = true;
  r.every_column = every_column;
  return r;
}

}  // namespace dataforge
