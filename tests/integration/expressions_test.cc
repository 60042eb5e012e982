// process.where and `expr` columns through the real binary (docs/expressions.md), over a real
// randomuser capture (../shared/fixtures/randomuser, 111 records). The expected counts were
// computed independently in Python over the same file:
//   kept   = nat not in (DK, NO) and dob.age >= 30              -> 82 (29 filtered)
//   dead   = kept with dob.age % 10 == 0 (100 / 0 in per_decade) ->  4
//   stored = the other kept                                      -> 78
#include <gtest/gtest.h>

#include "integration/cli_helpers.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

constexpr char kPipeline[] = R"yaml(process:
  table: dataforge.adults
  where: "nat NOT IN ('DK', 'NO') AND dob.age >= 30"
  columns:
    - {name: id, type: uuid, path: $key, required: true}
    - {name: full_name, type: text, expr: "name.first || ' ' || upper(name.last)"
}
    - {name: decade, type: int, expr: "dob.age / 10 * 10"}
    - {name: per_decade, type: int, expr: "100 / (dob.age % 10)"}
    - {name: band, expr: "CASE WHEN dob.age < 40 THEN 'young' ELSE 'older' END"}
    - {name: lat, type: double, expr: "location.coordinates.latitude::double"}
    - {name: born, type: timestamp, expr: "dob.date"}
    - {name: email, path: email}
)yaml";

std::string Fixture() {
  return std::string("file://") + DATAFORGE_FIXTURES_DIR + "/v1.4-randomuser-me-project.json";
}

TEST(ExpressionsTest, WhereFiltersAndExprColumnsComputeOverACapture) {
  TempDir dir;
  WriteFile(dir.Sub("p.yaml"), kPipeline);
  auto r = RunDataforge({"run", "--config", dir.Sub("p.yaml"), "--source-url", Fixture(),
                         "--data-dir", dir.Sub("data")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The run's summary counts the filtered records (the store persists them) and balances.
  const std::string filtered_line = "  filtered     " + std::string(10, ' ') + "29 " +
                                    std::string(12, ' ') + "29   (process.where dropped them)\n";
  EXPECT_NE(r.out.find(filtered_line), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("stored + dead-lettered + lost + filtered == fetched: yes"),
            std::string::npos)
      << r.out;
  StatusJson s = Status(dir.Sub("data"), {"--config", dir.Sub("p.yaml")});
  EXPECT_EQ(s.fetched, 111);
  EXPECT_EQ(s.stored, 78);
  EXPECT_EQ(s.dead_lettered, 4);
  EXPECT_EQ(s.store_rows, 78);
  // The 29 others are filtered: neither stored nor dead-lettered nor lost.
  EXPECT_EQ(ScanIds(dir.Sub("data"), {"--config", dir.Sub("p.yaml")}).size(), 78u);

  auto get =
      RunDataforge({"table", "get", "dataforge.adults", "9a723211-0e87-41f1-b1e4-ed1a15226b80",
                    "--config", dir.Sub("p.yaml"), "--data-dir", dir.Sub("data")});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(JsonField(get.out, "full_name"), "Leon NICHOLS");
  EXPECT_EQ(JsonField(get.out, "band"), "young");
  EXPECT_EQ(JsonField(get.out, "born"), "1992-03-18T17:36:00.197Z");
  EXPECT_EQ(JsonField(get.out, "email"), "leon.nichols@example.com");
  EXPECT_NE(get.out.find("\"decade\":30,"), std::string::npos) << get.out;
  EXPECT_NE(get.out.find("\"per_decade\":100,"), std::string::npos) << get.out;
  EXPECT_NE(get.out.find("\"lat\":-86.3514,"), std::string::npos) << get.out;

  // Filtered (DK): not stored.
  auto dk =
      RunDataforge({"table", "get", "dataforge.adults", "a664cf2f-cc51-49a5-a1e7-e0c3cceaca04",
                    "--config", dir.Sub("p.yaml"), "--data-dir", dir.Sub("data")});
  EXPECT_NE(dk.exit_code, 0);

  // Each dead letter names the column, the expression and the value.
  auto letters = DeadLetters(dir.Sub("data"), {"--config", dir.Sub("p.yaml")});
  ASSERT_EQ(letters.size(), 4u);
  for (const auto& l : letters) {
    EXPECT_EQ(JsonField(l, "reason"),
              "column \"per_decade\": expression \"100 / (dob.age % 10)\": division by zero: "
              "100 / 0")
        << l;
  }
}

TEST(ExpressionsTest, BadExpressionIsExitTwoAtCheckAndRun) {
  TempDir dir;
  WriteFile(dir.Sub("p.yaml"),
            "process:\n"
            "  where: \"nat <> 'XX' AND lowr(email) LIKE '%@example.com'\"\n");
  const std::string expected =
      "dataforge: " + dir.Sub("p.yaml") +
      ":2:27: unknown function 'lowr'; did you mean lower? (docs/expressions.md lists the "
      "functions)\n";
  auto check = RunDataforge({"config", "check", dir.Sub("p.yaml")});
  EXPECT_EQ(check.exit_code, 2);
  EXPECT_EQ(check.err, expected);
  auto run = RunDataforge({"run", "--config", dir.Sub("p.yaml"), "--data-dir", dir.Sub("data")});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.err, expected);

  WriteFile(dir.Sub("col.yaml"),
            "process:\n"
            "  columns:\n"
            "    - {name: id, type: uuid, path: $key, required: true}\n"
            "    - {name: n, type: int, expr: \"dob.age * (2 +\"}\n");
  auto col = RunDataforge({"config", "check", dir.Sub("col.yaml")});
  EXPECT_EQ(col.exit_code, 2);
  EXPECT_EQ(col.err, "dataforge: " + dir.Sub("col.yaml") +
                         ":4:49: expected a value (a number, a 'string', a field, a function "
                         "call or '(') but found the end of the expression\n");
}

}  // namespace
}  // namespace dataforge::testing
