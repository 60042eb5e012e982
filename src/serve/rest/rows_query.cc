#include "serve/rest/rows_query.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "common/json_writer.h"
#include "serve/rest/page_cursor.h"

namespace dataforge::rest {
namespace {

constexpr size_t kMaxReserveBytes = 64u << 20;

bool Reserved(std::string_view name, std::initializer_list<std::string_view> reserved) {
  return std::find(reserved.begin(), reserved.end(), name) != reserved.end();
}

Result<size_t> ParseLimit(const std::string& text) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 1 ||
      n > static_cast<int64_t>(kMaxLimit)) {
    return Status::InvalidArgument(
        fmt::format("limit={}: expected a whole number from 1 to {} (default {})", text, kMaxLimit,
                    kDefaultLimit));
  }
  return static_cast<size_t>(n);
}

// Appends the selected columns of `row` as one JSON object (null for a missing column).
void AppendSelected(simdjson::dom::object row, const std::vector<std::string>& select,
                    std::string* out) {
  out->push_back('{');
  for (size_t i = 0; i < select.size(); ++i) {
    if (i) out->push_back(',');
    AppendJsonString(out, select[i]);
    out->push_back(':');
    simdjson::dom::element e;
    if (row.at_key(select[i]).get(e) == simdjson::SUCCESS) {
      out->append(simdjson::minify(e));
    } else {
      out->append("null");
    }
  }
  out->push_back('}');
}

}  // namespace

bool HasFilters(const http::ApiRequest& request, std::initializer_list<std::string_view> reserved) {
  for (const auto& [name, value] : request.query) {
    if (!Reserved(name, reserved)) return true;
  }
  return false;
}

Result<RowMatcher> ParseFilters(const http::ApiRequest& request, const TableSchema& schema,
                                std::initializer_list<std::string_view> reserved) {
  std::vector<Filter> filters;
  for (const auto& [name, value] : request.query) {
    if (Reserved(name, reserved)) continue;
    DF_ASSIGN_OR_RETURN(Filter f, ParseFilter(schema, name, value));
    filters.push_back(std::move(f));
  }
  return RowMatcher(std::move(filters));
}

Result<RowsQuery> ParseRowsQuery(const http::ApiRequest& request, const std::string& table,
                                 const TableSchema* schema) {
  RowsQuery q;
  if (const std::string* limit = request.Query("limit")) {
    DF_ASSIGN_OR_RETURN(q.limit, ParseLimit(*limit));
  }
  if (const std::string* cursor = request.Query("cursor")) {
    auto key = DecodeCursor(*cursor, table);
    if (!key) {
      return Status::InvalidArgument(
          "cursor is not valid for this table (pass next_cursor of the previous page of " + table +
          " as it is)");
    }
    q.start_after = std::move(*key);
  }
  q.deadline = request.deadline;
  if (const std::string* select = request.Query("select")) {
    size_t start = 0;
    while (start <= select->size()) {
      size_t comma = std::min(select->find(',', start), select->size());
      std::string name = select->substr(start, comma - start);
      if (name.empty()) {
        return Status::InvalidArgument(fmt::format(
            "select={}: expected column names separated by commas (select=a,b)", *select));
      }
      if (schema != nullptr && FindColumn(*schema, name) == nullptr) {
        return Status::InvalidArgument(
            fmt::format("select={}: unknown column {}; columns of {}: {}", *select, name, table,
                        ColumnList(*schema)));
      }
      q.select.push_back(std::move(name));
      start = comma + 1;
    }
  }
  if (schema != nullptr) {
    DF_ASSIGN_OR_RETURN(q.matcher, ParseFilters(request, *schema, {"select", "limit", "cursor"}));
  }
  return q;
}

