#include "process/aggregate/window.h"

#include <gtest/gtest.h>

#include "common/timestamp.h"

namespace dataforge {
namespace {

int64_t T(const char* iso) {
  return *ParseTimestampMillis(iso);
}

WindowSpec Tumbling(int64_t size_ms) {
  WindowSpec w;
  w.type = "tumbling";
  w.size_ms = size_ms;
  return w;
}

WindowSpec Hopping(int64_t size_ms, int64_t advance_ms) {
  WindowSpec w;
  w.type = "hopping";
  w.size_ms = size_ms;
  w.advance_ms = advance_ms;
  return w;
}

constexpr int64_t kWindowMinute = 60'000, kWindowHour = 60 * kWindowMinute;

TEST(WindowTest, TumblingBoundariesBelongToTheWindowTheyStart) {
  std::vector<Window> w;
  AssignWindows(Tumbling(kWindowHour), T("2024-01-01T10:00:00Z"), &w);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0], (Window{T("2024-01-01T10:00:00Z"), T("2024-01-01T11:00:00Z")}));
  AssignWindows(Tumbling(kWindowHour), T("2024-01-01T10:59:59.999Z"), &w);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].start_ms, T("2024-01-01T10:00:00Z"));
  AssignWindows(Tumbling(kWindowHour), T("2024-01-01T11:00:00Z"), &w);
  EXPECT_EQ(w[0].start_ms, T("2024-01-01T11:00:00Z"));
}

TEST(WindowTest, TumblingBeforeTheEpochFloorsTowardThePast) {
  std::vector<Window> w;
  AssignWindows(Tumbling(kWindowHour), T("1969-12-31T23:30:00Z"), &w);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0], (Window{-kWindowHour, 0}));
  AssignWindows(Tumbling(kWindowHour), -1, &w);
  EXPECT_EQ(w[0], (Window{-kWindowHour, 0}));
  AssignWindows(Tumbling(kWindowHour), -kWindowHour, &w);
  EXPECT_EQ(w[0], (Window{-kWindowHour, 0}));
}

TEST(WindowTest, TumblingDaysAreUtcDays) {
  std::vector<Window> w;
  AssignWindows(Tumbling(24 * kWindowHour), T("2024-03-05T23:59:59Z"), &w);
  EXPECT_EQ(w[0], (Window{T("2024-03-05T00:00:00Z"), T("2024-03-06T00:00:00Z")}));
}

TEST(WindowTest, HoppingRecordIsInSizeOverAdvanceWindowsOldestFirst) {
  std::vector<Window> w;
  AssignWindows(Hopping(kWindowHour, 15 * kWindowMinute), T("2024-01-01T10:20:00Z"), &w);
  ASSERT_EQ(w.size(), 4u);
  EXPECT_EQ(w[0], (Window{T("2024-01-01T09:30:00Z"), T("2024-01-01T10:30:00Z")}));
  EXPECT_EQ(w[1], (Window{T("2024-01-01T09:45:00Z"), T("2024-01-01T10:45:00Z")}));
  EXPECT_EQ(w[2], (Window{T("2024-01-01T10:00:00Z"), T("2024-01-01T11:00:00Z")}));
  EXPECT_EQ(w[3], (Window{T("2024-01-01T10:15:00Z"), T("2024-01-01T11:15:00Z")}));
}

TEST(WindowTest, HoppingOnABoundaryStartsOneWindowAndLeavesAnother) {
  std::vector<Window> w;
  // 10:30 starts [10:30, 11:30) and is no longer in [09:30, 10:30).
  AssignWindows(Hopping(kWindowHour, 15 * kWindowMinute), T("2024-01-01T10:30:00Z"), &w);
  ASSERT_EQ(w.size(), 4u);
  EXPECT_EQ(w.front().start_ms, T("2024-01-01T09:45:00Z"));
  EXPECT_EQ(w.back().start_ms, T("2024-01-01T10:30:00Z"));
}

TEST(WindowTest, HoppingWithAnAdvanceThatDoesNotDivideTheSize) {
  std::vector<Window> w;
  // size 10, advance 4: windows start at 0, 4, 8, ...; t = 9 is in [0,10), [4,14), [8,18).
  AssignWindows(Hopping(10, 4), 9, &w);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0], (Window{0, 10}));
  EXPECT_EQ(w[2], (Window{8, 18}));
  AssignWindows(Hopping(10, 4), 10, &w);  // [0,10) ends before 10
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0], (Window{4, 14}));
}

std::vector<ValueDef> CountDef() {
  return {ValueDef{"n", AggFn::kCount, "", ValueKind::kInteger, "bigint"}};
}

