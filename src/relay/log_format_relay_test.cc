// The relay with log.format confluent-json (outbox_relay.h): values in Confluent's wire format
// with the subject's schema id; rows the schema refuses become staging dead letters committed
// with the cursor, once, across a crash between the append and the cursor commit. Real SQLite
// staging and schema registry, real embedded log.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "registry/schema_registry.h"
#include "registry/wire_format.h"
#include "relay/outbox_relay.h"

namespace dataforge {
namespace {

constexpr char kSchema[] =
    R"({"type":"object","properties":{"i":{"type":"integer"}},"required":["i"]})";

// Time stands still: the cursor is committed only by FlushCursor().
class StillClock : public Clock {
 public:
  int64_t NowMicros() override { return 1'000'000; }
  int64_t MonotonicMicros() override { return 1; }
  bool SleepFor(int64_t micros, std::stop_token stop) override {
    return Clock::Real()->SleepFor(micros, stop);
  }
};

class RelayLogFormatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/df_relay_fmt_XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::string url = "sqlite://" + dir_ + "/s.db";
    staging_ = std::move(OpenStaging(url, OpenMode::kReadWrite, true)).value();
    auto registry = registry::SchemaRegistry::Open(url, OpenMode::kReadWrite);
    ASSERT_TRUE(registry.ok()) << registry.status().ToString();
    registry_ = std::move(registry).value();
    auto id = registry_->Register("t-value", {registry::SchemaType::kJson, kSchema, {}});
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    id_ = *id;
    log_ = std::move(OpenLog("file://" + dir_ + "/log", OpenMode::kReadWrite, {})).value();
    ASSERT_TRUE(log_->CreateTopic("t", 3).ok());
    // Rows 4 and 8 (i = 3 and 7) do not match: "i" is a string.
    SourceBatch b;
    for (int i = 0; i < 10; ++i) {
      std::string v =
          i == 3 || i == 7 ? fmt::format("{{\"i\":\"{}\"}}", i) : fmt::format("{{\"i\":{}}}", i);
      b.records.push_back({fmt::format("key{}", i), v, 100 + i});
    }
    b.position = "p";
    ASSERT_TRUE(staging_->Commit("src", b).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  RelayEncoding Encoding() {
    auto parsed = registry_->ParsedById(id_);
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    return {id_, "t-value", (*parsed)->NewCodec()};
  }

  std::vector<ConsumedRecord> LogRecords() {
    std::vector<ConsumedRecord> all;
    for (int p = 0; p < 3; ++p) EXPECT_TRUE(log_->Read("t", p, 0, 100, &all).ok());
    return all;
  }

  std::string dir_;
  std::unique_ptr<Staging> staging_;
  std::unique_ptr<registry::SchemaRegistry> registry_;
  int64_t id_ = 0;
  std::unique_ptr<Log> log_;
  RelayProbe probe_;
  StillClock still_;
  static constexpr int64_t kNever = 3'600'000'000;
};

TEST_F(RelayLogFormatTest, EncodesInWireFormatAndDeadLettersRefusedRowsOnceAcrossACrash) {
  {
    OutboxRelay relay(staging_.get(), log_.get(), "t", 3, 100, &probe_, &still_, kNever);
    relay.SetEncoding(Encoding());
    ASSERT_TRUE(relay.Recover().ok());
    EXPECT_EQ(*relay.RunOnce(), 10u);
    // "Crash": appended, the cursor (and with it the dead letters) never committed.
  }
  EXPECT_EQ(LogRecords().size(), 8u);
  auto c = staging_->Counters();
  EXPECT_EQ(c->relay_cursor, 0u);
  EXPECT_EQ(c->dead_lettered, 0u);
  {
    OutboxRelay relay(staging_.get(), log_.get(), "t", 3, 100, &probe_, &still_, kNever);
    relay.SetEncoding(Encoding());
    ASSERT_TRUE(relay.Recover().ok());
    EXPECT_EQ(*relay.RunOnce(), 10u);  // read again: the 8 are in the log, the 2 refused again
    ASSERT_TRUE(relay.FlushCursor().ok());
  }
  {
    OutboxRelay relay(staging_.get(), log_.get(), "t", 3, 100, &probe_, &still_, kNever);
    relay.SetEncoding(Encoding());
    ASSERT_TRUE(relay.Recover().ok());
    // A restart re-reads from the lowest partition's last seq: those rows are in the log, or
    // refused ones whose letters are committed; nothing is appended or dead-lettered again.
    ASSERT_TRUE(relay.RunOnce().ok());
    ASSERT_TRUE(relay.FlushCursor().ok());
  }
  c = staging_->Counters();
  EXPECT_EQ(c->relay_cursor, 10u);
  EXPECT_EQ(c->streamed, 8u);
  EXPECT_EQ(c->dead_lettered, 2u);  // once, not once per attempt
  EXPECT_EQ(probe_.dead_lettered, 2u);

  auto records = LogRecords();
  ASSERT_EQ(records.size(), 8u);
  std::set<std::string> keys;
  for (const auto& r : records) {
    keys.insert(r.record.key);
    std::string i = r.record.key.substr(3);
    std::string expected;
    registry::AppendWireHeader(id_, &expected);
    expected += fmt::format("{{\"i\":{}}}", i);
    EXPECT_EQ(r.record.value, expected) << r.record.key;
  }
  EXPECT_EQ(keys.count("key3") + keys.count("key7"), 0u);

  std::vector<StoredDeadLetter> letters;
  ASSERT_TRUE(staging_->ListDeadLetters(0, 10, &letters).ok());
  ASSERT_EQ(letters.size(), 2u);
  EXPECT_EQ(letters[0].letter.stage, "relay");
  EXPECT_EQ(letters[0].letter.location, "outbox seq 4");
  EXPECT_EQ(letters[0].letter.payload, "{\"i\":\"3\"}");
  EXPECT_EQ(letters[0].letter.reason,
            fmt::format("log.format: the record does not match schema id {} of subject 't-value': "
                        "record does not match the JSON Schema at '/i' (type): expected integer, "
                        "got string \"3\"",
                        id_));
  EXPECT_EQ(letters[1].letter.location, "outbox seq 8");
  EXPECT_EQ(letters[1].letter.payload, "{\"i\":\"7\"}");
}

}  // namespace
}  // namespace dataforge
