#include "cli/auth_setup.h"

#include <gtest/gtest.h>

namespace dataforge {
namespace {

TEST(AuthSetupTest, LoopbackHosts) {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"}) {
    EXPECT_TRUE(IsLoopbackHost(host)) << host;
  }
  for (const char* host : {"0.0.0.0", "::", "10.0.0.1", "192.168.1.5", "example.com", "128.0.0.1",
                           "::ffff:127.0.0.1", ""}) {
    EXPECT_FALSE(IsLoopbackHost(host)) << host;
  }
}

TEST(AuthSetupTest, OffLoopbackNeedsAuthOrInsistence) {
  EXPECT_TRUE(CheckListenAddress("--host 127.0.0.1", "127.0.0.1", false, false).ok());
  EXPECT_TRUE(CheckListenAddress("--host 0.0.0.0", "0.0.0.0", true, false).ok());
  EXPECT_TRUE(CheckListenAddress("--host 0.0.0.0", "0.0.0.0", false, true).ok());
  Status s = CheckListenAddress("--http-host 10.0.0.1", "10.0.0.1", false, false);
  EXPECT_EQ(s.code(), StatusCode::kConfigError);
  EXPECT_EQ(s.message(),
            "--http-host 10.0.0.1: refusing to listen off loopback with authentication off "
            "(anyone who can reach it could read and change the data); turn authentication on "
            "with `dataforge users add NAME --role admin --password-stdin` (or `auth.required: "
            "true` in the pipeline file), or pass --insecure-no-auth to insist");
}

}  // namespace
}  // namespace dataforge
