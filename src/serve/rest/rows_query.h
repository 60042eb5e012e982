// The read side of the tables API: the query parameters of GET /v1/tables/{table}/rows (and the
// filters shared with count and aggregate), and the page read that answers them. Keyset paging
// over Store::Scan in the store's scan order (page_cursor.h); see docs/serving.md "Tables".
// Thread-safety: pure functions over a thread-safe Store.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "serve/http/api.h"
#include "serve/rest/query_params.h"
#include "serve/rest/row_filter.h"
#include "store/store.h"

namespace dataforge::rest {

// A filtered page stops after scanning this many rows even with fewer than `limit` matches, and
// returns what it found with a cursor to go on from (so one request's work stays bounded).
inline constexpr size_t kMaxScannedPerPage = 100000;
// count and aggregate with filters scan the table; they refuse tables larger than this.
inline constexpr size_t kMaxScannedPerAggregate = 10000000;

// Whether the request has filters: query parameters other than `reserved`.
bool HasFilters(const http::ApiRequest& request, std::initializer_list<std::string_view> reserved);

// The request's filters (every query parameter but `reserved`), parsed against `schema`.
Result<RowMatcher> ParseFilters(const http::ApiRequest& request, const TableSchema& schema,
                                std::initializer_list<std::string_view> reserved);

struct RowsQuery {
  std::vector<std::string> select;  // empty: whole rows, as stored
  size_t limit = kDefaultLimit;
  std::string start_after;  // from the cursor; "" = the first page
  RowMatcher matcher;
  // Rows a filtered page scans at most (kMaxScannedPerPage; tests make it small).
  size_t max_scanned = kMaxScannedPerPage;
  // The request's deadline (ApiRequest::deadline): a page that reaches it answers with the rows
  // it has and a cursor after the last row it read (DeadlineExceeded if it read none).
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

// The parameters of GET .../rows. `schema` is null when the request needs none (no select, no
// filters: HasFilters is false and select absent). InvalidArgument with the API's message.
Result<RowsQuery> ParseRowsQuery(const http::ApiRequest& request, const std::string& table,
                                 const TableSchema* schema);

// {"rows":[...],"next_cursor":"..."|null}. Rows as stored when no select is given (the stored
// JSON is appended as it is: no parse unless a filter needs one).
Result<std::string> ReadPage(Store* store, const std::string& table, const RowsQuery& query);

// Calls fn(row) for every row of `table` that `matcher` passes, in scan order.
// InvalidArgument when the table has more than `max_scanned` rows; DeadlineExceeded once
// `deadline` has passed.
Status ScanMatching(Store* store, const std::string& table, const RowMatcher& matcher,
                    size_t max_scanned, std::chrono::steady_clock::time_point deadline,
                    const std::function<void(simdjson::dom::object)>& fn);

// Rows read between two looks at the clock.
inline constexpr size_t kRowsPerClockCheck = 1024;

}  // namespace dataforge::rest
