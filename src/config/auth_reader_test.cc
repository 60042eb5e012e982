// The `auth:` section of a pipeline file: reading, errors with lines, and `config show`.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/redact.h"
#include "config/pipeline_file.h"

namespace dataforge {
namespace {

const char* kSecret = "Hs256-S3cr3t-0123456789abcdef-0123456789";

const char* kAuthYaml = R"(auth:
  required: true
  audit_log: /var/log/df-audit.log
  max_failed_logins_per_minute: 5
  jwt:
    hs256_secret: ${DF_TEST_JWT_SECRET}
    jwks_file: keys/jwks.json
    issuer: https://issuer.example
    audience: dataforge
    role_claim: groups
    subject_claim: email
    leeway_s: 10
  roles:
    analyst:
      tables: {"sales.*": [read, write], "hr.*": [read]}
      pipeline: [read]
      dags: {"etl_*": [read, trigger]}
    replayer:
      deadletters: replay
    nobody: {}
)";

Result<PipelineConfig> Parse(const std::string& yaml, const std::string& file = "/etc/df/p.yaml") {
  setenv("DF_TEST_JWT_SECRET", kSecret, 1);
  return ParsePipelineConfig(yaml, file);
}

TEST(AuthConfigTest, DefaultsWhenTheFileHasNoAuthSection) {
  AuthConfig a = DefaultPipelineConfig().auth;
  EXPECT_FALSE(a.required);
  EXPECT_EQ(a.audit_log, "audit.log");
  EXPECT_EQ(a.max_failed_logins_per_minute, 10);
  EXPECT_TRUE(a.roles.empty());
  EXPECT_EQ(a.jwt.hs256_secret, "");
  EXPECT_EQ(a.jwt.role_claim, "role");
  EXPECT_EQ(a.jwt.subject_claim, "sub");
  EXPECT_EQ(a.jwt.leeway_s, 30);
}

TEST(AuthConfigTest, ReadsEveryKey) {
  auto c = Parse(kAuthYaml);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const AuthConfig& a = c->auth;
  EXPECT_TRUE(a.required);
  EXPECT_EQ(a.audit_log, "/var/log/df-audit.log");
  EXPECT_EQ(a.max_failed_logins_per_minute, 5);
  EXPECT_EQ(a.jwt.hs256_secret, kSecret);
  EXPECT_EQ(a.jwt.jwks_file, "/etc/df/keys/jwks.json");  // relative to the pipeline file
  EXPECT_EQ(a.jwt.issuer, "https://issuer.example");
  EXPECT_EQ(a.jwt.audience, "dataforge");
  EXPECT_EQ(a.jwt.role_claim, "groups");
  EXPECT_EQ(a.jwt.subject_claim, "email");
  EXPECT_EQ(a.jwt.leeway_s, 10);
  ASSERT_EQ(a.roles.size(), 3u);
  EXPECT_EQ(a.roles[0].name, "analyst");
  EXPECT_EQ(a.roles[0].line, 14);
  ASSERT_EQ(a.roles[0].grants.size(), 4u);
  auto grant = [](const AuthGrantConfig& g) {
    return g.kind + " " + g.glob + " " + fmt::format("{}", fmt::join(g.actions, ",")) + " @" +
           std::to_string(g.line);
  };
  EXPECT_EQ(grant(a.roles[0].grants[0]), "tables sales.* read,write @15");
  EXPECT_EQ(grant(a.roles[0].grants[1]), "tables hr.* read @15");
  EXPECT_EQ(grant(a.roles[0].grants[2]), "pipeline * read @16");
  EXPECT_EQ(grant(a.roles[0].grants[3]), "dags etl_* read,trigger @17");
  EXPECT_EQ(a.roles[1].name, "replayer");
  ASSERT_EQ(a.roles[1].grants.size(), 1u);
  EXPECT_EQ(grant(a.roles[1].grants[0]), "deadletters * replay @19");
  EXPECT_EQ(a.roles[2].name, "nobody");
  EXPECT_TRUE(a.roles[2].grants.empty());
}

std::string AuthErrorOf(const std::string& yaml) {
  auto c = Parse(yaml, "p.yaml");
  EXPECT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kConfigError);
  return c.status().message();
}

