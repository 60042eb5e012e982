// The row helpers of registry/store/ and how a store failure reaches a Confluent client.
#include "registry/store/registry_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>

#include "registry/registry_error.h"
#include "registry/schema_registry.h"

namespace dataforge::registry {
namespace {

TEST(SchemaFingerprint, TypeTextAndReferencesEachMakeAnotherSchema) {
  const std::string base = SchemaFingerprint(SchemaType::kAvro, "\"string\"", {});
  EXPECT_EQ(base.size(), 64u);
  EXPECT_EQ(base, SchemaFingerprint(SchemaType::kAvro, "\"string\"", {}));
  EXPECT_NE(base, SchemaFingerprint(SchemaType::kJson, "\"string\"", {}));
  EXPECT_NE(base, SchemaFingerprint(SchemaType::kAvro, "\"bytes\"", {}));
  EXPECT_NE(base, SchemaFingerprint(SchemaType::kAvro, "\"string\"", {{"A", "s", 1}}));
  EXPECT_NE(SchemaFingerprint(SchemaType::kAvro, "x", {{"A", "s", 1}}),
            SchemaFingerprint(SchemaType::kAvro, "x", {{"A", "s", 2}}));
  // Parts are length-prefixed: moving bytes between them changes the fingerprint.
  EXPECT_NE(SchemaFingerprint(SchemaType::kAvro, "x", {{"ab", "c", 1}}),
            SchemaFingerprint(SchemaType::kAvro, "x", {{"a", "bc", 1}}));
}

TEST(ReferencesJson, RoundTripsAndRefusesOtherShapes) {
  const std::vector<SchemaReference> refs = {{"com.x.A \"q\"", "a-value", 3}, {"b.json", "b", 1}};
  const std::string json = ReferencesToJson(refs);
  EXPECT_EQ(json, R"([{"name":"com.x.A \"q\"","subject":"a-value","version":3},)"
                  R"({"name":"b.json","subject":"b","version":1}])");
  EXPECT_EQ(*ReferencesFromJson(json), refs);
  EXPECT_EQ(ReferencesToJson({}), "[]");
  EXPECT_EQ(ReferencesFromJson("[]")->size(), 0u);
  EXPECT_EQ(
      ReferencesFromJson(R"([{"name":"a"}])").status().message(),
      R"(registry references '[{"name":"a"}]' are not a JSON array of {name, subject, version})");
}

TEST(AsRegistryStatus, KeepsARulesCodeAndMakesAStoreFailure50001) {
  EXPECT_TRUE(AsRegistryStatus(Status::OK()).ok());
  const Status rule = RegistryStatus(kSubjectNotFound, "Subject 's' not found.");
  EXPECT_EQ(AsRegistryStatus(rule).message(), "40401 Subject 's' not found.");
  EXPECT_EQ(AsRegistryStatus(RegistryStatus(kIncompatibleSchema, "x")).message(), "409 x");
  const Status down = AsRegistryStatus(Status::Unavailable("server at 127.0.0.1:5 unreachable"));
  EXPECT_EQ(down.code(), StatusCode::kUnavailable);
  EXPECT_EQ(RegistryErrorOf(down).error_code, kStoreError);
  EXPECT_EQ(RegistryErrorOf(down).message, "server at 127.0.0.1:5 unreachable");
  EXPECT_EQ(RegistryErrorOf(AsRegistryStatus(Status::DeadlineExceeded("slow"))).error_code,
            kOperationTimeout);
  // A SQL error about bad input is still the store's failure, not the client's schema (42201).
  EXPECT_EQ(RegistryErrorOf(AsRegistryStatus(Status::InvalidArgument("value too long"))).error_code,
            kStoreError);
}

TEST(SqliteRegistryStore, AFailingDatabaseAnswers50001NamingTheCause) {
  char tmpl[] = "/tmp/df_registry_store_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string path = std::string(tmpl) + "/staging.db";
  {
    auto registry = SchemaRegistry::Open("sqlite://" + path, OpenMode::kReadWrite);
    ASSERT_TRUE(registry.ok()) << registry.status().ToString();
    // Someone drops a table under the running registry.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "DROP TABLE registry_versions", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    auto subjects = (*registry)->Subjects(false);
    ASSERT_FALSE(subjects.ok());
    RegistryError e = RegistryErrorOf(subjects.status());
    EXPECT_EQ(e.error_code, kStoreError);
    EXPECT_EQ(e.http_status, 500);
    EXPECT_NE(e.message.find("no such table: registry_versions"), std::string::npos) << e.message;
  }
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace dataforge::registry
