#include "serve/rest/row_filter.h"

#include <fmt/format.h>

namespace dataforge::rest {
namespace {

constexpr std::string_view kOperators =
    "operators: eq, neq, gt, gte, lt, lte, in, like, is (not.<op> negates one)";

struct OpName {
  std::string_view name;
  FilterOp op;
};
constexpr OpName kOps[] = {
    {"eq", FilterOp::kEq},   {"neq", FilterOp::kNeq},   {"gt", FilterOp::kGt},
    {"gte", FilterOp::kGte}, {"lt", FilterOp::kLt},     {"lte", FilterOp::kLte},
    {"in", FilterOp::kIn},   {"like", FilterOp::kLike}, {"is", FilterOp::kIsNull}};

// Splits "(a,b,"c,d")" into its items; false if it is not a parenthesized list.
bool SplitList(std::string_view list, std::vector<std::string>* out) {
  if (list.size() < 2 || list.front() != '(' || list.back() != ')') return false;
  list = list.substr(1, list.size() - 2);
  if (list.empty()) return true;
  std::string item;
  bool quoted = false, was_quoted = false;
  for (size_t i = 0; i < list.size(); ++i) {
    char c = list[i];
    if (quoted) {
      if (c == '\\' && i + 1 < list.size()) {
        item.push_back(list[++i]);
      } else if (c == '"') {
        quoted = false;
      } else {
        item.push_back(c);
      }
    } else if (c == '"' && item.empty() && !was_quoted) {
      quoted = was_quoted = true;
    } else if (c == ',') {
      out->push_back(std::move(item));
      item.clear();
      was_quoted = false;
    } else {
      item.push_back(c);
    }
  }
  if (quoted) return false;
  out->push_back(std::move(item));
  return true;
}

bool Compare(FilterOp op, int c) {
  switch (op) {
    case FilterOp::kEq:
      return c == 0;
    case FilterOp::kNeq:
      return c != 0;
    case FilterOp::kGt:
      return c > 0;
    case FilterOp::kGte:
      return c >= 0;
    case FilterOp::kLt:
      return c < 0;
    case FilterOp::kLte:
      return c <= 0;
    default:
      return false;
  }
}

}  // namespace

std::string ColumnList(const TableSchema& schema) {
  if (schema.columns.empty()) return "(the table has no schema)";
  std::string out;
  for (const auto& c : schema.columns) out += (out.empty() ? "" : ", ") + c.name;
  return out;
}

const ColumnSchema* FindColumn(const TableSchema& schema, std::string_view name) {
  for (const auto& c : schema.columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

Result<Filter> ParseFilter(const TableSchema& schema, std::string_view column,
                           std::string_view value) {
  Filter f;
  f.shown = fmt::format("{}={}", column, value);
  const ColumnSchema* col = FindColumn(schema, column);
  if (col == nullptr) {
    return Status::InvalidArgument(fmt::format("filter {}: unknown column {}; columns of {}: {}",
                                               f.shown, column, schema.table, ColumnList(schema)));
  }
  f.column = col->name;
  f.kind = KindOfType(col->type);
  std::string_view rest = value;
  if (rest.starts_with("not.")) {
    f.negated = true;
    rest.remove_prefix(4);
  }
  size_t dot = rest.find('.');
  std::string_view op_name = rest.substr(0, dot);
  const OpName* op = nullptr;
  for (const OpName& o : kOps) {
    if (o.name == op_name) op = &o;
  }
  if (dot == std::string_view::npos) {
    return Status::InvalidArgument(
        fmt::format("filter {}: expected <operator>.<value> (e.g. {}=eq.{}); {}", f.shown, column,
                    rest, kOperators));
  }
  if (op == nullptr) {
    return Status::InvalidArgument(
        fmt::format("filter {}: unknown operator {}; {}", f.shown, op_name, kOperators));
  }
  f.op = op->op;
  std::string_view arg = rest.substr(dot + 1);
  const std::string expected =
      fmt::format("expected {} for column {} ({})", ExpectedText(f.kind), col->name, col->type);
  switch (f.op) {
    case FilterOp::kIsNull:
      if (arg == "null") {
        f.op = FilterOp::kIsNull;
      } else if (arg == "not_null") {
        f.op = FilterOp::kIsNotNull;
      } else {
        return Status::InvalidArgument(
            fmt::format("filter {}: is takes null or not_null (is.null, is.not_null)", f.shown));
      }
      return f;
    case FilterOp::kLike:
      if (f.kind != ValueKind::kText) {
        return Status::InvalidArgument(
            fmt::format("filter {}: like needs a text column; {} is {} (use eq, gt, lt, ...)",
                        f.shown, col->name, col->type));
      }
      f.pattern = std::string(arg);
      return f;
    case FilterOp::kIn: {
      std::vector<std::string> items;
      if (!SplitList(arg, &items)) {
        return Status::InvalidArgument(
            fmt::format("filter {}: in takes a list in parentheses: {}=in.(a,b)", f.shown, column));
      }
      for (const std::string& item : items) {
        auto v = ParseValueText(f.kind, item);
        if (!v) {
          return Status::InvalidArgument(
              fmt::format("filter {}: {}, got '{}'", f.shown, expected, item));
        }
        f.values.push_back(std::move(*v));
      }
      return f;
    }
    default: {
      auto v = ParseValueText(f.kind, arg);
      if (!v) return Status::InvalidArgument(fmt::format("filter {}: {}", f.shown, expected));
      f.values.push_back(std::move(*v));
      return f;
    }
  }
}

bool LikeMatch(std::string_view pattern, std::string_view text) {
  // Greedy matching with backtracking to the last wildcard: linear in practice, O(n*m) at worst.
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '*' || pattern[p] == '%')) {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && (pattern[p] == '*' || pattern[p] == '%')) ++p;
  return p == pattern.size();
}

bool RowMatcher::Matches(simdjson::dom::object row) const {
  for (const Filter& f : filters_) {
    simdjson::dom::element e;
    bool is_null = true;
    std::optional<TypedValue> v;
    if (row.at_key(f.column).get(e) == simdjson::SUCCESS) v = ParseJsonValue(f.kind, e, &is_null);
    if (f.op == FilterOp::kIsNull || f.op == FilterOp::kIsNotNull) {
      bool match = is_null == (f.op == FilterOp::kIsNull);
      if (match == f.negated) return false;
      continue;
    }
    if (!v) return false;  // null, missing or unreadable: no comparison matches
    bool match = false;
    switch (f.op) {
      case FilterOp::kIn:
        for (const TypedValue& item : f.values) {
          if (CompareValues(*v, item) == 0) {
            match = true;
            break;
          }
        }
        break;
      case FilterOp::kLike:
        match = LikeMatch(f.pattern, v->text);
        break;
      default:
        match = Compare(f.op, CompareValues(*v, f.values[0]));
        break;
    }
    if (match == f.negated) return false;
  }
  return true;
}

}  // namespace dataforge::rest
