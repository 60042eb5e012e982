#include "process/aggregate/window.h"

#include <algorithm>

namespace dataforge {

void AssignWindows(const WindowSpec& spec, int64_t t_ms, std::vector<Window>* out) {
  out->clear();
  if (spec.type == "tumbling") {
    int64_t start = FloorDiv(t_ms, spec.size_ms) * spec.size_ms;
    out->push_back({start, start + spec.size_ms});
    return;
  }
  // hopping: the latest window starting at or before t, then back while it still holds t.
  int64_t last = FloorDiv(t_ms, spec.advance_ms) * spec.advance_ms;
  for (int64_t start = last; start + spec.size_ms > t_ms; start -= spec.advance_ms) {
    out->push_back({start, start + spec.size_ms});
  }
  std::reverse(out->begin(), out->end());
}

Session* SessionList::Add(int64_t t_ms, int64_t gap_ms, const std::vector<ValueDef>& defs,
                          uint64_t exact_limit, std::vector<Window>* replaced) {
  Window w{t_ms, t_ms + gap_ms};
  // Sessions overlapping [t, t + gap): they and the record become one session.
  auto first = std::find_if(sessions_.begin(), sessions_.end(),
                            [&](const Session& s) { return s.window.end_ms > w.start_ms; });
  auto last = std::find_if(first, sessions_.end(),
                           [&](const Session& s) { return s.window.start_ms >= w.end_ms; });
  if (first == last) {  // none: a new session
    Session s{w, NewState(defs), true};
    return &*sessions_.insert(first, std::move(s));
  }
  Session& into = *first;
  Window before = into.window;
  for (auto it = first + 1; it != last; ++it) {
    replaced->push_back(it->window);
    MergeInto(defs, it->state, exact_limit, &into.state);
    into.window.end_ms = std::max(into.window.end_ms, it->window.end_ms);
  }
  into.window.start_ms = std::min(into.window.start_ms, w.start_ms);
  into.window.end_ms = std::max(into.window.end_ms, w.end_ms);
  if (!(into.window == before) && into.window.start_ms != before.start_ms) {
    replaced->push_back(before);  // its result row is keyed by the old start
  }
  size_t index = static_cast<size_t>(first - sessions_.begin());
  sessions_.erase(first + 1, last);
  sessions_[index].changed = true;
  return &sessions_[index];
}

size_t SessionList::DropEndingBefore(int64_t before_ms) {
  return std::erase_if(sessions_, [&](const Session& s) { return s.window.end_ms < before_ms; });
}

std::string EncodeSessions(const std::vector<ValueDef>& defs, const SessionList& list) {
  std::string out;
  out.push_back(1);
  PutVarint(&out, list.sessions().size());
  for (const Session& s : list.sessions()) {
    PutVarint(&out, ZigZag(s.window.start_ms));
    PutVarint(&out, ZigZag(s.window.end_ms));
    std::string state = EncodeState(defs, s.state);
    PutVarint(&out, state.size());
    out += state;
  }
  return out;
}

Status DecodeSessions(const std::vector<ValueDef>& defs, std::string_view in, SessionList* list) {
  uint64_t n = 0;
  if (in.empty() || in.front() != 1) return Status::Corruption("session list: unknown version");
  in.remove_prefix(1);
  if (!GetVarint(&in, &n)) return Status::Corruption("session list: truncated");
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t start = 0, end = 0, len = 0;
    if (!GetVarint(&in, &start) || !GetVarint(&in, &end) || !GetVarint(&in, &len) ||
        len > in.size()) {
      return Status::Corruption("session list: truncated");
    }
    Session s;
    s.window = {UnZigZag(start), UnZigZag(end)};
    DF_RETURN_IF_ERROR(DecodeState(defs, in.substr(0, len), &s.state));
    in.remove_prefix(len);
    list->sessions().push_back(std::move(s));
  }
  return Status::OK();
}

Result<std::optional<int64_t>> LastSessionEnd(std::string_view in) {
  uint64_t n = 0;
  if (in.empty() || in.front() != 1) return Status::Corruption("session list: unknown version");
  in.remove_prefix(1);
  if (!GetVarint(&in, &n)) return Status::Corruption("session list: truncated");
  std::optional<int64_t> last;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t start = 0, end = 0, len = 0;
    if (!GetVarint(&in, &start) || !GetVarint(&in, &end) || !GetVarint(&in, &len) ||
        len > in.size()) {
      return Status::Corruption("session list: truncated");
    }
    last = std::max(last.value_or(UnZigZag(end)), UnZigZag(end));
    in.remove_prefix(len);
  }
  return last;
}

}  // namespace dataforge
