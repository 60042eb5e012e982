#include "serve/rest/row_write.h"

#include <gtest/gtest.h>

namespace dataforge::rest {
namespace {

TableSchema Counters() {
  return TableSchema{
      "shop.counters", "id", {{"id", "int"}, {"n", "text"}, {"at", "timestamp"}, {"ref", "uuid"}}};
}

std::string Message(const std::string& key, std::string_view body) {
  auto b = PutBatch(Counters(), key, body);
  EXPECT_FALSE(b.ok());
  return b.ok() ? "" : b.status().message();
}

TEST(RowWrite, PutWritesTheKeyFirstAndStoreForms) {
  auto b = PutBatch(Counters(), "42",
                    R"({"n":"x","at":"2020-01-02T03:04:05+01:00","id":"42",)"
                    R"("ref":"0E5A3F4C-9B1D-4C2E-8F00-00000000000A"})");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->table, "shop.counters");
  EXPECT_FALSE(b->counted);
  ASSERT_EQ(b->rows.size(), 1u);
  EXPECT_EQ(b->rows[0].key, "42");
  EXPECT_FALSE(b->rows[0].deleted);
  EXPECT_FALSE(b->rows[0].complete);  // a partial upsert
  EXPECT_EQ(b->rows[0].row_json, R"({"id":42,"n":"x","at":"2020-01-02T02:04:05.000Z",)"
                                 R"("ref":"0e5a3f4c-9b1d-4c2e-8f00-00000000000a"})");
  b = PutBatch(Counters(), "7", R"({"n":null})");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->rows[0].row_json, R"({"id":7,"n":null})");  // null clears the column
}

TEST(RowWrite, PutRefusals) {
  EXPECT_EQ(Message("042", "{}"),
            "key '042': the int key column id writes it as '42'; use that in the path");
  EXPECT_EQ(Message("abc", "{}"), "key 'abc' is not a valid int for key column id");
  EXPECT_EQ(Message("1", R"({"n":"a","n":"b"})"), "body: column n is given twice");
  EXPECT_EQ(Message("1", R"({"id":2})"), "body: key column id is '2' but the path's key is '1'");
  EXPECT_EQ(Message("1", R"({"id":null})"),
            "body: key column id is 'null' but the path's key is '1'");
  EXPECT_EQ(Message("1", "3"), R"(body: expected a JSON object of columns, e.g. {"name":"Ann"})");
}

TEST(RowWrite, DeleteBatch) {
  StoreBatch b = DeleteBatch("shop.counters", "42");
  EXPECT_FALSE(b.counted);
  ASSERT_EQ(b.rows.size(), 1u);
  EXPECT_TRUE(b.rows[0].deleted);
  EXPECT_EQ(b.rows[0].key, "42");
  EXPECT_EQ(b.rows[0].row_json, "");
}

}  // namespace
}  // namespace dataforge::rest
