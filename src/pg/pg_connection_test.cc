#include "pg/pg_connection.h"

#include <gtest/gtest.h>

#include "common/redact.h"

namespace dataforge {
namespace {

TEST(PgConnectionTest, OneLineDropsLibpqPrefixes) {
  EXPECT_EQ(OneLine("connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  password "
                    "authentication failed for user \"postgres\"\n"),
            "password authentication failed for user \"postgres\"");
  EXPECT_EQ(OneLine("connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n"
                    "\tIs the server running on that host and accepting TCP/IP connections?\n"),
            "Connection refused; Is the server running on that host and accepting TCP/IP "
            "connections?");
  EXPECT_EQ(OneLine(""), "");
}

TEST(PgConnectionTest, ConnectingToAClosedPortIsUnavailableWithTheFix) {
  auto c = PgConnection::Connect("postgresql://u:pw@127.0.0.1:1/db?connect_timeout=2", "staging");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(c.status().message().find("staging at 127.0.0.1:1/db as u: connecting failed: "
                                      "Connection refused"),
            std::string::npos)
      << c.status().message();
  EXPECT_NE(c.status().message().find("is PostgreSQL running there? check the host and port in "
                                      "the staging url"),
            std::string::npos);
  EXPECT_EQ(c.status().message().find("pw"), std::string::npos);
}

TEST(PgConnectionTest, ABadUrlIsAConfigError) {
  auto c = PgConnection::Connect("postgresql://h:notaport/db", "staging");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kConfigError) << c.status().message();
}

TEST(RedactTest, PasswordsAreMasked) {
  EXPECT_EQ(Redact("postgresql://u:secret@h:5432/db?sslmode=require"),
            "postgresql://u:***@h:5432/db?sslmode=require");
  EXPECT_EQ(Redact("postgresql://u@h/db"), "postgresql://u@h/db");
  EXPECT_EQ(Redact("http://h:80/x"), "http://h:80/x");
  EXPECT_EQ(Redact("sqlite://staging.db"), "sqlite://staging.db");
}

}  // namespace
}  // namespace dataforge
