// Data intervals (Airflow semantics): DueIntervals, NextDueAt, IntervalsStartingIn and
// LatestCompleteInterval.
#include <algorithm>

#include "schedule/schedule.h"

namespace dataforge {
namespace {

// The first boundary at or after `t_us` (interval schedules are anchored at `start_us`).
std::optional<int64_t> BoundaryAtOrAfter(const Schedule& schedule, int64_t start_us, int64_t t_us) {
  std::optional<int64_t> at = schedule.LastAtOrBefore(t_us, start_us);
  if (at && *at == t_us) return at;
  return schedule.NextAfter(t_us, start_us);
}

// Where the first interval starts.
std::optional<int64_t> FirstStart(const Schedule& schedule, int64_t start_us) {
  return BoundaryAtOrAfter(schedule, start_us, start_us);
}

// The start of the first interval not yet created.
std::optional<int64_t> NextStart(const Schedule& schedule, int64_t start_us,
                                 std::optional<int64_t> last_start_us) {
  std::optional<int64_t> first = FirstStart(schedule, start_us);
  if (!first || !last_start_us || *last_start_us < *first) return first;
  return schedule.NextAfter(*last_start_us, start_us);
}

}  // namespace

std::vector<DataInterval> DueIntervals(const Schedule& schedule, int64_t start_us,
                                       std::optional<int64_t> last_start_us, int64_t now_us,
                                       bool catchup, size_t limit) {
  std::vector<DataInterval> out;
  if (limit == 0) return out;
  if (schedule.once()) {
    if (!last_start_us && now_us >= start_us) out.push_back({start_us, start_us});
    return out;
  }
  std::optional<int64_t> begin = NextStart(schedule, start_us, last_start_us);
  if (!begin) return out;
  if (!catchup) {
    // Only the newest complete interval, if it starts at or after `begin`.
    std::optional<int64_t> end = schedule.LastAtOrBefore(now_us, start_us);
    if (!end) return out;
    std::optional<int64_t> start = schedule.LastAtOrBefore(*end - 1, start_us);
    if (start && *start >= *begin) out.push_back({*start, *end});
    return out;
  }
  for (std::optional<int64_t> start = begin; start && out.size() < limit;) {
    std::optional<int64_t> end = schedule.NextAfter(*start, start_us);
    if (!end || *end > now_us) break;
    out.push_back({*start, *end});
    start = end;
  }
  return out;
}

std::optional<int64_t> NextDueAt(const Schedule& schedule, int64_t start_us,
                                 std::optional<int64_t> last_start_us) {
  if (schedule.once()) {
    if (last_start_us) return std::nullopt;
    return start_us;
  }
  std::optional<int64_t> start = NextStart(schedule, start_us, last_start_us);
  if (!start) return std::nullopt;
  return schedule.NextAfter(*start, start_us);
}

std::vector<DataInterval> IntervalsStartingIn(const Schedule& schedule, int64_t start_us,
                                              int64_t from_us, int64_t to_us) {
  std::vector<DataInterval> out;
  if (schedule.once()) {
    if (start_us >= from_us && start_us <= to_us) out.push_back({start_us, start_us});
    return out;
  }
  std::optional<int64_t> start = BoundaryAtOrAfter(schedule, start_us, std::max(start_us, from_us));
  while (start && *start <= to_us) {
    std::optional<int64_t> end = schedule.NextAfter(*start, start_us);
    if (!end) break;
    out.push_back({*start, *end});
    start = end;
  }
  return out;
}

DataInterval LatestCompleteInterval(const Schedule& schedule, int64_t start_us, int64_t t_us) {
  if (schedule.once()) return {t_us, t_us};
  std::optional<int64_t> first = FirstStart(schedule, start_us);
  std::optional<int64_t> end = schedule.LastAtOrBefore(t_us, start_us);
  if (!first || !end) return {t_us, t_us};
  std::optional<int64_t> start = schedule.LastAtOrBefore(*end - 1, start_us);
  if (!start || *start < *first) return {t_us, t_us};
  return {*start, *end};
}

}  // namespace dataforge
