#include "serve/rest/aggregate.h"

#include <map>
#include <optional>

#include <fmt/format.h>

#include "common/json_writer.h"
#include "serve/rest/row_filter.h"
#include "serve/rest/rows_query.h"
#include "serve/rest/typed_value.h"

namespace dataforge::rest {
namespace {

// A value with the JSON it was stored as.
struct Stored {
  TypedValue value;
  std::string json;
};

struct GroupKey {
  std::optional<Stored> v;  // nullopt: the null group
};
struct GroupKeyLess {
  bool operator()(const GroupKey& a, const GroupKey& b) const {
    if (!a.v || !b.v) return a.v.has_value() && !b.v.has_value();  // null last
    return CompareValues(a.v->value, b.v->value) < 0;
  }
};

struct AggState {
  std::optional<Stored> best;  // min/max
  int64_t isum = 0;
  double dsum = 0;
  bool is_double = false;  // the sum no longer fits in int64 (or the column is a double)
  uint64_t n = 0;          // non-null values (sum, avg)
};
struct Group {
  uint64_t count = 0;
  std::vector<AggState> aggs;
};

std::optional<Stored> ReadStored(simdjson::dom::object row, const std::string& column,
                                 ValueKind kind) {
  simdjson::dom::element e;
  if (row.at_key(column).get(e) != simdjson::SUCCESS) return std::nullopt;
  bool is_null = false;
  auto v = ParseJsonValue(kind, e, &is_null);
  if (!v) return std::nullopt;
  return Stored{std::move(*v), simdjson::minify(e)};
}

void AppendDouble(std::string* out, double d) {
  out->append(fmt::format("{}", d));
}

}  // namespace

Result<AggregateQuery> ParseAggregateQuery(const http::ApiRequest& request,
                                           const TableSchema& schema) {
  AggregateQuery q;
  if (const std::string* g = request.Query("group_by")) {
    if (FindColumn(schema, *g) == nullptr) {
      return Status::InvalidArgument(
          fmt::format("group_by={}: unknown column {}; columns of {}: {}", *g, *g, schema.table,
                      ColumnList(schema)));
    }
    q.group_by = *g;
  }
  const std::string* agg = request.Query("agg");
  const std::string spec = agg ? *agg : "count";
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = std::min(spec.find(',', start), spec.size());
    std::string item = spec.substr(start, comma - start);
    start = comma + 1;
    AggSpec a;
    a.name = item;
    if (item == "count") {
      q.aggs.push_back(std::move(a));
      continue;
    }
    size_t open = item.find('(');
    std::string fn = item.substr(0, open);
    if (open == std::string::npos || item.back() != ')' ||
        (fn != "min" && fn != "max" && fn != "sum" && fn != "avg")) {
      return Status::InvalidArgument(fmt::format(
          "agg={}: unknown aggregate '{}'; use count, min(col), max(col), sum(col), avg(col) "
          "separated by commas",
          spec, item));
    }
    a.column = item.substr(open + 1, item.size() - open - 2);
    const ColumnSchema* col = FindColumn(schema, a.column);
    if (col == nullptr) {
      return Status::InvalidArgument(fmt::format("agg={}: unknown column {}; columns of {}: {}",
                                                 spec, a.column, schema.table, ColumnList(schema)));
    }
    a.function = fn == "min"   ? AggFunction::kMin
                 : fn == "max" ? AggFunction::kMax
                 : fn == "sum" ? AggFunction::kSum
                               : AggFunction::kAvg;
    ValueKind kind = KindOfType(col->type);
    if ((a.function == AggFunction::kSum || a.function == AggFunction::kAvg) &&
        kind != ValueKind::kInteger && kind != ValueKind::kDouble) {
      return Status::InvalidArgument(
          fmt::format("agg={}: {} needs an int, bigint, double or float column; {} is {}", spec, fn,
                      col->name, col->type));
    }
    q.aggs.push_back(std::move(a));
  }
  return q;
}

