// Counting rules:
//   not_null  a missing field, a JSON null or a SQL NULL counts as null.
//   unique    exact per-value counting over every value seen (strings as they are, numbers and
//             other JSON values as their JSON text; a string and a number never collide);
//             nulls are not values. "N duplicate values" = N rows whose value an earlier row
//             already had (x, x, x, y, y -> 3).
//   freshness the newest value that parses as a timestamp; values that do not parse are skipped.
//             fresh_max_age_us <= 0 means no age limit (the newest value is still reported, and a
//             column without any parseable value still fails).
#include "orchestrate/tasks/data_checks.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <unordered_set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/timestamp.h"

namespace dataforge {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// The tag that keeps a string "1" and the number 1 apart in a unique set.
constexpr char kStringTag = 's';
constexpr char kJsonTag = 'j';

std::string Example(std::string_view v) {
  if (v.size() > 60) return std::string(v.substr(0, 57)) + "...";
  return std::string(v);
}

std::string Plural(uint64_t n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

// "1 d 2 h", "5 min 3 s", "250 ms": every non-zero unit, exact to the second (to the
// millisecond below one second).
std::string FormatAge(int64_t us) {
  if (us < 0) us = -us;
  if (us < 1'000'000) return fmt::format("{} ms", us / 1000);
  int64_t s = us / 1'000'000;
  struct Unit {
    int64_t seconds;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{86400, "d"}, {3600, "h"}, {60, "min"}, {1, "s"}};
  std::string out;
  for (const Unit& u : kUnits) {
    int64_t n = s / u.seconds;
    s %= u.seconds;
    if (n == 0) continue;
    if (!out.empty()) out += ' ';
    out += fmt::format("{} {}", n, u.name);
  }
  return out;
}

// "2026-11-24T10:00:00Z", with ".123" when there are milliseconds.
std::string FormatTimestamp(int64_t us) {
  std::string text = FormatTimestampMillis(us >= 0 ? us / 1000 : -((-us + 999) / 1000));
  if (text.size() > 5 && text.compare(text.size() - 5, 5, ".000Z") == 0) {
    text.replace(text.size() - 5, 5, "Z");
  }
  return text;
}

// Epoch seconds below 1e11 (until the year 5138), milliseconds above.
std::optional<int64_t> EpochToUs(double v) {
  if (!std::isfinite(v)) return std::nullopt;
  double us = std::fabs(v) < 1e11 ? v * 1e6 : v * 1e3;
  if (std::fabs(us) > 9e18) return std::nullopt;
  return static_cast<int64_t>(std::llround(us));
}

std::optional<int64_t> ParseTimestamp(std::string_view s) {
  if (auto ms = ParseTimestampMillis(s)) return *ms * 1000;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc() && end == s.data() + s.size() && !s.empty()) return EpochToUs(v);
  return std::nullopt;
}

}  // namespace

struct CheckEvaluator::State {
  struct UniqueColumn {
    std::unordered_set<std::string> seen;  // tagged values
    uint64_t duplicates = 0;
    std::string example;
  };

  uint64_t rows = 0;
  std::vector<uint64_t> nulls;        // per spec.not_null
  std::vector<UniqueColumn> uniques;  // per spec.unique
  std::optional<int64_t> newest_us;   // freshness
  uint64_t unparsed = 0;
  std::string unparsed_example;
  simdjson::dom::parser parser;

  void AddUnique(size_t i, std::string tagged) {
    UniqueColumn& u = uniques[i];
    auto [it, inserted] = u.seen.insert(std::move(tagged));
    if (inserted) return;
    if (u.duplicates++ == 0) u.example = Example(std::string_view(*it).substr(1));
  }

  void AddFresh(std::optional<int64_t> us, std::string_view text) {
    if (!us) {
      if (unparsed++ == 0) unparsed_example = Example(text);
      return;
    }
    if (!newest_us || *us > *newest_us) newest_us = us;
  }
};

CheckEvaluator::CheckEvaluator(CheckSpec spec)
    : spec_(std::move(spec)), state_(std::make_shared<State>()) {
  state_->nulls.resize(spec_.not_null.size());
  state_->uniques.resize(spec_.unique.size());
}

