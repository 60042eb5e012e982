// Redact(): the one function that masks secrets in everything DataForge prints.
#include "common/redact.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "common/redacting_sink.h"

namespace dataforge {
namespace {

TEST(RedactTest, UrlPasswords) {
  EXPECT_EQ(Redact("postgresql://u:S3cr3tPg@127.0.0.1:1/db"), "postgresql://u:***@127.0.0.1:1/db");
  EXPECT_EQ(Redact("postgresql://u:secret@h:5432/db?sslmode=require"),
            "postgresql://u:***@h:5432/db?sslmode=require");
  EXPECT_EQ(Redact("cassandra://u:S3cr3tCql@127.0.0.1:1,h2:9042/ks?consistency=ONE"),
            "cassandra://u:***@127.0.0.1:1,h2:9042/ks?consistency=ONE");
  // An unencoded '@' in the password: everything up to the host's '@' is masked.
  EXPECT_EQ(Redact("cassandra://u:p@ss@h"), "cassandra://u:***@h");
  EXPECT_EQ(Redact("postgresql://u@h/db"), "postgresql://u@h/db");
  EXPECT_EQ(Redact("http://h:80/x"), "http://h:80/x");
  EXPECT_EQ(Redact("sqlite://staging.db"), "sqlite://staging.db");
  EXPECT_EQ(Redact("http://h:80/a@b"), "http://h:80/a@b");  // '@' in the path is no user info
}

TEST(RedactTest, UrlsInsideText) {
  EXPECT_EQ(Redact("staging 'postgresql://u:pw1@h/db': connection refused; retry "
                   "postgresql://v:pw2@k/db2"),
            "staging 'postgresql://u:***@h/db': connection refused; retry "
            "postgresql://v:***@k/db2");
  EXPECT_EQ(Redact("scheduler running 2 DAG(s) on postgresql://u:pw@127.0.0.1:5/db (Ctrl-C)"),
            "scheduler running 2 DAG(s) on postgresql://u:***@127.0.0.1:5/db (Ctrl-C)");
}

TEST(RedactTest, SecretParameters) {
  EXPECT_EQ(Redact("kafka://127.0.0.1:1?sasl.password=S3cr3tKafka&acks=all"),
            "kafka://127.0.0.1:1?sasl.password=***&acks=all");
  EXPECT_EQ(Redact("kafka://h:1?security.protocol=SASL_SSL&ssl.key.password=k1&"
                   "ssl.keystore.password=k2&sasl.oauthbearer.client.secret=k3&ssl.key.pem=k4&"
                   "sasl.username=alice"),
            "kafka://h:1?security.protocol=SASL_SSL&ssl.key.password=***&"
            "ssl.keystore.password=***&sasl.oauthbearer.client.secret=***&ssl.key.pem=***&"
            "sasl.username=alice");
  // libpq conninfo, quoted and not.
  EXPECT_EQ(Redact("host=h port=5 password=abc dbname=d"), "host=h port=5 password=*** dbname=d");
  EXPECT_EQ(Redact("host=h password='a b' user=u"), "host=h password=*** user=u");
  EXPECT_EQ(Redact("?PASSWORD=x"), "?PASSWORD=***");
  // Names that only look like secrets stay.
  EXPECT_EQ(Redact("key_column=id ssl.key.location=/k.pem ssl.keystore.location=/ks"),
            "key_column=id ssl.key.location=/k.pem ssl.keystore.location=/ks");
  EXPECT_EQ(Redact("password="), "password=");
}

TEST(RedactTest, IsSecretName) {
  for (const char* n :
       {"sasl.password", "ssl.key.password", "ssl.keystore.password",
        "sasl.oauthbearer.client.secret", "ssl.key.pem", "sasl.oauthbearer.config", "PGPASSWORD",
        "API_TOKEN", "aws_secret_access_key", "x-api-key.pem", "api_key"}) {
    EXPECT_TRUE(IsSecretName(n)) << n;
  }
  for (const char* n : {"sasl.username", "ssl.key.location", "key_column", "acks", "user",
                        "ssl.ca.location", "keyspace"}) {
    EXPECT_FALSE(IsSecretName(n)) << n;
  }
}

TEST(RedactTest, RegisteredSecretsAreMaskedAnywhere) {
  RegisterSecret("Xy9$fromEnv");
  RegisterSecret("ab");  // too short: ignored
  EXPECT_EQ(Redact("auth failed with Xy9$fromEnv twice: Xy9$fromEnv"),
            "auth failed with *** twice: ***");
  EXPECT_EQ(Redact("ab cd"), "ab cd");
}

TEST(RedactTest, AWordSecretIsMaskedAsAWordNotInsideLongerWords) {
  RegisterSecret("plainword");
  EXPECT_EQ(Redact("hs256_plainword: plainword, \"plainword\" :plainword@ plainwords"),
            "hs256_plainword: ***, \"***\" :***@ plainwords");
  RegisterSecret("non-word!");  // not only word characters: masked anywhere
  EXPECT_EQ(Redact("xnon-word!y"), "x***y");
}

TEST(RedactTest, RegisterSecretsInUrl) {
  RegisterSecretsIn("cassandra://u:p%40ssWd1@h?sasl.password=Kq7zz&x=1");
  EXPECT_EQ(Redact("decoded p@ssWd1, encoded p%40ssWd1, param Kq7zz"),
            "decoded ***, encoded ***, param ***");
}

TEST(RedactTest, LogSinkMasksEveryLine) {
  std::ostringstream out;
  auto logger = std::make_shared<spdlog::logger>(
      "redact_test", MakeRedactingSink(std::make_shared<spdlog::sinks::ostream_sink_mt>(out)));
  logger->set_pattern("%l %v");
  logger->warn("connecting to {} failed", "postgresql://u:pw9876@h/db");
  logger->error("kafka://h:1?sasl.password=Zz123456");
  EXPECT_EQ(out.str(),
            "warning connecting to postgresql://u:***@h/db failed\n"
            "error kafka://h:1?sasl.password=***\n");
}

}  // namespace
}  // namespace dataforge