Result<std::string> RunAggregate(Store* store, const std::string& table, const TableSchema& schema,
                                 const AggregateQuery& query, const http::ApiRequest& request) {
  DF_ASSIGN_OR_RETURN(RowMatcher matcher, ParseFilters(request, schema, {"group_by", "agg"}));
  ValueKind group_kind = ValueKind::kText;
  if (!query.group_by.empty()) group_kind = KindOfType(FindColumn(schema, query.group_by)->type);
  std::vector<ValueKind> kinds;
  for (const AggSpec& a : query.aggs) {
    kinds.push_back(a.column.empty() ? ValueKind::kText
                                     : KindOfType(FindColumn(schema, a.column)->type));
  }
  std::map<GroupKey, Group, GroupKeyLess> groups;
  DF_RETURN_IF_ERROR(
      ScanMatching(store, table, matcher, kMaxScannedPerAggregate, request.deadline,
                   [&](simdjson::dom::object row) {
                     GroupKey key;
                     if (!query.group_by.empty())
                       key.v = ReadStored(row, query.group_by, group_kind);
                     auto [it, inserted] = groups.try_emplace(std::move(key));
                     Group& g = it->second;
                     if (inserted) g.aggs.resize(query.aggs.size());
                     ++g.count;
                     for (size_t i = 0; i < query.aggs.size(); ++i) {
                       const AggSpec& a = query.aggs[i];
                       if (a.function == AggFunction::kCount) continue;
                       auto v = ReadStored(row, a.column, kinds[i]);
                       if (!v) continue;
                       AggState& s = g.aggs[i];
                       switch (a.function) {
                         case AggFunction::kMin:
                         case AggFunction::kMax: {
                           int c = s.best ? CompareValues(v->value, s.best->value) : 0;
                           if (!s.best || (a.function == AggFunction::kMin ? c < 0 : c > 0))
                             s.best = std::move(v);
                           break;
                         }
                         default: {
                           ++s.n;
                           const TypedValue& t = v->value;
                           if (t.is_int && !s.is_double) {
                             if (!__builtin_add_overflow(s.isum, t.i, &s.isum)) break;
                             s.is_double = true;
                             s.dsum = static_cast<double>(s.isum) + static_cast<double>(t.i);
                             break;
                           }
                           if (!s.is_double) {
                             s.is_double = true;
                             s.dsum = static_cast<double>(s.isum);
                           }
                           s.dsum += t.is_int ? static_cast<double>(t.i) : t.d;
                           break;
                         }
                       }
                     }
                   }));
  std::string out = "{\"groups\":[";
  bool first = true;
  for (const auto& [key, g] : groups) {
    if (!first) out.push_back(',');
    first = false;
    out.push_back('{');
    bool first_field = true;
    auto field = [&](std::string_view name) {
      if (!first_field) out.push_back(',');
      first_field = false;
      AppendJsonString(&out, name);
      out.push_back(':');
    };
    if (!query.group_by.empty()) {
      field(query.group_by);
      out.append(key.v ? key.v->json : "null");
    }
    for (size_t i = 0; i < query.aggs.size(); ++i) {
      const AggSpec& a = query.aggs[i];
      const AggState& s = g.aggs[i];
      field(a.name);
      switch (a.function) {
        case AggFunction::kCount:
          out.append(std::to_string(g.count));
          break;
        case AggFunction::kMin:
        case AggFunction::kMax:
          out.append(s.best ? s.best->json : "null");
          break;
        case AggFunction::kSum:
          if (s.n == 0) {
            out.append("null");
          } else if (s.is_double) {
            AppendDouble(&out, s.dsum);
          } else {
            out.append(std::to_string(s.isum));
          }
          break;
        case AggFunction::kAvg:
          if (s.n == 0) {
            out.append("null");
          } else {
            double sum = s.is_double ? s.dsum : static_cast<double>(s.isum);
            AppendDouble(&out, sum / static_cast<double>(s.n));
          }
          break;
      }
    }
    out.push_back('}');
  }
  out.append("]}");
  return out;
}

}  // namespace dataforge::rest
