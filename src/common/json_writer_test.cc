#include "common/json_writer.h"

#include <gtest/gtest.h>

namespace dataforge {
namespace {

TEST(JsonObjectWriterTest, WritesMembersInOrderWithEscapedKeys) {
  JsonObjectWriter w;
  w.String("a\"b", "x\ny").Int("n", -12).Bool("t", true).Null("z").Raw("r", "[1,2]");
  EXPECT_EQ(w.Finish(), R"({"a\"b":"x\ny","n":-12,"t":true,"z":null,"r":[1,2]})");
}

TEST(JsonObjectWriterTest, RawQuotedKeyTakesTheKeyAsWritten) {
  const std::string key = JsonString("we\"ird");
  JsonObjectWriter w;
  w.Reserve(64);
  w.RawQuotedKey(key, "1").Raw("plain", "\"v\"").RawQuotedKey(JsonString("k"), "{}");
  EXPECT_EQ(w.Finish(), R"({"we\"ird":1,"plain":"v","k":{}})");
}

TEST(JsonObjectWriterTest, AnEmptyObject) {
  JsonObjectWriter w;
  EXPECT_EQ(w.Finish(), "{}");
}

}  // namespace
}  // namespace dataforge