TEST(AuthConfigTest, ErrorsNameTheLine) {
  EXPECT_EQ(AuthErrorOf("auth:\n  require: true\n"),
            "p.yaml:2: unknown key 'require' in 'auth' (known: required, audit_log, "
            "max_failed_logins_per_minute, jwt, roles)");
  EXPECT_EQ(AuthErrorOf("auth:\n  jwt: {issuer: x, secret: y}\n"),
            "p.yaml:2: unknown key 'secret' in 'auth.jwt' (known: hs256_secret, jwks_file, "
            "issuer, audience, role_claim, subject_claim, leeway_s)");
  EXPECT_EQ(AuthErrorOf("auth:\n  roles:\n    ops:\n      table: [read]\n"),
            "p.yaml:4: unknown key 'table' in 'auth.roles.ops' (known: tables, pipeline, "
            "deadletters, dags, admin, subjects)");
  EXPECT_EQ(AuthErrorOf("auth:\n  roles:\n    ops:\n      dags: {\"etl_*\": {read: 1}}\n"),
            "p.yaml:4: 'etl_*' must be a value or a list");
  EXPECT_EQ(AuthErrorOf("auth:\n  roles: [ops]\n"),
            "p.yaml:2: 'auth.roles' must be a mapping of role name: grants, e.g. {analyst: "
            "{tables: {\"sales.*\": [read]}}}");
  EXPECT_EQ(AuthErrorOf("auth:\n  max_failed_logins_per_minute: -1\n"),
            "p.yaml:2: 'max_failed_logins_per_minute' is -1; it must be between 0 and 1000000");
  EXPECT_EQ(AuthErrorOf("auth:\n  jwt:\n    role_claim: \"\"\n"),
            "p.yaml:3: 'auth.jwt.role_claim' must name a claim");
}

TEST(AuthConfigTest, AShortHs256SecretIsRefusedWithoutQuotingIt) {
  std::string message = AuthErrorOf("auth:\n  jwt:\n    hs256_secret: tooShortS3cr3t\n");
  EXPECT_EQ(message,
            "p.yaml:3: 'auth.jwt.hs256_secret' is 14 bytes; HS256 needs at least 32 (make one "
            "with: openssl rand -base64 32)");
}

TEST(AuthConfigTest, ShowPrintsTheSectionButNeverTheSecret) {
  auto c = Parse(kAuthYaml);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const std::string yaml = PipelineConfigToYaml(*c);
  EXPECT_EQ(yaml.find(kSecret), std::string::npos) << yaml;
  const std::string expected = R"(auth:
  required: true
  audit_log: /var/log/df-audit.log
  max_failed_logins_per_minute: 5
  jwt:
    hs256_secret: "***"
    jwks_file: "/etc/df/keys/jwks.json"
    issuer: "https://issuer.example"
    audience: "dataforge"
    role_claim: groups
    subject_claim: email
    leeway_s: 10
  roles:
    analyst:
      tables:
        "sales.*": [read, write]
        "hr.*": [read]
      pipeline:
        "*": [read]
      dags:
        "etl_*": [read, trigger]
    replayer:
      deadletters:
        "*": [replay]
    nobody:
      {}
)";
  const size_t at = yaml.find("\nauth:\n");
  ASSERT_NE(at, std::string::npos) << yaml;
  EXPECT_EQ(yaml.substr(at + 1), expected);
  // The secret came from ${ENV}: registered, so it is masked wherever else it would be printed.
  EXPECT_EQ(Redact(std::string("token secret ") + kSecret), "token secret ***");
  // The shown file reads back to the same text once the mask is replaced by a secret again.
  EXPECT_EQ(ParsePipelineConfig(yaml, "shown.yaml").status().message(),
            "shown.yaml:87: 'auth.jwt.hs256_secret' is the mask `config show` prints; give the "
            "secret, e.g. hs256_secret: ${DATAFORGE_JWT_SECRET}");
  std::string fixed = yaml;
  const std::string shown = "hs256_secret: \"***\"";
  fixed.replace(fixed.find(shown), shown.size(), "hs256_secret: ${DF_TEST_JWT_SECRET}");
  auto back = ParsePipelineConfig(fixed, "/etc/df/shown.yaml");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->auth.jwt.hs256_secret, kSecret);
  EXPECT_EQ(PipelineConfigToYaml(*back), yaml);
}

TEST(AuthConfigTest, ShowWithoutASecretPrintsAnEmptyOne) {
  const std::string yaml = PipelineConfigToYaml(DefaultPipelineConfig());
  EXPECT_NE(yaml.find("  jwt:\n    hs256_secret: \"\"\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("  roles:\n    {}\n"), std::string::npos) << yaml;
}

}  // namespace
}  // namespace dataforge
