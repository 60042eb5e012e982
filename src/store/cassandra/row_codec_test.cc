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

TEST(RowCodecTest, UnknownTypeInSchema) {
  auto s = ShapeOf(TableSchema{"ks.t", "id", {{"id", "text"}, {"x", "colour"}}}, "ks.t");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message().rfind("cassandra table ks.t: column x: ", 0), 0u)
      << s.status().message();
}

}  // namespace
}  // namespace dataforge
