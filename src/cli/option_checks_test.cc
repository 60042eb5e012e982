#include "cli/option_checks.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dataforge {
namespace {

// Parses `args` (after the program name) and returns CLI11's error text, "" when it parsed.
std::string ParseError(CLI::App& app, std::vector<std::string> args) {
  std::vector<const char*> argv = {"dataforge"};
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), const_cast<char**>(argv.data()));
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  return "";
}

// Issue 22 §5: CLI11's own "Could not convert: --max-records = abc" did not say what is valid.
TEST(OptionChecksTest, NumericOptionsSayTheExpectedForm) {
  CLI::App app;
  uint64_t max_records = 0;
  int64_t run_id = 0;
  double ratio = 0;
  app.add_option("--max-records", max_records);
  app.add_option("--ratio", ratio);
  app.add_option("RUN", run_id);
  ExplainNumericOptions(app);
  EXPECT_EQ(ParseError(app, {"--max-records", "abc"}),
            "--max-records: 'abc' is not a whole number >= 0");
  EXPECT_EQ(ParseError(app, {"--max-records", "-1"}),
            "--max-records: '-1' is not a whole number >= 0");
  EXPECT_EQ(ParseError(app, {"--max-records", "1e3"}),
            "--max-records: '1e3' is not a whole number >= 0");
  EXPECT_EQ(ParseError(app, {"--ratio", "half"}), "--ratio: 'half' is not a number");
  EXPECT_EQ(ParseError(app, {"x7"}), "RUN: 'x7' is not a whole number");
  EXPECT_EQ(ParseError(app, {"--max-records", "250", "--ratio", "0.5", "-3"}), "");
  EXPECT_EQ(max_records, 250u);
  EXPECT_EQ(ratio, 0.5);
  EXPECT_EQ(run_id, -3);
}

TEST(OptionChecksTest, RangesAndChoicesAreNamed) {
  CLI::App app;
  int port = 0;
  std::string role = "all";
  app.add_option("--port", port)->check(WholeNumber(0, 65535));
  app.add_option("--role", role)->check(OneOf({"all", "ingest"}));
  ExplainNumericOptions(app);  // leaves options that have their own check alone
  EXPECT_EQ(ParseError(app, {"--port", "70000"}),
            "--port: '70000' is not a whole number from 0 to 65535");
  EXPECT_EQ(ParseError(app, {"--port", "99999999999999999999"}),
            "--port: '99999999999999999999' is not a whole number from 0 to 65535");
  EXPECT_EQ(ParseError(app, {"--role", "both"}), "--role: 'both' is not one of all, ingest");
  EXPECT_EQ(ParseError(app, {"--port", "65535", "--role", "ingest"}), "");
  EXPECT_EQ(port, 65535);
  EXPECT_EQ(role, "ingest");
  // --help names them too.
  std::string help = app.help();
  EXPECT_NE(help.find("INT:from 0 to 65535"), std::string::npos) << help;
  EXPECT_NE(help.find("TEXT:{all, ingest}"), std::string::npos) << help;
}

}  // namespace
}  // namespace dataforge
