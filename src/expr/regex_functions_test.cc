#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "expr/testing/call.h"

namespace dataforge::expr {
namespace {

using testing::Call;
using testing::I;
using testing::N;
using testing::S;

TEST(RegexFunctions, Match) {
  EXPECT_EQ(Call("regexp_match", {S("ann@example.com"), S("^[^@]+@[^@]+\\.com$")}), "boolean true");
  EXPECT_EQ(Call("regexp_match", {S("(555) 123-4567"), S("\\d{3}-\\d{4}")}), "boolean true");
  EXPECT_EQ(Call("regexp_match", {S("abc"), S("^b")}), "boolean false");
  EXPECT_EQ(Call("regexp_match", {S(""), S("")}), "boolean true");
  EXPECT_EQ(Call("regexp_match", {S("Éva"), S("^\\p{Lu}")}), "boolean true");  // UTF-8 aware
  EXPECT_EQ(Call("regexp_match", {N(), S("a")}), "null");
  EXPECT_EQ(Call("regexp_match", {S("a"), N()}), "null");
  EXPECT_EQ(Call("regexp_match", {I(5), S("5")}),
            "error: regexp_match: text must be a string, got int 5");
}

TEST(RegexFunctions, BadPatternIsAnErrorWithRe2sMessage) {
  EXPECT_EQ(Call("regexp_match", {S("a"), S("(a")}),
            "error: regexp_match: bad pattern '(a': missing ): (a");
  EXPECT_EQ(Call("regexp_extract", {S("a"), S("a**")}),
            "error: regexp_extract: bad pattern 'a**': bad repetition operator: **");
  EXPECT_EQ(Call("regexp_replace", {S("a"), S("(?<x"), S("")}),
            "error: regexp_replace: bad pattern '(?<x': invalid perl operator: (?<");
  // Back-references are not RE2's (linear time): said at once, not per record.
  EXPECT_EQ(Call("regexp_match", {S("aa"), S("(a)\\1")}),
            "error: regexp_match: bad pattern '(a)\\1': invalid escape sequence: \\1");
}

TEST(RegexFunctions, Extract) {
  EXPECT_EQ(Call("regexp_extract", {S("ann@example.com"), S("@(.+)$")}),
            "string 'example.com'");  // group 1 by default when the pattern has groups
  EXPECT_EQ(Call("regexp_extract", {S("order 66 of 99"), S("\\d+")}), "string '66'");
  EXPECT_EQ(Call("regexp_extract", {S("2024-05-06"), S("(\\d+)-(\\d+)-(\\d+)"), I(2)}),
            "string '05'");
  EXPECT_EQ(Call("regexp_extract", {S("2024-05-06"), S("(\\d+)-(\\d+)"), I(0)}),
            "string '2024-05'");
  EXPECT_EQ(Call("regexp_extract", {S("abc"), S("x(\\d)")}), "null");     // no match
  EXPECT_EQ(Call("regexp_extract", {S("b"), S("(a)|b"), I(1)}), "null");  // group unused
  EXPECT_EQ(Call("regexp_extract", {S("ab"), S("(a)(b)?"), I(2)}), "string 'b'");
  const char* twelve = "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)(l)";
  EXPECT_EQ(Call("regexp_extract", {S("abcdefghijkl"), S(twelve), I(9)}), "string 'i'");
  EXPECT_EQ(Call("regexp_extract", {S("abcdefghijkl"), S(twelve), I(10)}), "string 'j'");
  EXPECT_EQ(Call("regexp_extract", {S("abcdefghijkl"), S(twelve), I(12)}), "string 'l'");
  EXPECT_EQ(Call("regexp_extract", {S("abc"), S("(b)"), I(2)}),
            "error: regexp_extract: group 2 does not exist: pattern '(b)' has 1 capturing "
            "group(s) (0 = the whole match)");
  EXPECT_EQ(Call("regexp_extract", {S("abc"), S("b"), I(-1)}),
            "error: regexp_extract: group -1 does not exist: pattern 'b' has 0 capturing "
            "group(s) (0 = the whole match)");
  EXPECT_EQ(Call("regexp_extract", {S("abc"), S("b"), S("1")}),
            "error: regexp_extract: group must be an int, got string '1'");
}

TEST(RegexFunctions, Replace) {
  EXPECT_EQ(Call("regexp_replace", {S("(555) 123-4567"), S("[^0-9]"), S("")}),
            "string '5551234567'");
  EXPECT_EQ(Call("regexp_replace", {S("John Smith"), S("(\\w+) (\\w+)"), S("\\2, \\1")}),
            "string 'Smith, John'");
  EXPECT_EQ(Call("regexp_replace", {S("aaa"), S("a*"), S("-")}), "string '-'");
  EXPECT_EQ(Call("regexp_replace", {S("abc"), S("x"), S("y")}), "string 'abc'");
  EXPECT_EQ(Call("regexp_replace", {S(""), S("^"), S("start")}), "string 'start'");
  EXPECT_EQ(Call("regexp_replace", {S("abc"), S("(b)"), S("\\2")}),
            "error: regexp_replace: bad replacement '\\2': Rewrite schema requests 2 matches, "
            "but the regexp only has 1 parenthesized subexpressions.");
  EXPECT_EQ(Call("regexp_replace", {S("abc"), S("b"), N()}), "null");
}

TEST(RegexFunctions, ManyPatternsAndThreadsShareTheCache) {
  // More patterns than the per-thread front cache holds, from several threads at once: every
  // answer stays right (the cache is keyed by the whole pattern).
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &wrong] {
      for (int round = 0; round < 50; ++round) {
        for (int k = 0; k < 12; ++k) {
          std::string pattern = "^x{" + std::to_string(k) + "}$";
          std::string text(static_cast<size_t>((k + t + round) % 12), 'x');
          bool expect = text.size() == static_cast<size_t>(k);
          if (Call("regexp_match", {S(text), S(pattern)}) !=
              (expect ? "boolean true" : "boolean false")) {
            ++wrong[t];
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong, std::vector<int>(4, 0));
}

TEST(RegexFunctions, LargeInputIsLinearTime) {
  // A pattern that backtracks exponentially elsewhere; RE2 answers in linear time.
  std::string text(100'000, 'a');
  EXPECT_EQ(Call("regexp_match", {S(text + "!"), S("^(a+)+$")}), "boolean false");
  EXPECT_EQ(Call("regexp_replace", {S(text), S("a"), S("bb")}).size(),
            std::string("string ''").size() + 200'000);
}

}  // namespace
}  // namespace dataforge::expr