namespace {

// The value at `path` ("a.b" reaches into objects; a top-level key containing dots wins);
// false when missing or null.
bool Lookup(const element& root, const std::string& path, element* out) {
  if (root.type() != element_type::OBJECT) return false;
  element e;
  if (root.get_object().at_key(path).get(e) != simdjson::SUCCESS) {
    e = root;
    size_t start = 0;
    while (true) {
      size_t dot = path.find('.', start);
      std::string_view part = std::string_view(path).substr(
          start, dot == std::string::npos ? std::string::npos : dot - start);
      if (e.type() != element_type::OBJECT ||
          e.get_object().at_key(part).get(e) != simdjson::SUCCESS) {
        return false;
      }
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
  }
  if (e.is_null()) return false;
  *out = e;
  return true;
}

}  // namespace

void CheckEvaluator::AddJsonRow(std::string_view row_json) {
  State& s = *state_;
  ++s.rows;
  element root;
  bool parsed = s.parser.parse(row_json.data(), row_json.size()).get(root) == simdjson::SUCCESS &&
                root.type() == element_type::OBJECT;
  element v;
  for (size_t i = 0; i < spec_.not_null.size(); ++i) {
    if (!parsed || !Lookup(root, spec_.not_null[i], &v)) ++s.nulls[i];
  }
  for (size_t i = 0; i < spec_.unique.size(); ++i) {
    if (!parsed || !Lookup(root, spec_.unique[i], &v)) continue;
    std::string_view str;
    if (v.get_string().get(str) == simdjson::SUCCESS) {
      s.AddUnique(i, kStringTag + std::string(str));
    } else {
      s.AddUnique(i, kJsonTag + simdjson::minify(v));
    }
  }
  if (!spec_.fresh_column.empty() && parsed && Lookup(root, spec_.fresh_column, &v)) {
    std::string_view str;
    double num = 0;
    if (v.get_string().get(str) == simdjson::SUCCESS) {
      s.AddFresh(ParseTimestamp(str), str);
    } else if (v.get_double().get(num) == simdjson::SUCCESS) {
      s.AddFresh(EpochToUs(num), simdjson::minify(v));
    } else {
      s.AddFresh(std::nullopt, simdjson::minify(v));
    }
  }
}

void CheckEvaluator::AddSqlRow(const std::vector<std::string>& columns,
                               const std::vector<std::optional<std::string>>& values) {
  State& s = *state_;
  ++s.rows;
  auto find = [&](const std::string& name) -> const std::string* {
    for (size_t c = 0; c < columns.size() && c < values.size(); ++c) {
      if (columns[c] == name) return values[c] ? &*values[c] : nullptr;
    }
    return nullptr;
  };
  for (size_t i = 0; i < spec_.not_null.size(); ++i) {
    if (find(spec_.not_null[i]) == nullptr) ++s.nulls[i];
  }
  for (size_t i = 0; i < spec_.unique.size(); ++i) {
    if (const std::string* v = find(spec_.unique[i])) s.AddUnique(i, kStringTag + *v);
  }
  if (!spec_.fresh_column.empty()) {
    if (const std::string* v = find(spec_.fresh_column)) s.AddFresh(ParseTimestamp(*v), *v);
  }
}

Status CheckEvaluator::Finish(int64_t now_us, std::string* summary) {
  const State& s = *state_;
  std::vector<std::string> all, failed;
  auto add = [&](std::string text, bool ok) {
    if (!ok) failed.push_back(text);
    all.push_back(std::move(text));
  };

  if (spec_.min_rows && s.rows < *spec_.min_rows) {
    add(fmt::format("row count {} is below min {}", s.rows, *spec_.min_rows), false);
  } else if (spec_.max_rows && s.rows > *spec_.max_rows) {
    add(fmt::format("row count {} is above max {}", s.rows, *spec_.max_rows), false);
  } else {
    add(Plural(s.rows, "row"), true);
  }
  for (size_t i = 0; i < spec_.not_null.size(); ++i) {
    const std::string& col = spec_.not_null[i];
    if (s.nulls[i] == 0) {
      add(fmt::format("{}: no nulls", col), true);
    } else {
      add(fmt::format("{}: {} in {}", col, Plural(s.nulls[i], "null"), Plural(s.rows, "row")),
          false);
    }
  }
  for (size_t i = 0; i < spec_.unique.size(); ++i) {
    const std::string& col = spec_.unique[i];
    const State::UniqueColumn& u = s.uniques[i];
    if (u.duplicates == 0) {
      add(fmt::format("{}: unique", col), true);
    } else {
      add(fmt::format("{}: {}, e.g. '{}'", col, Plural(u.duplicates, "duplicate value"), u.example),
          false);
    }
  }
  if (!spec_.fresh_column.empty()) {
    const std::string& col = spec_.fresh_column;
    if (!s.newest_us) {
      std::string text =
          fmt::format("{}: no parseable timestamp in {}", col, Plural(s.rows, "row"));
      if (s.unparsed > 0) {
        text += fmt::format(" ({} unparseable, e.g. '{}')", s.unparsed, s.unparsed_example);
      }
      add(std::move(text), false);
    } else {
      int64_t age = now_us - *s.newest_us;
      std::string newest = fmt::format("{} newest {}", col, FormatTimestamp(*s.newest_us));
      if (age < 0) {
        add(fmt::format("{}, {} in the future", newest, FormatAge(age)), true);
      } else if (spec_.fresh_max_age_us <= 0) {
        add(fmt::format("{}, {} old", newest, FormatAge(age)), true);
      } else {
        bool ok = age <= spec_.fresh_max_age_us;
        add(fmt::format("{}, {} old {} {}", newest, FormatAge(age), ok ? "<=" : ">",
                        FormatAge(spec_.fresh_max_age_us)),
            ok);
      }
    }
  }

  if (summary != nullptr) *summary = fmt::format("{}", fmt::join(all, "; "));
  if (failed.empty()) return Status::OK();
  return Status::FailedPrecondition(fmt::format("{}", fmt::join(failed, "; ")));
}

}  // namespace dataforge
