#include "process/aggregate/aggregate_state.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "common/json_writer.h"

namespace dataforge {
namespace {

ValueDef Def(const char* name, AggFn fn, const char* of, ValueKind kind) {
  return {name, fn, of, kind, ""};
}

InputValue Int(int64_t i) {
  InputValue v;
  v.null = false;
  v.i = i;
  return v;
}
InputValue Dbl(double d) {
  InputValue v;
  v.null = false;
  v.d = d;
  return v;
}
InputValue Text(std::string_view s) {
  InputValue v;
  v.null = false;
  v.text = s;
  return v;
}
InputValue Null() {
  return {};
}

std::string Results(const std::vector<ValueDef>& defs, const AggState& s) {
  JsonObjectWriter w;
  AppendResults(defs, s, &w);
  return w.Finish();
}

// count(*), count(age), sum(age), min(age), max(age), avg(age), min(city), max(city),
// sum(score), count_distinct(city).
std::vector<ValueDef> AllDefs() {
  return {Def("n", AggFn::kCount, "", ValueKind::kInteger),
          Def("ages", AggFn::kCount, "age", ValueKind::kInteger),
          Def("age_sum", AggFn::kSum, "age", ValueKind::kInteger),
          Def("age_min", AggFn::kMin, "age", ValueKind::kInteger),
          Def("age_max", AggFn::kMax, "age", ValueKind::kInteger),
          Def("age_avg", AggFn::kAvg, "age", ValueKind::kInteger),
          Def("city_min", AggFn::kMin, "city", ValueKind::kText),
          Def("city_max", AggFn::kMax, "city", ValueKind::kText),
          Def("score_sum", AggFn::kSum, "score", ValueKind::kDouble),
          Def("cities", AggFn::kCountDistinct, "city", ValueKind::kText)};
}

std::vector<InputValue> Row(InputValue age, InputValue city, InputValue score) {
  return {Null(), age, age, age, age, age, city, city, score, city};
}

TEST(AggregateStateTest, EveryFunctionIgnoresNullsAsSqlDoesExceptCountStar) {
  auto defs = AllDefs();
  AggState s = NewState(defs);
  Update(defs, Row(Int(30), Text("Paris"), Dbl(1.5)), 100, &s);
  Update(defs, Row(Null(), Null(), Null()), 100, &s);
  Update(defs, Row(Int(41), Text("Lyon"), Dbl(2.25)), 100, &s);
  Update(defs, Row(Int(-1), Text("Paris"), Null()), 100, &s);
  EXPECT_EQ(Results(defs, s),
            R"({"n":4,"ages":3,"age_sum":70,"age_min":-1,"age_max":41,)"
            R"("age_avg":23.333333333333332,"city_min":"Lyon","city_max":"Paris",)"
            R"("score_sum":3.75,"cities":2})");
}

TEST(AggregateStateTest, OnlyNullsGiveNullButCountsGiveZero) {
  auto defs = AllDefs();
  AggState s = NewState(defs);
  Update(defs, Row(Null(), Null(), Null()), 100, &s);
  EXPECT_EQ(Results(defs, s),
            R"({"n":1,"ages":0,"age_sum":null,"age_min":null,"age_max":null,"age_avg":null,)"
            R"("city_min":null,"city_max":null,"score_sum":null,"cities":0})");
}

TEST(AggregateStateTest, MergeOfPartitionStatesEqualsOneStateOfAllRecords) {
  auto defs = AllDefs();
  AggState a = NewState(defs), b = NewState(defs), all = NewState(defs);
  auto rows = {Row(Int(5), Text("Nice"), Dbl(1)), Row(Int(70), Text("Brest"), Null()),
               Row(Null(), Text("Nice"), Dbl(-3)), Row(Int(12), Null(), Dbl(0.5))};
  int i = 0;
  for (const auto& r : rows) {
    Update(defs, r, 100, i++ % 2 ? &a : &b);
    Update(defs, r, 100, &all);
  }
  AggState merged = NewState(defs);
  MergeInto(defs, a, 100, &merged);
  MergeInto(defs, b, 100, &merged);
  EXPECT_EQ(Results(defs, merged), Results(defs, all));
  EXPECT_EQ(Results(defs, merged),
            R"({"n":4,"ages":3,"age_sum":87,"age_min":5,"age_max":70,"age_avg":29,)"
            R"("city_min":"Brest","city_max":"Nice","score_sum":-1.5,"cities":2})");
}

TEST(AggregateStateTest, EncodeDecodeRoundTripsEveryFunction) {
  auto defs = AllDefs();
  AggState s = NewState(defs);
  Update(defs, Row(Int(-7), Text("Zürich|x"), Dbl(1e300)), 100, &s);
  Update(defs, Row(Int(9), Text("Bern"), Dbl(-0.125)), 100, &s);
  std::string bytes = EncodeState(defs, s);
  AggState back;
  ASSERT_TRUE(DecodeState(defs, bytes, &back).ok());
  EXPECT_EQ(Results(defs, back), Results(defs, s));
  EXPECT_EQ(EncodeState(defs, back), bytes);
}

TEST(AggregateStateTest, DecodeRefusesAnotherValueListAndTruncation) {
  auto defs = AllDefs();
  AggState s = NewState(defs);
  Update(defs, Row(Int(1), Text("A"), Dbl(1)), 100, &s);
  std::string bytes = EncodeState(defs, s);
  AggState back;
  auto fewer = defs;
  fewer.pop_back();
  Status st = DecodeState(fewer, bytes, &back);
  EXPECT_EQ(st.message(),
            "aggregate state: holds 10 values and the pipeline file 9: the values changed since "
            "it was written (rebuild the table with `dataforge reprocess`, or write into a new "
            "table)");
  auto other = defs;
  other[2].fn = AggFn::kAvg;
  EXPECT_EQ(DecodeState(other, bytes, &back).message(),
            "aggregate state: value 3 ('age_sum') was written for another fn");
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_FALSE(DecodeState(defs, bytes.substr(0, cut), &back).ok()) << cut;
  }
  EXPECT_EQ(DecodeState(defs, bytes + "x", &back).message(),
            "aggregate state: 1 bytes after the last value");
  std::string v2 = bytes;
  v2[0] = 2;
  EXPECT_EQ(DecodeState(defs, v2, &back).message(), "aggregate state: unknown version 2");
}

std::string Key(int i) {
  return "user-" + std::to_string(i);
}

TEST(DistinctSetTest, ExactUpToTheLimitThenASketch) {
  DistinctSet d;
  for (int i = 0; i < 1000; ++i) d.Add(HashValue(Key(i % 500)), 500);
  EXPECT_TRUE(d.exact());
  EXPECT_EQ(d.Count(), 500u);
  d.Add(HashValue(Key(500)), 500);  // the 501st distinct value
  EXPECT_FALSE(d.exact());
  EXPECT_NEAR(static_cast<double>(d.Count()), 501, 501 * 0.025);
}

TEST(DistinctSetTest, MergesExactExactExactSketchAndSketchSketch) {
  const uint64_t limit = 1000;
  DistinctSet a, b;
  for (int i = 0; i < 600; ++i) a.Add(HashValue(Key(i)), limit);
  for (int i = 300; i < 900; ++i) b.Add(HashValue(Key(i)), limit);
  DistinctSet ab;
  ab.Merge(a, limit);
  ab.Merge(b, limit);
  EXPECT_TRUE(ab.exact());
  EXPECT_EQ(ab.Count(), 900u);  // exact + exact within the limit: exact
  DistinctSet c;
  for (int i = 600; i < 2000; ++i) c.Add(HashValue(Key(i)), limit);  // 1400 > limit: sketch
  EXPECT_FALSE(c.exact());
  DistinctSet exact_sketch = DistinctSet();
  exact_sketch.Merge(a, limit);
  exact_sketch.Merge(c, limit);  // exact + sketch: sketch of 0..1999
  EXPECT_FALSE(exact_sketch.exact());
  EXPECT_NEAR(static_cast<double>(exact_sketch.Count()), 2000, 2000 * 0.025);
  DistinctSet d;
  for (int i = 1500; i < 4000; ++i) d.Add(HashValue(Key(i)), limit);
  DistinctSet sketch_sketch;
  sketch_sketch.Merge(c, limit);
  sketch_sketch.Merge(d, limit);  // 600..3999
  EXPECT_NEAR(static_cast<double>(sketch_sketch.Count()), 3400, 3400 * 0.025);
  DistinctSet exact_past_limit;  // exact + exact beyond the limit: sketch
  DistinctSet e;
  for (int i = 900; i < 1500; ++i) e.Add(HashValue(Key(i)), limit);
  exact_past_limit.Merge(ab, limit);
  exact_past_limit.Merge(e, limit);
  EXPECT_FALSE(exact_past_limit.exact());
  EXPECT_NEAR(static_cast<double>(exact_past_limit.Count()), 1500, 1500 * 0.025);
}

TEST(DistinctSetTest, ManyAddsInAnyOrderGiveOneExactSetAndOneEncoding) {
  const uint64_t limit = 1'000'000;
  DistinctSet up, down;
  for (int i = 0; i < 50'000; ++i) {
    up.Add(HashValue(Key(i % 20'000)), limit);  // each value 2-3 times, folds in between
    down.Add(HashValue(Key(19'999 - i % 20'000)), limit);
  }
  EXPECT_TRUE(up.exact());
  EXPECT_EQ(up.Count(), 20'000u);
  EXPECT_EQ(down.Count(), 20'000u);
  std::string a, b;
  up.Encode(&a);
  down.Encode(&b);
  EXPECT_EQ(a.size(), 1 + 3 + 8 * 20'000u);  // mode, varint 20,000, the hashes
  EXPECT_EQ(a, b);
  DistinctSet back;
  std::string_view in = a;
  ASSERT_TRUE(back.Decode(&in));
  EXPECT_TRUE(in.empty());
  EXPECT_EQ(back.Count(), 20'000u);
  back.Add(HashValue(Key(7)), limit);  // already there
  back.Add(HashValue(Key(20'000)), limit);
  EXPECT_EQ(back.Count(), 20'001u);
}

TEST(DistinctSetTest, ExactEncodingIsTheCountThenAscendingLittleEndianHashes) {
  DistinctSet d;
  d.Add(0x0102030405060708, 100);
  d.Add(0xf1, 100);
  std::string bytes;
  bytes.push_back('x');  // Encode appends
  d.Encode(&bytes);
  EXPECT_EQ(bytes, std::string("x\x00\x02"
                               "\xf1\x00\x00\x00\x00\x00\x00\x00"
                               "\x08\x07\x06\x05\x04\x03\x02\x01",
                               19));
}

TEST(DistinctSetTest, DecodeRefusesHashesOutOfOrderOrRepeated) {
  DistinctSet d;
  d.Add(1, 100);
  d.Add(2, 100);
  std::string bytes;
  d.Encode(&bytes);
  ASSERT_EQ(bytes.size(), 1 + 1 + 16u);
  std::string swapped = bytes.substr(0, 2) + bytes.substr(10, 8) + bytes.substr(2, 8);
  std::string repeated = bytes.substr(0, 2) + bytes.substr(2, 8) + bytes.substr(2, 8);
  for (const std::string& bad : {swapped, repeated}) {
    DistinctSet back;
    std::string_view in = bad;
    EXPECT_FALSE(back.Decode(&in));
  }
}

TEST(HyperLogLogTest, OneHundredThousandDistinctValuesWithinThreeStandardErrors) {
  HyperLogLog h;
  for (int i = 0; i < 100'000; ++i) {
    h.AddHash(HashValue(Key(i)));
    h.AddHash(HashValue(Key(i)));  // repeats do not count
  }
  double estimate = static_cast<double>(h.Estimate());
  double error = std::abs(estimate - 100'000) / 100'000;
  // Documented: standard error 1.04 / sqrt(16384) = 0.81%; 3 standard errors = 2.44%.
  EXPECT_LT(error, 0.0244) << estimate;
  HyperLogLog back;
  std::string bytes(h.registers().begin(), h.registers().end());
  ASSERT_TRUE(HyperLogLog::FromBytes(bytes, &back));
  EXPECT_EQ(back.Estimate(), h.Estimate());
  EXPECT_FALSE(HyperLogLog::FromBytes(bytes.substr(1), &back));
}

TEST(HyperLogLogTest, SmallCardinalitiesAreNearExact) {
  HyperLogLog h;
  EXPECT_EQ(h.Estimate(), 0u);
  for (int i = 0; i < 100; ++i) h.AddHash(HashValue(Key(i)));
  EXPECT_NEAR(static_cast<double>(h.Estimate()), 100, 1);
}

TEST(HashValueTest, IsStableAcrossBuilds) {
  // Persisted in state rows: these values must never change.
  EXPECT_EQ(HashValue(""), 0xf52a15e9a9b5e89bull);
  EXPECT_EQ(HashValue("France"), HashValue("France"));
  EXPECT_NE(HashValue("France"), HashValue("france"));
}

}  // namespace
}  // namespace dataforge
