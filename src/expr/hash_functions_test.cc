#include <string>

#include <gtest/gtest.h>

#include "expr/testing/call.h"

namespace dataforge::expr {
namespace {

using testing::Call;
using testing::I;
using testing::J;
using testing::N;
using testing::S;

// Expected digests from Python's hashlib and zlib over the same UTF-8 bytes.
TEST(HashFunctions, KnownDigests) {
  EXPECT_EQ(Call("md5", {S("")}), "string 'd41d8cd98f00b204e9800998ecf8427e'");
  EXPECT_EQ(Call("md5", {S("abc")}), "string '900150983cd24fb0d6963f7d28e17f72'");
  EXPECT_EQ(Call("md5", {S("é")}), "string '66ddcd97cfdeabb2f6fb8a999b4bc76f'");
  EXPECT_EQ(Call("md5", {S(std::string("\xff\x00x", 3))}),
            "string 'd71202bcef455db182fb311bc32e55e4'");  // any bytes, NUL included
  EXPECT_EQ(Call("sha1", {S("abc")}), "string 'a9993e364706816aba3e25717850c26c9cd0d89d'");
  EXPECT_EQ(Call("sha256", {S("")}),
            "string 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'");
  EXPECT_EQ(Call("sha256", {S("ann@example.com")}),
            "string '71d4f55f72fa128dfb468a1a3901507c804b74316488744d769d7f4b16696476'");
  EXPECT_EQ(Call("sha512", {S("abc")}),
            "string 'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc"
            "1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f'");
  EXPECT_EQ(Call("crc32", {S("")}), "int 0");
  EXPECT_EQ(Call("crc32", {S("123456789")}), "int 3421780262");
  EXPECT_EQ(Call("crc32", {S("ann@example.com")}), "int 1918621966");
}

TEST(HashFunctions, JsonIsHashedAsItsText) {
  EXPECT_EQ(Call("md5", {J("{\"a\":1}")}), "string 'bb6cb5c68df4652941caf652a366f2d8'");
  EXPECT_EQ(Call("crc32", {J("{\"a\":1}")}), "int 1444654255");
}

TEST(HashFunctions, HugeInput) {
  std::string big(10'000'000, 'a');
  EXPECT_EQ(Call("sha256", {S(big)}),
            "string '01f4a87c04b40af59aadc0e812293509709c9a8763a60b7f9e19303322f8b03c'");
  EXPECT_EQ(Call("crc32", {S(big)}), "int 1293585042");
}

TEST(HashFunctions, NullsAndTypes) {
  for (const char* fn : {"md5", "sha1", "sha256", "sha512", "crc32"}) {
    EXPECT_EQ(Call(fn, {N()}), "null") << fn;
  }
  EXPECT_EQ(Call("md5", {I(5)}), "error: md5: text must be a string, got int 5");
  EXPECT_EQ(Call("sha256", {I(5)}), "error: sha256: text must be a string, got int 5");
}

}  // namespace
}  // namespace dataforge::expr
