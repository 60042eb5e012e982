// RegistryConformance: ids, versions, dedup, lookup, compatibility levels and config
// (registry_conformance.h).
#include "conformance/registry_conformance.h"

#include <fmt/format.h>

namespace dataforge::registry {
namespace {

REGISTRY_CONFORMANCE_SUITE();

TYPED_TEST(RegistryConformance, VersionsCountFromOneAndIdsFromOne) {
  auto& r = this->registry_;
  EXPECT_EQ(*r->Subjects(false), std::vector<std::string>{});
  EXPECT_EQ(this->Reg("users-value", "a"), 1);
  EXPECT_EQ(this->Reg("users-value", "a b=1"), 2);
  EXPECT_EQ(this->Reg("orders-value", "o"), 3);
  EXPECT_EQ(*r->Subjects(false), (std::vector<std::string>{"orders-value", "users-value"}));
  EXPECT_EQ(*r->Subjects(false, "us"), std::vector<std::string>{"users-value"});
  EXPECT_EQ(this->VersionsOf("users-value"), (std::vector<int32_t>{1, 2}));

  auto latest = r->Version("users-value", std::nullopt, false);
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(latest->subject, "users-value");
  EXPECT_EQ(latest->version, 2);
  EXPECT_EQ(latest->id, 2);
  EXPECT_EQ(latest->schema.schema, "a b=1");
  EXPECT_EQ(latest->schema.type, SchemaType::kAvro);
  EXPECT_FALSE(latest->deleted);
  EXPECT_EQ(r->Version("users-value", -1, false)->version, 2);  // Confluent's -1 = latest
  EXPECT_EQ(r->Version("users-value", 1, false)->schema.schema, "a");

  auto byid = r->SchemaById(1);
  ASSERT_TRUE(byid.ok()) << byid.status().ToString();
  EXPECT_EQ(byid->id, 1);
  EXPECT_EQ(byid->schema.schema, "a");
  EXPECT_EQ(ErrorOf(r->SchemaById(1, "orders-value")), "40403 Schema 1 not found");
  EXPECT_EQ(r->SchemaById(1, "users-value")->id, 1);

  EXPECT_EQ(ErrorOf(r->SchemaById(99)), "40403 Schema 99 not found");
  EXPECT_EQ(ErrorOf(r->Versions("nobody", false)), "40401 Subject 'nobody' not found.");
  EXPECT_EQ(ErrorOf(r->Version("nobody", 1, false)), "40401 Subject 'nobody' not found.");
  EXPECT_EQ(ErrorOf(r->Version("users-value", 3, false)), "40402 Version 3 not found.");
  EXPECT_EQ(ErrorOf(r->Version("users-value", 0, false)),
            "42202 The specified version '0' is not a valid version id. Allowed values are "
            "between [1, 2^31-1] and the string \"latest\"");
  EXPECT_EQ(RegistryErrorOf(r->Version("users-value", 3, false).status()).http_status, 404);
}

TYPED_TEST(RegistryConformance, TheSameSchemaHasOneIdAcrossSubjectsAndNoNewVersion) {
  auto& r = this->registry_;
  EXPECT_EQ(this->Reg("s1", "a"), 1);
  EXPECT_EQ(this->Reg("s2", "a"), 1);
  EXPECT_EQ(this->Reg("s1", "a   "), 1);  // the same canonical text
  EXPECT_EQ(this->VersionsOf("s1"), std::vector<int32_t>{1});
  EXPECT_EQ(this->Reg("s1", "a b=1"), 2);
  EXPECT_EQ(this->Reg("s1", "a"), 1);  // a live version that is not the latest: no new version
  EXPECT_EQ(this->VersionsOf("s1"), (std::vector<int32_t>{1, 2}));
  // Another type is another schema.
  auto json = r->Register("s3", Tiny("a", {}, SchemaType::kJson));
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_EQ(*json, 3);
  EXPECT_EQ(r->SchemaById(3)->schema.type, SchemaType::kJson);

  EXPECT_EQ(*r->SubjectsById(1, false), (std::vector<std::string>{"s1", "s2"}));
  EXPECT_EQ(*r->VersionsById(1, false),
            (std::vector<std::pair<std::string, int32_t>>{{"s1", 1}, {"s2", 1}}));
  EXPECT_EQ(ErrorOf(r->SubjectsById(42, false)), "40403 Schema 42 not found");

  // normalize: the canonical text is stored.
  auto n = r->Register("s4", Tiny("x    y=2"),
                       RegisterOptions{.normalize = true, .id = {}, .version = {}});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(r->SchemaById(*n)->schema.schema, "x y=2");
}

TYPED_TEST(RegistryConformance, LookupFindsTheVersionHoldingTheSchema) {
  auto& r = this->registry_;
  this->Reg("s", "a");
  this->Reg("s", "a b=1");
  this->Reg("t", "t");
  auto v = r->Lookup("s", Tiny("a b=1  "), false, false);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->version, 2);
  EXPECT_EQ(v->id, 2);
  EXPECT_EQ(v->schema.schema, "a b=1");
  EXPECT_EQ(ErrorOf(r->Lookup("s", Tiny("t"), false, false)), "40403 Schema not found");
  EXPECT_EQ(ErrorOf(r->Lookup("s", Tiny("zzz"), false, false)), "40403 Schema not found");
  EXPECT_EQ(ErrorOf(r->Lookup("nobody", Tiny("a"), false, false)),
            "40401 Subject 'nobody' not found.");
  ASSERT_EQ(*r->DeleteVersion("s", 1, false), 1);
  EXPECT_EQ(ErrorOf(r->Lookup("s", Tiny("a"), false, false)), "40403 Schema not found");
  auto deleted = r->Lookup("s", Tiny("a"), false, true);
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(deleted->version, 1);
  EXPECT_TRUE(deleted->deleted);
}

TYPED_TEST(RegistryConformance, AnIncompatibleSchemaIs409WithTheReasons) {
  auto& r = this->registry_;
  this->Reg("s", "a");
  auto bad = r->Register("s", Tiny("a b"));
  EXPECT_EQ(ErrorOf(bad),
            "409 Schema being registered is incompatible with an earlier schema for subject "
            "\"s\", details: [reader field 'b' has no default and is missing in the writer, "
            "{validateFields: 'false', compatibility: 'BACKWARD'}]");
  EXPECT_EQ(RegistryErrorOf(bad.status()).http_status, 409);
  EXPECT_EQ(this->VersionsOf("s"), std::vector<int32_t>{1});
  // The refused schema took no id.
  EXPECT_EQ(this->Reg("s", "a c=1"), 2);

  auto verdict = r->TestCompatibility("s", std::nullopt, false, Tiny("a b"));
  ASSERT_TRUE(verdict.ok()) << verdict.status().ToString();
  EXPECT_FALSE(verdict->compatible);
  EXPECT_EQ(verdict->messages, (std::vector<std::string>{
                                   "reader field 'b' has no default and is missing in the writer",
                                   "{validateFields: 'false', compatibility: 'BACKWARD'}"}));
  EXPECT_TRUE(r->TestCompatibility("s", 2, false, Tiny("a c"))->compatible);
  EXPECT_FALSE(r->TestCompatibility("s", 1, false, Tiny("a c"))->compatible);
  EXPECT_EQ(ErrorOf(r->TestCompatibility("s", 7, false, Tiny("a"))), "40402 Version 7 not found.");
  EXPECT_EQ(ErrorOf(r->TestCompatibility("none", std::nullopt, false, Tiny("a"))),
            "40401 Subject 'none' not found.");
  // No version to be compatible with: compatible.
  EXPECT_TRUE(r->TestCompatibility("none", std::nullopt, true, Tiny("a"))->compatible);
}

// Two histories that tell the seven levels apart:
//   H1 = v1 "a", v2 "a b=1"; candidate "a b": backward against v2 only (b is missing in v1).
//   H2 = v1 "a x", v2 "a x=0"; candidate "a": forward against v2 only (v1 needs x).
//   H3 = v1 "a b=1"; candidate "b=1": backward yes, forward no (v1 needs a).
struct LevelCase {
  Compatibility level;
  bool h1, h2, h3;  // registration accepted
};

TYPED_TEST(RegistryConformance, EachLevelChecksItsDirectionAgainstTheVersionsItNames) {
  auto& r = this->registry_;
  const LevelCase cases[] = {
      {Compatibility::kNone, true, true, true},
      {Compatibility::kBackward, true, true, true},
      {Compatibility::kBackwardTransitive, false, true, true},
      {Compatibility::kForward, true, true, false},
      {Compatibility::kForwardTransitive, true, false, false},
      {Compatibility::kFull, true, true, false},
      {Compatibility::kFullTransitive, false, false, false},
  };
  const std::vector<std::vector<std::string>> histories = {
      {"a", "a b=1", "a b"}, {"a x", "a x=0", "a"}, {"b0 a b=1", "b0 b=1"}};
  for (const LevelCase& c : cases) {
    const bool want[] = {c.h1, c.h2, c.h3};
    for (size_t h = 0; h < histories.size(); ++h) {
      const std::string subject = fmt::format("{}-h{}", CompatibilityName(c.level), h + 1);
      ASSERT_TRUE(r->SetCompatibility(subject, Compatibility::kNone).ok());
      const auto& steps = histories[h];
      for (size_t i = 0; i + 1 < steps.size(); ++i) this->Reg(subject, steps[i]);
      ASSERT_EQ(*r->SetCompatibility(subject, c.level), c.level);
      auto verdict = r->TestCompatibility(subject, std::nullopt, true, Tiny(steps.back()));
      ASSERT_TRUE(verdict.ok()) << verdict.status().ToString();
      EXPECT_EQ(verdict->compatible, want[h]) << subject;
      auto reg = r->Register(subject, Tiny(steps.back()));
      EXPECT_EQ(reg.ok(), want[h]) << subject << ": " << ErrorOf(reg);
      if (!reg.ok()) {
        EXPECT_EQ(RegistryErrorOf(reg.status()).error_code, kIncompatibleSchema);
        EXPECT_NE(
            ErrorOf(reg).find(fmt::format("compatibility: '{}'}}]", CompatibilityName(c.level))),
            std::string::npos)
            << ErrorOf(reg);
      }
    }
  }
}

TYPED_TEST(RegistryConformance, ConfigPerSubjectThenGlobalThenBackward) {
  auto& r = this->registry_;
  EXPECT_EQ(*r->GetCompatibility(std::nullopt, false), Compatibility::kBackward);
  EXPECT_EQ(ErrorOf(r->GetCompatibility("s", false)),
            "40408 Subject 's' does not have subject-level compatibility configured");
  EXPECT_EQ(*r->GetCompatibility("s", true), Compatibility::kBackward);
  EXPECT_EQ(*r->SetCompatibility(std::nullopt, Compatibility::kNone), Compatibility::kNone);
  EXPECT_EQ(*r->GetCompatibility("s", true), Compatibility::kNone);
  EXPECT_EQ(*r->SetCompatibility("s", Compatibility::kFull), Compatibility::kFull);
  EXPECT_EQ(*r->GetCompatibility("s", false), Compatibility::kFull);
  // The subject's level decides: FULL refuses what the global NONE would take.
  this->Reg("s", "a");
  EXPECT_EQ(RegistryErrorOf(r->Register("s", Tiny("b")).status()).error_code, 409);
  this->Reg("other", "a");
  EXPECT_EQ(this->Reg("other", "b"), 2);

  EXPECT_EQ(*r->DeleteCompatibility("s"), Compatibility::kFull);
  EXPECT_EQ(ErrorOf(r->DeleteCompatibility("s")),
            "40408 Subject 's' does not have subject-level compatibility configured");
  EXPECT_EQ(*r->DeleteCompatibility(std::nullopt), Compatibility::kNone);
  EXPECT_EQ(*r->GetCompatibility(std::nullopt, false), Compatibility::kBackward);
  EXPECT_EQ(ErrorOf(r->SetCompatibility("", Compatibility::kFull)),
            "42208 The specified subject '' is not a valid.");
}

TYPED_TEST(RegistryConformance, TwoOpensOfOneDatabaseShareIdsAndSettings) {
  auto other = this->Open();
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(this->Reg("s", "a"), 1);
  auto again = other->Register("t", Tiny("a"));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, 1);
  EXPECT_EQ(*other->Register("t", Tiny("a z=1")), 2);
  EXPECT_EQ(*this->registry_->SubjectsById(1, false), (std::vector<std::string>{"s", "t"}));
  ASSERT_TRUE(other->SetCompatibility("s", Compatibility::kForward).ok());
  EXPECT_EQ(*this->registry_->GetCompatibility("s", false), Compatibility::kForward);

  // A read answered before another connection's delete is not answered again after it.
  EXPECT_EQ(other->SchemaById(2)->schema.schema, "a z=1");
  EXPECT_EQ(*other->SubjectsById(1, false), (std::vector<std::string>{"s", "t"}));
  ASSERT_EQ(*this->registry_->DeleteVersion("t", 2, false), 2);
  ASSERT_EQ(*this->registry_->DeleteSubject("s", false), std::vector<int32_t>{1});
  EXPECT_EQ(*other->SubjectsById(1, false), std::vector<std::string>{"t"});
  EXPECT_EQ(other->SchemaById(2)->schema.schema, "a z=1");  // soft deleted: still readable
  ASSERT_EQ(*this->registry_->DeleteVersion("t", 2, true), 2);
  EXPECT_EQ(ErrorOf(other->SchemaById(2)), "40403 Schema 2 not found");
  EXPECT_EQ(ErrorOf(other->VersionsById(2, true)), "40403 Schema 2 not found");
}

}  // namespace
}  // namespace dataforge::registry
