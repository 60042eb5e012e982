// Regular-expression functions over RE2 (docs/expressions.md, "Regular expressions"). Patterns
// are compiled once and kept in a cache shared by all threads (with a per-thread front cache so
// the common case takes no lock).
#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <re2/re2.h>

#include "expr/function_util.h"

namespace dataforge::expr::internal {
namespace {

using Args = std::span<const Value>;
using Regex = std::shared_ptr<const RE2>;

// Patterns usually come from literals in the pipeline file (a few per pipeline); a pattern
// built per record could grow the cache without bound, so past kMaxPatterns it starts over.
constexpr size_t kMaxPatterns = 1024;

class RegexCache {
 public:
  Result<Regex> Get(std::string_view fn, std::string_view pattern) {
    {
      std::lock_guard lock(mutex_);
      auto it = regexes_.find(std::string(pattern));
      if (it != regexes_.end()) return it->second;
    }
    RE2::Options options;
    options.set_log_errors(false);
    auto re =
        std::make_shared<const RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
    if (!re->ok()) {
      return FnError(fn, fmt::format("bad pattern '{}': {}", pattern, re->error()));
    }
    std::lock_guard lock(mutex_);
    if (regexes_.size() >= kMaxPatterns) regexes_.clear();
    regexes_.emplace(std::string(pattern), re);
    return Regex(re);
  }

 private:
  std::mutex mutex_;  // guards regexes_
  std::unordered_map<std::string, Regex> regexes_;
};

Result<Regex> Compiled(std::string_view fn, std::string_view pattern) {
  static auto* cache = new RegexCache();  // never destroyed: used from any thread at exit
  // Front cache per thread: the last few patterns, checked without a lock.
  struct Entry {
    std::string pattern;
    Regex re;
  };
  thread_local std::array<Entry, 4> recent;
  thread_local size_t next = 0;
  for (const Entry& e : recent) {
    if (e.re != nullptr && e.pattern == pattern) return e.re;
  }
  DF_ASSIGN_OR_RETURN(Regex re, cache->Get(fn, pattern));
  Entry& slot = recent[next++ % recent.size()];
  slot.pattern.assign(pattern);
  slot.re = re;
  return re;
}

re2::StringPiece Piece(std::string_view s) {
  return re2::StringPiece(s.data(), s.size());
}

Result<Value> RegexpMatch(Args args, const CallContext&) {
  if (AnyNull(args)) return Value::Null();
  DF_ASSIGN_OR_RETURN(std::string_view s, TextArg("regexp_match", "text", args[0]));
  DF_ASSIGN_OR_RETURN(std::string_view p, TextArg("regexp_match", "pattern", args[1]));
  DF_ASSIGN_OR_RETURN(Regex re, Compiled("regexp_match", p));
  return Value::Bool(RE2::PartialMatch(Piece(s), *re));
}

Result<Value> RegexpExtract(Args args, const CallContext&) {
  if (AnyNull(args)) return Value::Null();
  DF_ASSIGN_OR_RETURN(std::string_view s, TextArg("regexp_extract", "text", args[0]));
  DF_ASSIGN_OR_RETURN(std::string_view p, TextArg("regexp_extract", "pattern", args[1]));
  DF_ASSIGN_OR_RETURN(Regex re, Compiled("regexp_extract", p));
  int groups = re->NumberOfCapturingGroups();
  int64_t group = groups > 0 ? 1 : 0;
  if (args.size() > 2) {
    DF_ASSIGN_OR_RETURN(group, IntArg("regexp_extract", "group", args[2]));
    if (group < 0 || group > groups) {
      return FnError("regexp_extract", fmt::format("group {} does not exist: pattern '{}' has {} "
                                                   "capturing group(s) (0 = the whole match)",
                                                   group, p, groups));
    }
  }
  std::array<re2::StringPiece, 10> few;  // groups 0-9 without allocating
  std::vector<re2::StringPiece> many;
  re2::StringPiece* sub = few.data();
  if (group >= static_cast<int64_t>(few.size())) {
    many.resize(static_cast<size_t>(group) + 1);
    sub = many.data();
  }
  if (!re->Match(Piece(s), 0, s.size(), RE2::UNANCHORED, sub, static_cast<int>(group) + 1)) {
    return Value::Null();
  }
  const re2::StringPiece& hit = sub[group];
  if (hit.data() == nullptr) return Value::Null();  // the group took no part in the match
  return Value::String(std::string(hit.data(), hit.size()));
}

Result<Value> RegexpReplace(Args args, const CallContext&) {
  if (AnyNull(args)) return Value::Null();
  DF_ASSIGN_OR_RETURN(std::string_view s, TextArg("regexp_replace", "text", args[0]));
  DF_ASSIGN_OR_RETURN(std::string_view p, TextArg("regexp_replace", "pattern", args[1]));
  DF_ASSIGN_OR_RETURN(std::string_view r, TextArg("regexp_replace", "replacement", args[2]));
  DF_ASSIGN_OR_RETURN(Regex re, Compiled("regexp_replace", p));
  std::string why;
  if (!re->CheckRewriteString(Piece(r), &why)) {
    return FnError("regexp_replace", fmt::format("bad replacement '{}': {}", r, why));
  }
  std::string out(s);
  RE2::GlobalReplace(&out, *re, Piece(r));
  return Value::String(std::move(out));
}

constexpr FunctionDef kRegexFunctions[] = {
    {"regexp_match", 2, 2, RegexpMatch, "regexp_match(text, pattern)"},
    {"regexp_extract", 2, 3, RegexpExtract, "regexp_extract(text, pattern[, group])"},
    {"regexp_replace", 3, 3, RegexpReplace, "regexp_replace(text, pattern, replacement)"},
};

}  // namespace

std::span<const FunctionDef> RegexFunctions() {
  return kRegexFunctions;
}

}  // namespace dataforge::expr::internal
