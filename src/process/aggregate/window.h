// Window assignment for process.aggregates (docs/aggregates.md "Windows"). Times are
// milliseconds since the epoch; a window is [start, end).
//  - tumbling (size): the one window with start = floor(t / size) * size.
//  - hopping (size, advance): every window with start = k * advance and start <= t < start + size,
//    oldest first: size / advance windows when advance divides size, else that rounded up or down.
//  - session (gap): per group (and log partition), a record at t opens [t, t + gap) or joins the
//    session it overlaps (a session [s, e) holds records s <= t < e, where e = last record + gap);
//    a record that overlaps two sessions bridges them into one (SessionList).
// Windows align to the epoch (1d windows are UTC days). Stateless functions; SessionList is
// thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

#include "config/pipeline_config.h"
#include "process/aggregate/aggregate_state.h"

namespace dataforge {

struct Window {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  bool operator==(const Window&) const = default;
};

// floor(a / b) for b > 0, also for negative a (times before 1970).
inline int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

// Tumbling and hopping windows containing `t_ms`, oldest first, replacing `out`'s content.
void AssignWindows(const WindowSpec& spec, int64_t t_ms, std::vector<Window>* out);

// The open sessions of one group in one log partition, ordered by start, not overlapping.
struct Session {
  Window window;  // [first record, last record + gap)
  AggState state;
  bool changed = false;  // by Add since its result row was last written (the writer clears it)
};

class SessionList {
 public:
  // Puts a record at `t_ms` into its session (opening, extending or bridging sessions, merging
  // their states) and returns it, marked changed; `*replaced` gets the windows of the sessions that
  // were folded into it or moved (their result rows are gone).
  Session* Add(int64_t t_ms, int64_t gap_ms, const std::vector<ValueDef>& defs,
               uint64_t exact_limit, std::vector<Window>* replaced);
  // Drops sessions with end < `before_ms` (final); returns how many.
  size_t DropEndingBefore(int64_t before_ms);
  std::vector<Session>& sessions() { return sessions_; }
  const std::vector<Session>& sessions() const { return sessions_; }

 private:
  std::vector<Session> sessions_;
};

// A session list's state bytes (docs/aggregates.md "State table"): version 1, the session count,
// then per session its start and end (zigzag varints) and its length-prefixed EncodeState.
std::string EncodeSessions(const std::vector<ValueDef>& defs, const SessionList& list);
// Appends the sessions of `in` to `list`; an error when `in` is not EncodeSessions' bytes.
Status DecodeSessions(const std::vector<ValueDef>& defs, std::string_view in, SessionList* list);
// The latest end among the sessions of `in` (EncodeSessions' bytes), read without decoding their
// states; std::nullopt when it holds none. An error when `in` is not a session list.
Result<std::optional<int64_t>> LastSessionEnd(std::string_view in);

}  // namespace dataforge
