// process.where and `expr` columns through the processor: filtered records are counted in the
// probe and in the store's counters (the fourth outcome), dead letters name the expression.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include <fmt/format.h>

#include "config/pipeline_file.h"
#include "process/processor.h"

namespace dataforge {
namespace {

TEST(ProcessorExprTest, FilteredStoredAndDeadLetteredAddUpInTheStore) {
  char tmpl[] = "/tmp/df_proc_expr_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  auto parsed = ParsePipelineConfig(R"yaml(process:
  where: "nat <> 'XX' AND age >= 18"
  columns:
    - {name: id, type: uuid, path: $key, required: true}
    - {name: label, type: text, expr: "upper(nat) || '-' || age"}
    - {name: per_ten, type: int, expr: "100 / (age % 10)"}
)yaml",
                                    "p.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const ProcessConfig& process = parsed->process;
  auto log = OpenLog("file://" + dir + "/log", OpenMode::kReadWrite, {});
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->CreateTopic("t", 1).ok());
  auto rec = [](int i, std::string_view nat, int age) {
    return LogRecord{fmt::format("00000000-0000-4000-8000-{:012}", i),
                     fmt::format(R"({{"nat":"{}","age":{}}})", nat, age),
                     1,
                     {}};
  };
  std::vector<LogRecord> records = {
      rec(1, "fr", 34),                                        // stored: FR-34, 25
      rec(2, "XX", 40),                                        // filtered
      rec(3, "de", 17),                                        // filtered
      rec(4, "de", 50),                                        // dead letter: 100 / 0
      rec(5, "no", 21),                                        // stored: NO-21, 100
      {"00000000-0000-4000-8000-000000000006", "{}", 1, {}}};  // NULL: filtered
  ASSERT_TRUE((*log)->Append("t", 0, records).ok());
  auto mapper = Mapper::Create(process);
  ASSERT_TRUE(mapper.ok()) << mapper.status().ToString();
  ProcessorProbe probe;
  {
    auto store = OpenStore("rocksdb://" + dir + "/store", OpenMode::kReadWrite, {});
    ASSERT_TRUE(store.ok());
    Processor p(log->get(), store->get(), &*mapper, process, "t", 100, Clock::Real(), &probe);
    ASSERT_TRUE(p.Start().ok());
    EXPECT_EQ(*p.RunOnce(), 6u);
    EXPECT_EQ(probe.stored, 2u);
    EXPECT_EQ(probe.dead_lettered, 1u);
    EXPECT_EQ(probe.filtered, 3u);
    auto c = (*store)->Counters();
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->stored, 2u);
    EXPECT_EQ(c->dead_lettered, 1u);
    EXPECT_EQ(c->filtered, 3u);
    EXPECT_EQ((*store)->Count(process.table).value(), 2u);
    auto row = (*store)->Get(process.table, "00000000-0000-4000-8000-000000000001");
    ASSERT_TRUE(row.ok()) << row.status().ToString();
    EXPECT_EQ(*row,
              R"({"id":"00000000-0000-4000-8000-000000000001","label":"FR-34","per_ten":25})");
    std::vector<StoredDeadLetter> dl;
    ASSERT_TRUE((*store)->ListDeadLetters(0, 10, &dl).ok());
    ASSERT_EQ(dl.size(), 1u);
    EXPECT_EQ(dl[0].letter.location, "t/0@3");
    EXPECT_EQ(dl[0].letter.reason,
              "column \"per_ten\": expression \"100 / (age % 10)\": division by zero: 100 / 0");
  }
  // Resumed: nothing is processed or counted again.
  auto store = OpenStore("rocksdb://" + dir + "/store", OpenMode::kReadWrite, {});
  ASSERT_TRUE(store.ok());
  Processor p(log->get(), store->get(), &*mapper, process, "t", 100, Clock::Real(), &probe);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(*p.RunOnce(), 0u);
  EXPECT_EQ((*store)->Counters()->filtered, 3u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dataforge
