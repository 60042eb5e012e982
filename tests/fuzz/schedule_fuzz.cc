// libFuzzer target for schedules (src/schedule): cron expressions, @-names, intervals, durations
// and date-times as a user writes them in a pipeline file, evaluated in a time zone.
// Invariants beyond "no crash": errors are one-line InvalidArgument; for a parsed schedule
// NextAfter(t) > t, LastAtOrBefore(t) <= t, both are boundaries (LastAtOrBefore of a boundary is
// itself; NextAfter of the boundary before t is the first one after it), and the schedule's text
// parses again to the same boundaries; ParseDuration(FormatDuration(d)) == d; DueIntervals are
// ordered, contiguous and within their bounds; ParseDateTime(FormatIso8601(t)) == t.
//
// Input: byte 0 picks the time zone, bytes 1-4 a time (seconds from 1970 to ~2106), the rest is
// the schedule text. Seeds: tests/fuzz/corpus/schedule. Run:
//   scripts/fuzz.sh 600 schedule
// or the binary on a copy of that directory (libFuzzer adds the inputs it finds to it).
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "schedule/schedule.h"

namespace dataforge {
namespace {

constexpr const char* kTarget = "schedule_fuzz";
constexpr const char* kZones[] = {
    "UTC",          "Europe/Berlin",   "America/New_York", "Australia/Lord_Howe",
    "Asia/Kolkata", "Pacific/Chatham", "America/Santiago", "not/a_zone"};

std::string Us(int64_t us) {
  return std::to_string(us);
}

void CheckSchedule(const Schedule& s, int64_t t, int64_t anchor) {
  auto next = s.NextAfter(t, anchor);
  auto last = s.LastAtOrBefore(t, anchor);
  if (s.once()) {
    fuzz::Check(!next && !last, kTarget, "@once has boundaries");
    return;
  }
  if (next) fuzz::Check(*next > t, kTarget, "NextAfter(" + Us(t) + ") = " + Us(*next) + " <= t");
  if (last) {
    fuzz::Check(*last <= t, kTarget, "LastAtOrBefore(" + Us(t) + ") = " + Us(*last) + " > t");
    auto same = s.LastAtOrBefore(*last, anchor);
    fuzz::Check(same && *same == *last, kTarget, "LastAtOrBefore of boundary " + Us(*last));
    if (next) {
      auto after = s.NextAfter(*last, anchor);
      fuzz::Check(after && *after == *next, kTarget,
                  "NextAfter(" + Us(*last) + ") is not the boundary after " + Us(t));
    }
  }
  auto reparsed = Schedule::Parse(s.text(), s.time_zone());
  fuzz::Check(reparsed.ok(), kTarget, "text does not parse again: " + s.text());
  fuzz::Check(reparsed->NextAfter(t, anchor) == next, kTarget, "reparsed schedule differs");

  const int64_t start = anchor;
  const int64_t now = t;
  auto due = DueIntervals(s, start, std::nullopt, now, /*catchup=*/true, 5);
  fuzz::Check(due.size() <= 5, kTarget, "DueIntervals over its limit");
  for (size_t i = 0; i < due.size(); ++i) {
    fuzz::Check(due[i].start_us >= start && due[i].end_us <= now && due[i].start_us < due[i].end_us,
                kTarget, "DueIntervals interval out of bounds");
    if (i) fuzz::Check(due[i].start_us == due[i - 1].end_us, kTarget, "DueIntervals gap");
  }
  (void)NextDueAt(s, start, std::nullopt);
  (void)LatestCompleteInterval(s, start, now);
}

void Run(const uint8_t* data, size_t size) {
  if (size < 5) return;
  const char* zone = kZones[data[0] % (sizeof kZones / sizeof kZones[0])];
  const int64_t secs = (int64_t{data[1]} << 24) | (int64_t{data[2]} << 16) |
                       (int64_t{data[3]} << 8) | int64_t{data[4]};
  const int64_t t = secs * 1000000 + (data[0] >> 3) * 12345;
  const int64_t anchor = t - (secs % 86400) * 1000000 - 3 * 86400 * int64_t{1000000};
  const std::string_view text(reinterpret_cast<const char*>(data) + 5, size - 5);

  auto s = Schedule::Parse(text, zone);
  if (s.ok()) {
    CheckSchedule(*s, t, anchor);
  } else {
    fuzz::CheckError(s.status(), kTarget, "Schedule::Parse");
    fuzz::Check(s.status().code() == StatusCode::kInvalidArgument, kTarget,
                "not InvalidArgument: " + s.status().ToString());
  }
  auto d = ParseDuration(text);
  if (d.ok()) {
    auto back = ParseDuration(FormatDuration(*d));
    fuzz::Check(back.ok() && *back == *d, kTarget, "duration round trip: " + FormatDuration(*d));
  } else {
    fuzz::CheckError(d.status(), kTarget, "ParseDuration");
  }
  auto when = ParseDateTime(text, zone);
  if (when.ok()) {
    const std::string iso = FormatIso8601(*when, zone);
    auto back = ParseDateTime(iso, "UTC");
    fuzz::Check(back.ok() && *back == *when, kTarget, "date-time round trip: " + iso);
    (void)FormatDate(*when, zone);
  } else {
    fuzz::CheckError(when.status(), kTarget, "ParseDateTime");
  }
}

}  // namespace
}  // namespace dataforge

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  DF_FUZZ_NO_EXCEPTIONS(dataforge::kTarget, dataforge::Run(data, size));
  return 0;
}
