#include "source/mockapi/user_generator.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <set>

namespace dataforge::mockapi {
namespace {

TEST(UserGeneratorTest, DeterministicPerSeedAndPage) {
  MockQuery q = ParseMockQuery("50", "abc", "2", "", "", "", "");
  EXPECT_EQ(GenerateResponse(q), GenerateResponse(q));
  MockQuery other = q;
  other.page = 3;
  EXPECT_NE(GenerateResponse(q), GenerateResponse(other));
}

// The bytes of every seed's users are pinned: the generator was rewritten without fmt's
// per-call formatting (and its arguments, which gcc evaluated right to left, are now drawn in
// an explicit order), and derived data (keys, fixtures of other tests) must not move.
TEST(UserGeneratorTest, OutputIsPinned) {
  uint64_t h = 1469598103934665603ull;
  size_t bytes = 0;
  for (const char* seed : {"bench", "df"}) {
    for (const char* nat : {"", "GB", "FR,CA,NL,US"}) {
      for (const char* gender : {"", "female"}) {
        for (int page = 1; page <= 3; ++page) {
          std::string out = GenerateResponse(
              ParseMockQuery("50", seed, std::to_string(page), nat, gender, "", ""));
          bytes += out.size();
          for (unsigned char c : out) h = (h ^ c) * 1099511628211ull;
        }
      }
    }
  }
  EXPECT_EQ(bytes, 1959938u);
  EXPECT_EQ(h, 0xc79992192e83b740ull);
}

TEST(UserGeneratorTest, ShapeVarietyAndUniqueUuids) {
  simdjson::dom::parser parser;
  std::set<std::string> uuids, nats;
  int null_ids = 0, int_postcodes = 0, string_postcodes = 0, non_ascii = 0, users = 0;
  for (int page = 1; page <= 10; ++page) {
    MockQuery q = ParseMockQuery("500", "variety", std::to_string(page), "", "", "", "");
    std::string body = GenerateResponse(q);
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(body).get(doc), simdjson::SUCCESS);
    EXPECT_EQ(std::string_view(doc["info"]["version"]), "1.4");
    EXPECT_EQ(int64_t(doc["info"]["page"]), page);
    EXPECT_EQ(int64_t(doc["info"]["results"]), 500);
    for (auto u : doc["results"].get_array()) {
      ++users;
      for (const char* f : {"gender", "name", "location", "email", "login", "dob", "registered",
                            "phone", "cell", "id", "picture", "nat"}) {
        ASSERT_FALSE(u[f].error()) << f;
      }
      uuids.insert(std::string(std::string_view(u["login"]["uuid"])));
      nats.insert(std::string(std::string_view(u["nat"])));
      if (u["id"]["value"].is_null()) ++null_ids;
      if (u["location"]["postcode"].is_int64()) ++int_postcodes;
      if (u["location"]["postcode"].is_string()) ++string_postcodes;
      std::string_view first = u["name"]["first"];
      for (unsigned char c : first) {
        if (c >= 0x80) {
          ++non_ascii;
          break;
        }
      }
    }
  }
  EXPECT_EQ(users, 5000);
  EXPECT_EQ(uuids.size(), 5000u);
  EXPECT_GE(nats.size(), 20u);
  EXPECT_GT(null_ids, 0);
  EXPECT_GT(int_postcodes, 0);
  EXPECT_GT(string_postcodes, 0);
  EXPECT_GT(non_ascii, 0);
}

TEST(UserGeneratorTest, FiltersAndClamps) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string body =
      GenerateResponse(ParseMockQuery("99999", "x", "1", "gb,NO", "female", "", "login,picture"));
  ASSERT_EQ(parser.parse(body).get(doc), simdjson::SUCCESS);
  EXPECT_EQ(int64_t(doc["info"]["results"]), 5000);
  for (auto u : doc["results"].get_array()) {
    std::string_view nat = u["nat"];
    EXPECT_TRUE(nat == "GB" || nat == "NO") << nat;
    EXPECT_EQ(std::string_view(u["gender"]), "female");
    EXPECT_TRUE(u["login"].error());
    EXPECT_TRUE(u["picture"].error());
  }
  body = GenerateResponse(ParseMockQuery("abc", "x", "-4", "", "", "name,nat", ""));
  ASSERT_EQ(parser.parse(body).get(doc), simdjson::SUCCESS);
  EXPECT_EQ(int64_t(doc["info"]["results"]), 1);
  EXPECT_EQ(int64_t(doc["info"]["page"]), 1);
  auto user = doc["results"].at(0);
  EXPECT_EQ(simdjson::minify(user).rfind("{\"name\":", 0), 0u);
  EXPECT_TRUE(user["email"].error());
}

TEST(UserGeneratorTest, Rate) {
  MockQuery q = ParseMockQuery("5000", "rate", "1", "", "", "", "");
  auto start = std::chrono::steady_clock::now();
  size_t bytes = 0;
  for (int i = 1; i <= 20; ++i) {
    q.page = i;
    bytes += GenerateResponse(q).size();
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("generator: %.0f users/s, %.0f bytes/user\n", 100000 / s, bytes / 100000.0);
}

}  // namespace
}  // namespace dataforge::mockapi
