#include "store/cassandra/row_codec.h"

#include <gtest/gtest.h>

namespace dataforge {
namespace {

TableShape Users() {
  TableSchema s{
      "ks.users", "id", {{"id", "uuid"}, {"name", "text"}, {"age", "int"}, {"dob", "timestamp"}}};
  auto shape = ShapeOf(s, "ks.users");
  EXPECT_TRUE(shape.ok()) << shape.status().ToString();
  return *shape;
}

constexpr const char* kId = "0f8fad5b-d9cb-469f-a165-70867728950e";

TEST(RowCodecTest, BindsColumnsInShapeOrderWithUnsetForAbsentAndNullForJsonNull) {
  auto v = BindRow(Users(), kId, R"({"name":"Ann","age":null,"extra":1})");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_EQ(v->size(), 4u);
  ASSERT_TRUE((*v)[0].bytes.has_value());
  EXPECT_EQ((*v)[0].bytes->size(), 16u);  // the key, from the RowWrite key
  EXPECT_EQ((*v)[1].bytes, std::optional<std::string>("Ann"));
  EXPECT_TRUE((*v)[2].is_null());  // explicit null
  EXPECT_TRUE((*v)[3].unset);      // absent: UNSET, no tombstone
}

TEST(RowCodecTest, BadValueNamesTableKeyAndColumn) {
  auto v = BindRow(Users(), kId, R"({"age":"old"})");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(v.status().message().rfind(
                std::string("cassandra table ks.users: row '") + kId + "' column age: ", 0),
            0u)
      << v.status().message();
}

TEST(RowCodecTest, NotAnObject) {
  auto v = BindRow(Users(), kId, "[1,2]");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message().rfind(
                std::string("cassandra table ks.users: row '") + kId + "' is not a JSON object", 0),
            0u)
      << v.status().message();
}

TEST(RowCodecTest, RowToJsonRoundTrip) {
  TableShape shape = Users();
  auto v = BindRow(shape, kId, R"({"name":"Ann","age":41})");
  ASSERT_TRUE(v.ok());
  std::vector<cql::ColumnSpec> columns;
  for (size_t i = 0; i < 3; ++i) columns.push_back({"ks", "users", shape.names[i], shape.types[i]});
  std::vector<std::optional<std::string>> row = {(*v)[0].bytes, (*v)[1].bytes, (*v)[2].bytes};
  auto json = RowToJson(columns, row);
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_EQ(*json, std::string(R"({"id":")") + kId + R"(","name":"Ann","age":41})");
  auto key = KeyText(shape.types[0], (*v)[0].bytes);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(*key, kId);
}

// The encoded parameters are EncodeQueryParameters' bytes for BindRow's values, byte for byte,
// for every binding: present, JSON null, absent (UNSET, or null after a delete), a duplicated
// member (the last wins), and for the DELETE's key; appended after what the buffer holds.
TEST(RowCodecTest, AppendedParametersAreTheEncodedBindRowValues) {
  TableShape shape = Users();
  const std::string rows[] = {
      R"({"name":"Ann","age":null,"extra":1})",
      R"({"name":"Ann","age":41,"dob":"2024-05-01T12:30:00.250Z","name":"Bea"})",
      R"({})",
  };
  for (const std::string& row : rows) {
    for (bool absent_as_null : {false, true}) {
      auto values = BindRow(shape, kId, row);
      ASSERT_TRUE(values.ok()) << values.status().ToString();
      if (absent_as_null) {
        for (cql::Value& v : *values) {
          if (v.unset) v = cql::Value::Null();
        }
      }
      cql::QueryParameters p;
      p.consistency = cql::Consistency::kLocalQuorum;
      p.values = std::move(*values);
      p.timestamp = 1234567;
      std::string want = "head";
      cql::WireWriter w(&want);
      cql::EncodeQueryParameters(p, &w);
      std::string got = "head";
      ASSERT_TRUE(AppendRowParameters(shape, kId, row, absent_as_null,
                                      cql::Consistency::kLocalQuorum, 1234567, &got)
                      .ok());
      EXPECT_EQ(got, want) << row << " absent_as_null " << absent_as_null;
    }
  }
  auto key = BindKey(shape, kId);
  ASSERT_TRUE(key.ok());
  cql::QueryParameters p;
  p.consistency = cql::Consistency::kOne;
  p.values = {*key};
  p.timestamp = 7;
  std::string want;
  cql::WireWriter w(&want);
  cql::EncodeQueryParameters(p, &w);
  std::string got;
  ASSERT_TRUE(AppendKeyParameters(shape, kId, cql::Consistency::kOne, 7, &got).ok());
  EXPECT_EQ(got, want);
}

// Errors are BindRow's, and leave the buffer as it was.
TEST(RowCodecTest, AppendedParametersErrorsLeaveTheBufferUnchanged) {
  std::string out = "kept";
  Status s = AppendRowParameters(Users(), kId, R"({"name":"Ann","age":"old"})", false,
                                 cql::Consistency::kOne, 1, &out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), BindRow(Users(), kId, R"({"name":"Ann","age":"old"})").status().message());
  EXPECT_EQ(out, "kept");
  s = AppendRowParameters(Users(), kId, "[1,2]", false, cql::Consistency::kOne, 1, &out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), BindRow(Users(), kId, "[1,2]").status().message());
  EXPECT_EQ(out, "kept");
  s = AppendKeyParameters(Users(), "not-a-uuid", cql::Consistency::kOne, 1, &out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), BindKey(Users(), "not-a-uuid").status().message());
  EXPECT_EQ(out, "kept");
}

TEST(RowCodecTest, UnknownTypeInSchema) {
  auto s = ShapeOf(TableSchema{"ks.t", "id", {{"id", "text"}, {"x", "colour"}}}, "ks.t");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message().rfind("cassandra table ks.t: column x: ", 0), 0u)
      << s.status().message();
}

}  // namespace
}  // namespace dataforge
