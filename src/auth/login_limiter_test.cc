#include "auth/login_limiter.h"

#include <gtest/gtest.h>

namespace dataforge::auth {
namespace {

TEST(LoginLimiterTest, BucketKeys) {
  EXPECT_EQ(LoginLimiter::BucketKey("10.0.0.7"), "10.0.0.7");
  EXPECT_EQ(LoginLimiter::BucketKey("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
  EXPECT_EQ(LoginLimiter::BucketKey("::1"), "::/64");
  EXPECT_EQ(LoginLimiter::BucketKey("::ffff:192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(LoginLimiter::BucketKey("not:an:address"), "not:an:address");
  EXPECT_EQ(LoginLimiter::BucketKey("cli"), "cli");
}

TEST(LoginLimiterTest, NTriesThenOneBackEverySixtyOverNSeconds) {
  LoginLimiter limiter(6);  // one try back every 10 s
  int64_t now = 5'000'000;
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(limiter.RetryAfterSeconds("10.0.0.1", now), 0) << i;
    limiter.RecordFailure("10.0.0.1", now);
  }
  EXPECT_EQ(limiter.RetryAfterSeconds("10.0.0.1", now), 10);
  EXPECT_EQ(limiter.RetryAfterSeconds("10.0.0.2", now), 0);
  EXPECT_EQ(limiter.RetryAfterSeconds("10.0.0.1", now + 9'000'001), 1);
  EXPECT_EQ(limiter.RetryAfterSeconds("10.0.0.1", now + 10'000'000), 0);
  // A minute later the address is forgotten: a full bucket again.
  now += 60'000'000;
  for (int i = 0; i < 6; ++i) limiter.RecordFailure("10.0.0.1", now);
  EXPECT_EQ(limiter.RetryAfterSeconds("10.0.0.1", now), 10);
}

TEST(LoginLimiterTest, AnIpv6SlashSixtyFourSharesOneBucket) {
  LoginLimiter limiter(2);
  limiter.RecordFailure("2001:db8::1", 0);
  limiter.RecordFailure("2001:db8::2", 0);
  EXPECT_EQ(limiter.RetryAfterSeconds("2001:db8::3", 0), 30);
  EXPECT_EQ(limiter.RetryAfterSeconds("2001:db8:0:1::3", 0), 0);
}

TEST(LoginLimiterTest, ZeroMeansNoLimit) {
  LoginLimiter limiter(0);
  for (int i = 0; i < 1000; ++i) limiter.RecordFailure("10.0.0.1", 0);
  EXPECT_EQ(limiter.RetryAfterSeconds("10.0.0.1", 0), 0);
}

}  // namespace
}  // namespace dataforge::auth
