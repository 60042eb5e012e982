// When a DAG runs: schedules, data intervals and durations. Pure functions of their inputs
// (no clock is read here: callers pass "now"); thread-compatible values.
//
// Time is microseconds since the Unix epoch, UTC. Wall-clock schedules (cron, @daily, ...) are
// evaluated in the schedule's IANA time zone (tzdata), so "0 2 * * *" in Europe/Berlin fires at
// 02:00 local time on both sides of a DST change:
//  - a wall time skipped by a spring-forward gap (02:30 on the day clocks jump 02:00 -> 03:00)
//    fires at the first instant after the gap (03:00 local), once;
//  - a wall time repeated by a fall-back overlap fires once, at its first occurrence, unless
//    the cron's hour field covers all 24 hours ("*", "*/1", "0-23"): hourly-or-finer schedules
//    fire at every distinct UTC instant whose wall time matches, so "0 * * * *" in New York
//    fires at 01:00 EDT and again at 01:00 EST (once per UTC hour), while "30 1 * * *" and
//    "0 */2 * * *" fire only at the first 01:30 / 02:00.
// Day fields follow Vixie cron: a field starting with '*' ("*", "*/2") counts as unrestricted.
// tzdata as installed (/usr/share/zoneinfo) lists DST transitions up to 2037; later dates use
// the offset in force at the end of 2037.
// Interval schedules ("every 15m") are fixed durations anchored at the DAG's start_date and
// ignore DST.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace dataforge {

// A data interval [start_us, end_us) (Airflow's data_interval_start/end). @once runs have
// start == end.
struct DataInterval {
  int64_t start_us = 0;
  int64_t end_us = 0;
  bool operator==(const DataInterval&) const = default;
};

class Schedule {
 public:
  // `text`: "@once", "@hourly", "@daily" (= "@midnight"), "@weekly" (Sunday 00:00), "@monthly",
  // "@yearly" (= "@annually"), a 5-field cron "minute hour day-of-month month day-of-week"
  // (numbers, *, lists a,b, ranges a-b, steps */n and a-b/n, month names jan..dec and day
  // names sun..sat, 0 or 7 = Sunday; when both day fields are restricted either matches, as in
  // Vixie cron), or a fixed interval "every 15m" / "15m" (units ms, s, m, h, d; combined as
  // "1h30m"). `time_zone`: an IANA name such as "UTC" or "Europe/Berlin".
  // Errors are InvalidArgument with a one-line reason ("cron field 'hour' has 24; hours are
  // 0-23"), without file or line: the caller adds those.
  static Result<Schedule> Parse(std::string_view text, std::string_view time_zone = "UTC");

  Schedule(const Schedule&);
  Schedule& operator=(const Schedule&);
  Schedule(Schedule&&) noexcept;
  Schedule& operator=(Schedule&&) noexcept;
  ~Schedule();

  bool once() const;
  bool interval() const;  // a fixed "every ..." interval
  const std::string& text() const;
  const std::string& time_zone() const;

  // The first boundary strictly after `t_us`. For an interval schedule boundaries are
  // anchor_us + k * interval for integer k (anchor = the DAG's start_date). nullopt for @once.
  std::optional<int64_t> NextAfter(int64_t t_us, int64_t anchor_us) const;
  // The last boundary at or before `t_us` (nullopt for @once).
  std::optional<int64_t> LastAtOrBefore(int64_t t_us, int64_t anchor_us) const;

 private:
  struct Impl;
  explicit Schedule(std::unique_ptr<Impl> impl);
  // Parse() before its errors are made one line.
  static Result<Schedule> ParseText(std::string_view text, std::string_view time_zone);
  std::unique_ptr<Impl> impl_;
};

// The data intervals a scheduler should create runs for, oldest first (Airflow semantics):
// intervals [b_i, b_{i+1}) between consecutive boundaries, with b_i >= start_us, whose end is
// <= now_us (a run starts once its interval has ended), and whose start is after
// `last_start_us` (the newest interval already created; nullopt = none yet).
//  - catchup: every such interval, at most `limit` (the rest follow on the next call);
//  - no catchup: only the newest such interval (older missed ones are skipped).
// @once: the single interval [start_us, start_us] once now_us >= start_us, if none yet.
std::vector<DataInterval> DueIntervals(const Schedule& schedule, int64_t start_us,
                                       std::optional<int64_t> last_start_us, int64_t now_us,
                                       bool catchup, size_t limit);

// When the next interval after `last_start_us` (or the first one) ends, i.e. when the next
// scheduled run becomes due; nullopt if none ever will (@once already created).
std::optional<int64_t> NextDueAt(const Schedule& schedule, int64_t start_us,
                                 std::optional<int64_t> last_start_us);

// Intervals whose start lies in [from_us, to_us] (both inclusive), oldest first, for backfill.
// @once: the one interval if start_us is in range.
std::vector<DataInterval> IntervalsStartingIn(const Schedule& schedule, int64_t start_us,
                                              int64_t from_us, int64_t to_us);

// The newest complete interval at `t_us` (ending at or before it), for a manual trigger; for
// @once or when none has ended yet, [t_us, t_us].
DataInterval LatestCompleteInterval(const Schedule& schedule, int64_t start_us, int64_t t_us);

// "500ms", "30s", "15m", "2h", "1d", "1h30m" -> microseconds. InvalidArgument otherwise.
Result<int64_t> ParseDuration(std::string_view text);
// 90'000'000 -> "1m30s"; 0 -> "0s".
std::string FormatDuration(int64_t us);

// "2024-01-31", "2024-01-31T06:00", "2024-01-31T06:00:00", "2024-01-31 06:00:00" (wall time in
// `time_zone`), or with an explicit "Z" / "+02:00" / "+00:53:28" offset -> microseconds since
// the epoch.
Result<int64_t> ParseDateTime(std::string_view text, std::string_view time_zone = "UTC");

// A point in time a user gives to seek by (GET .../records?time=, `topic consume --from-time`):
// ISO 8601 as ParseDateTime reads it in UTC ("2026-01-31T06:00:00.250Z", "2026-01-31") or whole
// milliseconds since the Unix epoch ("1769839200250"). InvalidArgument naming both forms.
Result<int64_t> ParseInstant(std::string_view text);

// Formatting in a time zone: "2024-01-31", "20240131", "2024-01-31T06:00:00+01:00" (with
// ".ffffff" when the microseconds are not zero; the offset as "+00:53:28" when it has seconds,
// as local mean time has: ParseDateTime reads every form back to the same instant). An unknown zone
// formats as UTC: validate names with IsTimeZone first.
std::string FormatDate(int64_t us, std::string_view time_zone);
std::string FormatDateNoDash(int64_t us, std::string_view time_zone);
std::string FormatIso8601(int64_t us, std::string_view time_zone);

// True when `name` is an IANA time zone tzdata knows.
bool IsTimeZone(std::string_view name);

}  // namespace dataforge
