#include "orchestrate/state/run_store.h"

#include <algorithm>
#include <tuple>

#include <fmt/format.h>

#include "orchestrate/state/postgres/postgres_run_store.h"
#include "orchestrate/state/sqlite/sqlite_run_store.h"
#include "staging/staging.h"

namespace dataforge {
namespace {

constexpr const char* kRunStateNames[] = {"queued", "running", "success", "failed"};
constexpr const char* kTaskStateNames[] = {"none",    "scheduled", "running",        "up_for_retry",
                                           "success", "failed",    "upstream_failed"};
constexpr const char* kRunTypeNames[] = {"scheduled", "manual", "backfill"};

template <typename E, size_t N>
std::optional<E> Parse(const char* const (&names)[N], std::string_view s) {
  for (size_t i = 0; i < N; ++i) {
    if (s == names[i]) return static_cast<E>(i);
  }
  return std::nullopt;
}

// The length of the valid UTF-8 sequence at the start of `s` (Unicode Table 3-7: no overlong
// forms, no surrogates, nothing above U+10FFFF), or 0 if it does not start with one.
size_t ValidSequenceLength(std::string_view s) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char b0 = byte(0);
  if (b0 < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  if (byte(1) < lo || byte(1) > hi) return 0;
  for (size_t i = 2; i < n; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return n;
}

}  // namespace

const char* RunStateName(RunState s) {
  return kRunStateNames[static_cast<int>(s)];
}
const char* TaskStateName(TaskState s) {
  return kTaskStateNames[static_cast<int>(s)];
}
const char* RunTypeName(RunType t) {
  return kRunTypeNames[static_cast<int>(t)];
}
std::optional<RunState> ParseRunState(std::string_view s) {
  return Parse<RunState>(kRunStateNames, s);
}
std::optional<TaskState> ParseTaskState(std::string_view s) {
  return Parse<TaskState>(kTaskStateNames, s);
}
std::optional<RunType> ParseRunType(std::string_view s) {
  return Parse<RunType>(kRunTypeNames, s);
}

bool IsTerminal(TaskState s) {
  return s == TaskState::kSuccess || s == TaskState::kFailed || s == TaskState::kUpstreamFailed;
}

void SortRunStateCounts(std::vector<RunStateCount>* counts) {
  std::sort(counts->begin(), counts->end(), [](const RunStateCount& a, const RunStateCount& b) {
    return std::tie(a.dag_id, a.state) < std::tie(b.dag_id, b.state);
  });
}

std::string SanitizeText(std::string_view text) {
  constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    size_t n = text[i] == '\0' ? 0 : ValidSequenceLength(text.substr(i));
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(text.data() + i, n);
      i += n;
    }
  }
  return out;
}

Result<std::unique_ptr<RunStore>> OpenRunStore(const std::string& staging_url, OpenMode mode) {
  DF_ASSIGN_OR_RETURN(StagingUrl parsed, ParseStagingUrl(staging_url));
  if (parsed.postgres) return PostgresRunStore::Open(staging_url, mode);
  return SqliteRunStore::Open(parsed.sqlite_path, mode);
}

}  // namespace dataforge