TEST(SessionListTest, RecordsWithinTheGapExtendOneSession) {
  SessionList list;
  auto defs = CountDef();
  std::vector<InputValue> in(1);
  std::vector<Window> replaced;
  for (int64_t t : {int64_t{0}, 10 * kWindowMinute, 35 * kWindowMinute}) {
    Session* s = list.Add(t, 30 * kWindowMinute, defs, 100, &replaced);
    Update(defs, in, 100, &s->state);
  }
  ASSERT_EQ(list.sessions().size(), 1u);
  EXPECT_EQ(list.sessions()[0].window, (Window{0, 65 * kWindowMinute}));
  EXPECT_EQ(list.sessions()[0].state.values[0].count, 3);
  EXPECT_TRUE(replaced.empty());  // the start never moved
  // Exactly at the end: a new session (a session holds start <= t < end).
  list.Add(65 * kWindowMinute, 30 * kWindowMinute, defs, 100, &replaced);
  EXPECT_EQ(list.sessions().size(), 2u);
}

TEST(SessionListTest, ARecordBridgingTwoSessionsMergesThem) {
  SessionList list;
  auto defs = CountDef();
  std::vector<InputValue> in(1);
  std::vector<Window> replaced;
  auto add = [&](int64_t t) {
    Session* s = list.Add(t * kWindowMinute, 30 * kWindowMinute, defs, 100, &replaced);
    Update(defs, in, 100, &s->state);
  };
  add(0);   // [0, 30)
  add(20);  // [0, 50)
  add(70);  // [70, 100): 70 >= 50, a session of its own
  add(75);  // [70, 105)
  ASSERT_EQ(list.sessions().size(), 2u);
  add(45);  // [45, 75) overlaps both: one session [0, 105) of 5 records
  ASSERT_EQ(list.sessions().size(), 1u);
  EXPECT_EQ(list.sessions()[0].window, (Window{0, 105 * kWindowMinute}));
  EXPECT_EQ(list.sessions()[0].state.values[0].count, 5);
  ASSERT_EQ(replaced.size(), 1u);
  EXPECT_EQ(replaced[0], (Window{70 * kWindowMinute, 105 * kWindowMinute}));
}

TEST(SessionListTest, AnEarlierRecordMovesTheStartAndReportsTheOldWindow) {
  SessionList list;
  auto defs = CountDef();
  std::vector<Window> replaced;
  list.Add(60 * kWindowMinute, 30 * kWindowMinute, defs, 100, &replaced);
  list.Add(40 * kWindowMinute, 30 * kWindowMinute, defs, 100,
           &replaced);  // [40,70) overlaps [60,90)
  ASSERT_EQ(list.sessions().size(), 1u);
  EXPECT_EQ(list.sessions()[0].window, (Window{40 * kWindowMinute, 90 * kWindowMinute}));
  ASSERT_EQ(replaced.size(), 1u);
  EXPECT_EQ(replaced[0], (Window{60 * kWindowMinute, 90 * kWindowMinute}));
  EXPECT_EQ(list.DropEndingBefore(90 * kWindowMinute), 0u);
  EXPECT_EQ(list.DropEndingBefore(90 * kWindowMinute + 1), 1u);
  EXPECT_TRUE(list.sessions().empty());
}

TEST(SessionListTest, EncodedListsDecodeAndTellTheirLastEndUndecoded) {
  SessionList list;
  auto defs = CountDef();
  std::vector<InputValue> in(1);
  std::vector<Window> replaced;
  for (int64_t t : {-20, 60, 70}) {  // [-20, 10) before 1970, [60, 100)
    Session* s = list.Add(t * kWindowMinute, 30 * kWindowMinute, defs, 100, &replaced);
    Update(defs, in, 100, &s->state);
  }
  std::string bytes = EncodeSessions(defs, list);
  SessionList back;
  ASSERT_TRUE(DecodeSessions(defs, bytes, &back).ok());
  ASSERT_EQ(back.sessions().size(), 2u);
  EXPECT_EQ(back.sessions()[0].window, (Window{-20 * kWindowMinute, 10 * kWindowMinute}));
  EXPECT_EQ(back.sessions()[1].window, (Window{60 * kWindowMinute, 100 * kWindowMinute}));
  EXPECT_EQ(back.sessions()[1].state.values[0].count, 2);
  auto last = LastSessionEnd(bytes);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, std::optional<int64_t>(100 * kWindowMinute));
  auto none = LastSessionEnd(EncodeSessions(defs, SessionList{}));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, std::nullopt);
  EXPECT_EQ(LastSessionEnd(bytes.substr(0, bytes.size() - 1)).status().message(),
            "session list: truncated");
  EXPECT_EQ(LastSessionEnd("").status().message(), "session list: unknown version");
}

}  // namespace
}  // namespace dataforge
