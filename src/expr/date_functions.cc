// Date and time functions (docs/expressions.md, "Dates and times"). Timestamps are UTC
// milliseconds; calendar fields are taken in UTC unless a zone argument names an IANA zone.
// Date arguments take a timestamp or an ISO-8601 string (what a record's JSON holds).
#include <algorithm>
#include <cmath>
#include <tuple>

#include <fmt/format.h>

#include "expr/function_util.h"
#include "expr/time_format.h"

namespace dataforge::expr::internal {
namespace {

using Args = std::span<const Value>;

// A timestamp argument inside the supported years.
Result<int64_t> Instant(std::string_view fn, std::string_view arg, const Value& v) {
  DF_ASSIGN_OR_RETURN(int64_t ms, TimestampArg(fn, arg, v));
  DF_RETURN_IF_ERROR(CheckRange(fn, arg, ms));
  return ms;
}

// The optional zone argument at `index`, UTC when absent.
Result<Zone> OptionalZone(std::string_view fn, Args args, size_t index) {
  if (args.size() <= index) return Zone(nullptr);
  return ZoneArg(fn, args[index]);
}

// ISO-8601 text, or an error that shows the forms it takes.
Result<int64_t> ParseIso(std::string_view fn, std::string_view text) {
  if (auto ms = ParseIsoTimestamp(text)) return *ms;
  return FnError(fn, fmt::format("cannot parse '{}' as ISO-8601 (like 2024-01-02T03:04:05.678Z "
                                 "or 2024-01-02); give the format as the second argument",
                                 text));
}

// to_timestamp(text): ISO-8601; (text, format[, zone]): the format's directives, wall times in
// the zone; (number): seconds since the epoch; (timestamp): itself.
Result<Value> ToTimestamp(Args args, const CallContext&) {
  if (AnyNull(args)) return Value::Null();
  const Value& x = args[0];
  if (args.size() == 1) {
    switch (x.kind) {
      case Kind::kTimestamp:
        return x;
      case Kind::kString: {
        DF_ASSIGN_OR_RETURN(int64_t ms, ParseIso("to_timestamp", x.s));
        return Value::Timestamp(ms);
      }
      case Kind::kInt:
      case Kind::kDouble: {
        double s = x.kind == Kind::kInt ? static_cast<double>(x.i) : x.d;
        double ms = std::floor(s * 1000);
        if (!(ms >= static_cast<double>(kMinMillis) && ms <= static_cast<double>(kMaxMillis))) {
          return FnError("to_timestamp", fmt::format("{} seconds since the epoch is outside the "
                                                     "supported years 0000-9999",
                                                     ToText(x)));
        }
        if (x.kind == Kind::kInt) return Value::Timestamp(x.i * 1000);
        return Value::Timestamp(static_cast<int64_t>(ms));
      }
      default:
        return TypeError("to_timestamp", "value", "a string, a number or a timestamp", x);
    }
  }
  DF_ASSIGN_OR_RETURN(std::string_view text, TextArg("to_timestamp", "text", x));
  DF_ASSIGN_OR_RETURN(std::string_view format, TextArg("to_timestamp", "format", args[1]));
  DF_ASSIGN_OR_RETURN(Zone zone, OptionalZone("to_timestamp", args, 2));
  DF_ASSIGN_OR_RETURN(int64_t ms, ParseTime("to_timestamp", text, format, zone));
  return Value::Timestamp(ms);
}

Result<Value> FormatTimestamp(Args args, const CallContext&) {
  if (AnyNull(args)) return Value::Null();
  DF_ASSIGN_OR_RETURN(int64_t ms, Instant("format_timestamp", "ts", args[0]));
  std::string_view format = "%Y-%m-%dT%H:%M:%S.%fZ";
  if (args.size() > 1) {
    DF_ASSIGN_OR_RETURN(format, TextArg("format_timestamp", "format", args[1]));
  }
  DF_ASSIGN_OR_RETURN(Zone zone, OptionalZone("format_timestamp", args, 2));
  std::string out;
  DF_RETURN_IF_ERROR(FormatTime("format_timestamp", ms, format, zone, &out));
  return Value::String(std::move(out));
}

enum class Unit {
  kMillisecond,
  kSecond,
  kMinute,
  kHour,
  kDay,
  kWeek,
  kMonth,
  kQuarter,
  kYear,
  kDow,
  kIsoDow,
  kDoy,
  kEpoch,
};

struct UnitName {
  std::string_view name;
  Unit unit;
  bool truncates;  // a unit of date_trunc (the others are extract's only)
};

constexpr UnitName kUnits[] = {
    {"millisecond", Unit::kMillisecond, true},
    {"second", Unit::kSecond, true},
    {"minute", Unit::kMinute, true},
    {"hour", Unit::kHour, true},
    {"day", Unit::kDay, true},
    {"week", Unit::kWeek, true},
    {"month", Unit::kMonth, true},
    {"quarter", Unit::kQuarter, true},
    {"year", Unit::kYear, true},
    {"dow", Unit::kDow, false},
    {"isodow", Unit::kIsoDow, false},
    {"doy", Unit::kDoy, false},
    {"epoch", Unit::kEpoch, false},
};

Result<Unit> UnitArg(std::string_view fn, const Value& v, bool truncating) {
  if (v.kind == Kind::kString) {
    for (const UnitName& u : kUnits) {
      if ((u.truncates || !truncating) && u.name.size() == v.s.size()) {
        bool same = true;
        for (size_t i = 0; i < v.s.size() && same; ++i) same = (v.s[i] | 0x20) == u.name[i];
        if (same) return u.unit;
      }
    }
  }
  std::string names;
  for (const UnitName& u : kUnits) {
    if (!u.truncates && truncating) continue;
    if (!names.empty()) names.append(", ");
    names.append(u.name);
  }
  return FnError(fn, fmt::format("unknown unit {}; use one of {}", DescribeValue(v), names));
}

Result<Value> DateTrunc(Args args, const CallContext&) {
  if (AnyNull(args)) return Value::Null();
  DF_ASSIGN_OR_RETURN(Unit unit, UnitArg("date_trunc", args[0], true));
  DF_ASSIGN_OR_RETURN(int64_t ms, Instant("date_trunc", "ts", args[1]));
  DF_ASSIGN_OR_RETURN(Zone zone, OptionalZone("date_trunc", args, 2));
  const int64_t offset = UtcToLocal(zone, ms) - ms;
  int64_t local = ms + offset;
  auto floor_to = [](int64_t v, int64_t step) { return v - (((v % step) + step) % step); };
  Civil c = CivilFromMillis(local);
  switch (unit) {
    case Unit::kMillisecond:
      return Value::Timestamp(ms);
    case Unit::kSecond:
      local = floor_to(local, 1000);
      break;
    case Unit::kMinute:
      local = floor_to(local, 60'000);
      break;
    case Unit::kHour:
      local = floor_to(local, 3'600'000);
      break;
    case Unit::kDay:
      local = floor_to(local, 86'400'000);
      break;
    case Unit::kWeek: {  // ISO weeks start on Monday
      int wd = Weekday(local);
      local = floor_to(local, 86'400'000) - ((wd + 6) % 7) * 86'400'000LL;
      break;
    }
    case Unit::kMonth:
    case Unit::kQuarter:
    case Unit::kYear: {
      Civil t;
      t.year = c.year;
      t.month = unit == Unit::kMonth     ? c.month
                : unit == Unit::kQuarter ? (c.month - 1) / 3 * 3 + 1
                                         : 1;
      local = MillisFromCivil(t);
      break;
    }
    default:
      break;
  }
  // Keep the offset of `ts` when the truncated wall time has it (so the hour after a fall-back
  // truncates into that hour, not the earlier one with the same wall time); otherwise the zone's
  // rule for the wall time (a gap: the first instant after it).
  int64_t same_offset = local - offset;
  if (UtcToLocal(zone, same_offset) == local) return Value::Timestamp(same_offset);
  return Value::Timestamp(LocalToUtc(zone, local));
}

Result<Value> Extract(Args args, const CallContext&) {
  if (AnyNull(args)) return Value::Null();
  DF_ASSIGN_OR_RETURN(Unit unit, UnitArg("extract", args[0], false));
  DF_ASSIGN_OR_RETURN(int64_t ms, Instant("extract", "ts", args[1]));
  DF_ASSIGN_OR_RETURN(Zone zone, OptionalZone("extract", args, 2));
  int64_t local = UtcToLocal(zone, ms);
  Civil c = CivilFromMillis(local);
  switch (unit) {
    case Unit::kMillisecond:
      return Value::Int(c.millis);
    case Unit::kSecond:
      return Value::Int(c.second);
    case Unit::kMinute:
      return Value::Int(c.minute);
    case Unit::kHour:
      return Value::Int(c.hour);
    case Unit::kDay:
      return Value::Int(c.day);
    case Unit::kWeek: {
      int64_t iso_year;
      return Value::Int(IsoWeek(c, &iso_year));
    }
    case Unit::kMonth:
      return Value::Int(c.month);
    case Unit::kQuarter:
      return Value::Int((c.month - 1) / 3 + 1);
    case Unit::kYear:
      return Value::Int(c.year);
    case Unit::kDow:
      return Value::Int(Weekday(local));
    case Unit::kIsoDow:
      return Value::Int(Weekday(local) == 0 ? 7 : Weekday(local));
    case Unit::kDoy:
      return Value::Int(DayOfYear(c));
    case Unit::kEpoch:
      return Value::Int(ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
  }
  return Value::Null();
}

// Whole months from `from` to `to` on the calendar of `zone`: a month counts once the day and
// time of day come round again (31 January to 29 February is 0 months). Negative when `from`
// is after `to`.
int64_t WholeMonths(int64_t from, int64_t to, Zone zone) {
  if (from > to) return -WholeMonths(to, from, zone);
  Civil a = CivilFromMillis(UtcToLocal(zone, from));
  Civil b = CivilFromMillis(UtcToLocal(zone, to));
  int64_t months = (b.year * 12 + b.month) - (a.year * 12 + a.month);
  auto rest = [](const Civil& c) {
    return std::make_tuple(c.day, c.hour, c.minute, c.second, c.millis);
  };
  if (rest(b) < rest(a)) --months;
  return months;
}

// Whole years (the birthday rule: a 29 February counts on 1 March in other years).
int64_t WholeYears(int64_t from, int64_t to) {
  return WholeMonths(from, to, nullptr) / 12;
}

constexpr int64_t UnitMillis(Unit unit) {
  switch (unit) {
    case Unit::kMillisecond:
      return 1;
    case Unit::kSecond:
      return 1000;
    case Unit::kMinute:
      return 60'000;
    case Unit::kHour:
      return 3'600'000;
    case Unit::kDay:
      return 86'400'000;
    case Unit::kWeek:
      return 7 * 86'400'000LL;
    default:
      return 0;  // calendar units
  }
}

// date_add(unit, n, ts[, zone]): units up to hours are exact durations; days and weeks move the
// wall clock of `zone` (a day across a DST change is 23 or 25 hours); months, quarters and years
// move the calendar, the day cut to the month's last (31 January + 1 month = 29 February 2024).
Result<Value> DateAdd(Args args, const CallContext&) {
  if (AnyNull(args)) return Value::Null();
  DF_ASSIGN_OR_RETURN(Unit unit, UnitArg("date_add", args[0], true));
  DF_ASSIGN_OR_RETURN(int64_t n, IntArg("date_add", "n", args[1]));
  DF_ASSIGN_OR_RETURN(int64_t ms, Instant("date_add", "ts", args[2]));
  DF_ASSIGN_OR_RETURN(Zone zone, OptionalZone("date_add", args, 3));
  auto out_of_range = [&] {
    return FnError("date_add", fmt::format("{} + {} {}(s) is outside the supported years "
                                           "0000-9999",
                                           ToText(Value::Timestamp(ms)), n, ToText(args[0])));
  };
  // Bounds far beyond the 10,000 supported years that keep every product below 2^63.
  if (n > 10'000'000 * (unit == Unit::kMillisecond ? 100'000'000LL : 1) ||
      n < -10'000'000 * (unit == Unit::kMillisecond ? 100'000'000LL : 1)) {
    return out_of_range();
  }
  int64_t out;
  if (unit <= Unit::kHour) {
    out = ms + n * UnitMillis(unit);
  } else {
    const int64_t offset = UtcToLocal(zone, ms) - ms;
    int64_t local = ms + offset;
    if (unit == Unit::kDay || unit == Unit::kWeek) {
      local += n * UnitMillis(unit);
    } else {
      Civil c = CivilFromMillis(local);
      int64_t months = n * (unit == Unit::kMonth ? 1 : unit == Unit::kQuarter ? 3 : 12);
      int64_t index = c.year * 12 + (c.month - 1) + months;
      if (index < 0 || index >= 10000 * 12) return out_of_range();
      c.year = index / 12;
      c.month = static_cast<int>(index % 12) + 1;
      c.day = std::min(c.day, DaysInMonth(c.year, c.month));
      local = MillisFromCivil(c);
    }
    if (local < kMinMillis || local > kMaxMillis) return out_of_range();
    out = local - offset;  // the same offset when the new wall time has it
    if (UtcToLocal(zone, out) != local) out = LocalToUtc(zone, local);
  }
  if (out < kMinMillis || out > kMaxMillis) return out_of_range();
  return Value::Timestamp(out);
}

// date_diff(unit, start, end[, zone]): whole units from start to end, toward zero. Units up to
// hours: elapsed time; days and weeks: on the wall clock of `zone`; months, quarters, years: the
// calendar rule of age().
Result<Value> DateDiff(Args args, const CallContext&) {
  if (AnyNull(args)) return Value::Null();
  DF_ASSIGN_OR_RETURN(Unit unit, UnitArg("date_diff", args[0], true));
  DF_ASSIGN_OR_RETURN(int64_t start, Instant("date_diff", "start", args[1]));
  DF_ASSIGN_OR_RETURN(int64_t end, Instant("date_diff", "end", args[2]));
  DF_ASSIGN_OR_RETURN(Zone zone, OptionalZone("date_diff", args, 3));
  if (unit <= Unit::kHour) return Value::Int((end - start) / UnitMillis(unit));
  if (unit == Unit::kDay || unit == Unit::kWeek) {
    return Value::Int((UtcToLocal(zone, end) - UtcToLocal(zone, start)) / UnitMillis(unit));
  }
  int64_t months = WholeMonths(start, end, zone);
  return Value::Int(months / (unit == Unit::kMonth ? 1 : unit == Unit::kQuarter ? 3 : 12));
}

Result<Value> Age(Args args, const CallContext& ctx) {
  if (AnyNull(args)) return Value::Null();
  DF_ASSIGN_OR_RETURN(int64_t from, Instant("age", "ts", args[0]));
  int64_t to = ctx.now_ms;
  if (args.size() > 1) {
    DF_ASSIGN_OR_RETURN(to, Instant("age", "until", args[1]));
  }
  DF_RETURN_IF_ERROR(CheckRange("age", "now", to));
  return Value::Int(WholeYears(from, to));
}

Result<Value> Now(Args, const CallContext& ctx) {
  return Value::Timestamp(ctx.now_ms);
}

constexpr FunctionDef kDateFunctions[] = {
    {"to_timestamp", 1, 3, ToTimestamp, "to_timestamp(value[, format[, zone]])"},
    {"format_timestamp", 1, 3, FormatTimestamp, "format_timestamp(ts[, format[, zone]])"},
    {"date_trunc", 2, 3, DateTrunc, "date_trunc(unit, ts[, zone])"},
    {"extract", 2, 3, Extract, "extract(unit, ts[, zone])"},
    {"age", 1, 2, Age, "age(ts[, until])"},
    {"now", 0, 0, Now, "now()"},
    {"date_add", 3, 4, DateAdd, "date_add(unit, n, ts[, zone])"},
    {"date_diff", 3, 4, DateDiff, "date_diff(unit, start, end[, zone])"},
};

}  // namespace

std::span<const FunctionDef> DateFunctions() {
  return kDateFunctions;
}

}  // namespace dataforge::expr::internal