Result<std::string> ReadPage(Store* store, const std::string& table, const RowsQuery& query) {
  std::string out = "{\"rows\":[";
  const bool parse = !query.matcher.empty() || !query.select.empty();
  simdjson::dom::parser parser;
  size_t matched = 0, scanned = 0;
  // Whether a next page exists: a row that would have been the next match, or rows left when
  // the scan budget ran out. The cursor then resumes after `last_key`, the last row looked at
  // (a filtered page skips the non-matching rows it has already seen).
  bool more = false;
  bool out_of_time = false;
  std::string last_key;
  Status row_error;
  // Unfiltered, the scan reads one row more than the page to know whether there is a next one.
  const size_t scan_limit = query.matcher.empty() ? query.limit + 1 : query.max_scanned + 1;
  Status st = store->Scan(
      table, query.start_after, scan_limit, [&](const std::string& key, const std::string& json) {
        if (!query.matcher.empty() && scanned == query.max_scanned) {
          more = true;
          return false;
        }
        if (scanned % kRowsPerClockCheck == kRowsPerClockCheck - 1 &&
            std::chrono::steady_clock::now() >= query.deadline) {
          more = true;
          out_of_time = true;
          return false;
        }
        ++scanned;
        simdjson::dom::object row;
        if (parse) {
          if (parser.parse(json).get(row) != simdjson::SUCCESS) {
            row_error = Status::Corruption(
                fmt::format("table {}: row '{}' is not a JSON object", table, key));
            return false;
          }
          if (!query.matcher.Matches(row)) {
            last_key = key;
            return true;
          }
        }
        if (matched == query.limit) {
          more = true;
          return false;
        }
        if (matched == 0) {
          // One allocation for the page, sized by its first row (a 10,000-row page grows to
          // megabytes: doubling would copy it and fault in fresh pages a dozen times).
          out.reserve(
              std::min(kMaxReserveBytes, out.size() + (json.size() + 1) * query.limit + 64));
        }
        if (matched++) out.push_back(',');
        if (query.select.empty()) {
          out.append(json);
        } else {
          AppendSelected(row, query.select, &out);
        }
        last_key = key;
        return true;
      });
  DF_RETURN_IF_ERROR(st);
  DF_RETURN_IF_ERROR(row_error);
  if (out_of_time && last_key.empty()) {
    return Status::DeadlineExceeded(
        fmt::format("reading {} passed the request deadline before a row was read", table));
  }
  out.append("],\"next_cursor\":");
  if (more && !last_key.empty()) {
    AppendJsonString(&out, EncodeCursor(table, last_key));
  } else {
    out.append("null");
  }
  out.push_back('}');
  return out;
}

Status ScanMatching(Store* store, const std::string& table, const RowMatcher& matcher,
                    size_t max_scanned, std::chrono::steady_clock::time_point deadline,
                    const std::function<void(simdjson::dom::object)>& fn) {
  simdjson::dom::parser parser;
  size_t scanned = 0;
  Status row_error;
  DF_RETURN_IF_ERROR(
      store->Scan(table, "", max_scanned + 1, [&](const std::string& key, const std::string& json) {
        if (scanned % kRowsPerClockCheck == kRowsPerClockCheck - 1 &&
            std::chrono::steady_clock::now() >= deadline) {
          row_error = Status::DeadlineExceeded(
              fmt::format("reading {} passed the request deadline after {} rows (the server's "
                          "--request-deadline-ms)",
                          table, scanned));
          return false;
        }
        if (++scanned > max_scanned) {
          row_error = Status::InvalidArgument(fmt::format(
              "table {} has more than {} rows: count and aggregate with filters scan at most "
              "that many; page through it with GET /v1/tables/{}/rows instead",
              table, max_scanned, table));
          return false;
        }
        simdjson::dom::object row;
        if (parser.parse(json).get(row) != simdjson::SUCCESS) {
          row_error = Status::Corruption(
              fmt::format("table {}: row '{}' is not a JSON object", table, key));
          return false;
        }
        if (matcher.Matches(row)) fn(row);
        return true;
      }));
  return row_error;
}

}  // namespace dataforge::rest
