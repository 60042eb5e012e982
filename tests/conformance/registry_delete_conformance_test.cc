// RegistryConformance: deletes, references, modes, limits, read-only opens
// (registry_conformance.h).
#include "conformance/registry_conformance.h"

namespace dataforge::registry {
namespace {

REGISTRY_CONFORMANCE_SUITE();

TYPED_TEST(RegistryConformance, DeleteIsSoftThenPermanentAndIdsAreNeverReused) {
  auto& r = this->registry_;
  EXPECT_EQ(this->Reg("s", "a"), 1);
  EXPECT_EQ(this->Reg("s", "a b=1"), 2);
  EXPECT_EQ(ErrorOf(r->DeleteVersion("s", 1, true)),
            "40407 Subject 's' Version 1 was not deleted first before being permanently deleted");
  EXPECT_EQ(*r->DeleteVersion("s", 1, false), 1);
  EXPECT_EQ(ErrorOf(r->DeleteVersion("s", 1, false)),
            "40406 Subject 's' Version 1 was soft deleted.Set permanent=true to delete "
            "permanently");
  EXPECT_EQ(this->VersionsOf("s"), std::vector<int32_t>{2});
  EXPECT_EQ(this->VersionsOf("s", true), (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(ErrorOf(r->Version("s", 1, false)), "40402 Version 1 not found.");
  auto deleted = r->Version("s", 1, true);
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(deleted->deleted);
  EXPECT_EQ(deleted->id, 1);
  // Soft-deleted: its id still answers.
  EXPECT_EQ(r->SchemaById(1)->schema.schema, "a");
  EXPECT_EQ(ErrorOf(r->SubjectsById(1, false)), "40403 Schema 1 not found");
  EXPECT_EQ(*r->SubjectsById(1, true), std::vector<std::string>{"s"});

  // Registering a soft-deleted schema again: a new version, the same id.
  EXPECT_EQ(this->Reg("s", "a"), 1);
  EXPECT_EQ(this->VersionsOf("s"), (std::vector<int32_t>{2, 3}));

  EXPECT_EQ(*r->DeleteVersion("s", 1, true), 1);
  EXPECT_EQ(ErrorOf(r->DeleteVersion("s", 1, true)), "40402 Version 1 not found.");
  EXPECT_EQ(*r->DeleteSubject("s", false), (std::vector<int32_t>{2, 3}));
  EXPECT_EQ(ErrorOf(r->DeleteSubject("s", false)),
            "40404 Subject 's' was soft deleted.Set permanent=true to delete permanently");
  EXPECT_EQ(*r->Subjects(false), std::vector<std::string>{});
  EXPECT_EQ(*r->Subjects(true), std::vector<std::string>{"s"});
  EXPECT_EQ(ErrorOf(r->Versions("s", false)), "40401 Subject 's' not found.");
  EXPECT_EQ(*r->DeleteSubject("s", true), (std::vector<int32_t>{2, 3}));
  EXPECT_EQ(*r->Subjects(true), std::vector<std::string>{});
  EXPECT_EQ(ErrorOf(r->DeleteSubject("s", true)), "40401 Subject 's' not found.");
  EXPECT_EQ(ErrorOf(r->SchemaById(1)), "40403 Schema 1 not found");
  EXPECT_EQ(ErrorOf(r->SchemaById(2)), "40403 Schema 2 not found");

  // A new schema gets a new id, never 1 or 2; the subject starts again at version 1.
  EXPECT_EQ(this->Reg("s", "z"), 3);
  EXPECT_EQ(this->VersionsOf("s"), std::vector<int32_t>{1});
  // A schema registered before gets its own id back (an id names one schema for ever).
  EXPECT_EQ(this->Reg("t", "a b=1"), 2);

  EXPECT_EQ(ErrorOf(r->DeleteSubject("s", true)),
            "40405 Subject 's' was not deleted first before being permanently deleted");
  EXPECT_EQ(ErrorOf(r->DeleteVersion("nobody", 1, false)), "40401 Subject 'nobody' not found.");
  EXPECT_EQ(ErrorOf(r->DeleteVersion("s", 9, false)), "40402 Version 9 not found.");
}

TYPED_TEST(RegistryConformance, ReferencesResolveInDependencyOrderAndPinWhatTheyName) {
  auto& r = this->registry_;
  EXPECT_EQ(this->Reg("base", "p"), 1);
  EXPECT_EQ(this->Reg("mid", "q @P", {{"P", "base", 1}}), 2);
  EXPECT_EQ(this->Reg("top", "t @Q", {{"Q", "mid", 1}}), 3);
  EXPECT_EQ(TinyAvro().LastReferences(), (std::vector<std::string>{"P", "Q"}));
  auto top = r->Version("top", std::nullopt, false);
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(top->schema.references, (std::vector<SchemaReference>{{"Q", "mid", 1}}));
  // The same text with other references is another schema.
  this->Reg("base", "p other=1");
  EXPECT_EQ(this->Reg("mid2", "q @P", {{"P", "base", 2}}), 5);
  // Version -1 (latest) is pinned to the version it means now: the same schema as mid2's.
  EXPECT_EQ(this->Reg("mid3", "q @P", {{"P", "base", -1}}), 5);
  EXPECT_EQ(r->Version("mid3", 1, false)->schema.references,
            (std::vector<SchemaReference>{{"P", "base", 2}}));
  EXPECT_EQ(ErrorOf(r->Register("x", Tiny("x @N", {{"N", "nope", -1}}))),
            "42201 Invalid schema: reference 'N' (subject 'nope' version latest) not found");

  EXPECT_EQ(*r->ReferencedBy("base", 1), std::vector<int64_t>{2});
  EXPECT_EQ(*r->ReferencedBy("mid", std::nullopt), std::vector<int64_t>{3});
  EXPECT_EQ(*r->ReferencedBy("top", 1), std::vector<int64_t>{});

  EXPECT_EQ(ErrorOf(r->DeleteVersion("base", 1, false)),
            "42206 One or more references exist to the schema "
            "{magic=1,keytype=SCHEMA,subject=base,version=1}.");
  EXPECT_EQ(ErrorOf(r->DeleteSubject("mid", false)),
            "42206 One or more references exist to the schema "
            "{magic=1,keytype=SCHEMA,subject=mid,version=1}.");
  // Once the referrer is soft deleted, a soft delete may go on; a permanent one may not.
  ASSERT_EQ(*r->DeleteSubject("top", false), std::vector<int32_t>{1});
  EXPECT_EQ(*r->ReferencedBy("mid", 1), std::vector<int64_t>{});
  EXPECT_EQ(*r->DeleteVersion("mid", 1, false), 1);
  EXPECT_EQ(ErrorOf(r->DeleteVersion("mid", 1, true)),
            "42206 One or more references exist to the schema "
            "{magic=1,keytype=SCHEMA,subject=mid,version=1}.");
  ASSERT_EQ(*r->DeleteSubject("top", true), std::vector<int32_t>{1});
  EXPECT_EQ(*r->DeleteVersion("mid", 1, true), 1);

  EXPECT_EQ(ErrorOf(r->Register("x", Tiny("x @N", {{"N", "nope", 1}}))),
            "42201 Invalid schema: reference 'N' (subject 'nope' version 1) not found");
  EXPECT_EQ(ErrorOf(r->Register("x", Tiny("x @P", {{"P", "base", 7}}))),
            "42201 Invalid schema: reference 'P' (subject 'base' version 7) not found");
  EXPECT_EQ(ErrorOf(r->Register("x", Tiny("x @P"))),
            "42201 Invalid schema: unresolved reference 'P'");
  EXPECT_EQ(ErrorOf(r->Parse(Tiny("x @N", {{"N", "nope", 1}}))),
            "42201 Invalid schema: reference 'N' (subject 'nope' version 1) not found");
  EXPECT_EQ(ErrorOf(r->Subjects(false)), "OK");
  EXPECT_EQ(*r->Subjects(false), (std::vector<std::string>{"base", "mid2", "mid3"}));
}

TYPED_TEST(RegistryConformance, ParsedByIdIsCachedAndAnswersForAReferencingSchema) {
  auto& r = this->registry_;
  this->Reg("base", "p");
  this->Reg("mid", "q @P", {{"P", "base", 1}});
  auto parsed = r->ParsedById(2);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ((*parsed)->canonical(), "q @P");
  EXPECT_EQ(r->ParsedById(2)->get(), parsed->get());  // the cached one
  EXPECT_EQ(ErrorOf(r->ParsedById(77)), "40403 Schema 77 not found");
}

TYPED_TEST(RegistryConformance, MalformedHugeAndBadNamesAreRefused) {
  auto small = this->Open(OpenMode::kReadWrite, TinyOptions(/*max_schema_bytes=*/64));
  ASSERT_NE(small, nullptr);
  EXPECT_EQ(ErrorOf(small->Register("s", Tiny(std::string(65, 'a')))),
            "42209 Register operation failed because schema is too large (65 bytes; the limit "
            "is 64)");
  EXPECT_EQ(ErrorOf(small->Register("s", Tiny(std::string(64, 'a')))), "OK");
  EXPECT_EQ(ErrorOf(this->registry_->Register("s", Tiny("a !b"))),
            "42201 Invalid schema: malformed token '!b' at 1");
  EXPECT_EQ(ErrorOf(this->registry_->Register("s", Tiny(""))),
            "42201 Invalid schema: the schema is empty");
  EXPECT_EQ(ErrorOf(this->registry_->Register("", Tiny("a"))),
            "42208 The specified subject '' is not a valid.");
  EXPECT_EQ(ErrorOf(this->registry_->Register("a\nb", Tiny("a"))),
            "42208 The specified subject 'a\nb' is not a valid.");
  EXPECT_EQ(ErrorOf(this->registry_->Register("__GLOBAL", Tiny("a"))),
            "42208 The specified subject '__GLOBAL' is not a valid.");
  EXPECT_EQ(ErrorOf(this->registry_->Register("a\xc2\x85"
                                              "b",
                                              Tiny("a"))),
            "42208 The specified subject 'a\xc2\x85"
            "b' is not a valid.");
  EXPECT_EQ(ErrorOf(this->registry_->Register("a\x7f", Tiny("a"))),
            "42208 The specified subject 'a\x7f' is not a valid.");
  EXPECT_EQ(RegistryErrorOf(this->registry_->Register("", Tiny("a")).status()).http_status, 422);
  // Other UTF-8 is a fine subject.
  EXPECT_EQ(this->Reg("ünïcødé-value", "u"), 2);
  // Nothing of the refused took an id.
  EXPECT_EQ(this->Reg("t", "ok"), 3);
}

TYPED_TEST(RegistryConformance, ReadOnlyModeRefusesWritesAndImportTakesGivenIds) {
  auto& r = this->registry_;
  EXPECT_EQ(this->Reg("s", "a"), 1);
  EXPECT_EQ(*r->GetMode(std::nullopt, false), Mode::kReadWrite);
  EXPECT_EQ(ErrorOf(r->GetMode("s", false)),
            "40409 Subject 's' does not have subject-level mode configured");
  ASSERT_EQ(*r->SetMode("s", Mode::kReadOnly, false), Mode::kReadOnly);
  EXPECT_EQ(*r->GetMode("s", false), Mode::kReadOnly);
  EXPECT_EQ(ErrorOf(r->Register("s", Tiny("a b=1"))),
            "42205 Subject s in context  is in read-only mode");
  EXPECT_EQ(ErrorOf(r->DeleteVersion("s", 1, false)),
            "42205 Subject s in context  is in read-only mode");
  EXPECT_EQ(ErrorOf(r->DeleteSubject("s", false)),
            "42205 Subject s in context  is in read-only mode");
  EXPECT_EQ(ErrorOf(r->SetCompatibility("s", Compatibility::kNone)),
            "42205 Subject s in context  is in read-only mode");
  EXPECT_EQ(ErrorOf(r->DeleteCompatibility("s")),
            "42205 Subject s in context  is in read-only mode");
  EXPECT_EQ(this->VersionsOf("s"), std::vector<int32_t>{1});  // nothing changed
  EXPECT_EQ(*r->DeleteMode("s"), Mode::kReadOnly);
  EXPECT_EQ(ErrorOf(r->DeleteMode("s")),
            "40409 Subject 's' does not have subject-level mode configured");
  EXPECT_EQ(this->Reg("s", "a b=1"), 2);

  // IMPORT: refused over live subjects unless forced; then only with a given id.
  EXPECT_EQ(ErrorOf(r->SetMode(std::nullopt, Mode::kImport, false)),
            "42205 Cannot import since found existing subjects");
  EXPECT_EQ(ErrorOf(r->SetMode("s", Mode::kImport, false)),
            "42205 Cannot import since found existing subjects");
  ASSERT_EQ(*r->SetMode("imp", Mode::kImport, false), Mode::kImport);
  EXPECT_EQ(ErrorOf(r->Register("imp", Tiny("q"))),
            "42205 Subject imp in context  is not in read-write mode");
  EXPECT_EQ(ErrorOf(r->Register("s", Tiny("q"),
                                RegisterOptions{.normalize = false, .id = 100, .version = 5})),
            "42205 Subject s in context  is not in import mode");
  EXPECT_EQ(
      *r->Register("imp", Tiny("q"), RegisterOptions{.normalize = false, .id = 100, .version = 5}),
      100);
  auto v = r->Version("imp", 5, false);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->id, 100);
  // Importing it again is a no-op; another schema under a taken id, or this one under another id,
  // is refused.
  EXPECT_EQ(
      *r->Register("imp", Tiny("q"), RegisterOptions{.normalize = false, .id = 100, .version = 5}),
      100);
  EXPECT_EQ(ErrorOf(r->Register("imp", Tiny("other"),
                                RegisterOptions{.normalize = false, .id = 1, .version = 6})),
            "42207 Overwrite new schema with id 1 in context  is not permitted.");
  EXPECT_EQ(ErrorOf(r->Register("imp", Tiny("q"),
                                RegisterOptions{.normalize = false, .id = 101, .version = 6})),
            "42207 The ID of an imported schema does not match the existing ID: the schema has "
            "id 100, not 101");
  EXPECT_EQ(
      ErrorOf(r->Register("imp", Tiny("big"),
                          RegisterOptions{.normalize = false, .id = 1LL << 31, .version = {}})),
      "42201 Invalid schema id 2147483648: ids are 1 to 2^31-1");
  // No compatibility check in IMPORT.
  EXPECT_EQ(
      *r->Register("imp", Tiny("zz"), RegisterOptions{.normalize = false, .id = 50, .version = 6}),
      50);
  ASSERT_EQ(*r->DeleteMode("imp"), Mode::kImport);
  // New ids continue after the largest, imported ones included.
  EXPECT_EQ(this->Reg("n", "fresh"), 101);
  EXPECT_EQ(*r->SetMode(std::nullopt, Mode::kImport, true), Mode::kImport);
  EXPECT_EQ(*r->GetMode("n", true), Mode::kImport);
}

TYPED_TEST(RegistryConformance, ReadOnlyOpenCreatesNothingAndSeesLaterWrites) {
  // A second backend: this one's database has the tables already (SetUp opened it).
  TypeParam fresh;
  auto reader = SchemaRegistry::Open(fresh.url(), OpenMode::kReadOnly, TinyOptions());
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_FALSE(fresh.Created()) << "kReadOnly created the database or its tables";
  EXPECT_EQ(*(*reader)->Subjects(true), std::vector<std::string>{});
  EXPECT_EQ(ErrorOf((*reader)->SchemaById(1)), "40403 Schema 1 not found");
  EXPECT_EQ(*(*reader)->GetCompatibility(std::nullopt, false), Compatibility::kBackward);
  EXPECT_EQ(ErrorOf((*reader)->Register("s", Tiny("a"))),
            "50001 registering a schema: the schema registry is open read-only");
  EXPECT_FALSE(fresh.Created());

  auto writer = SchemaRegistry::Open(fresh.url(), OpenMode::kReadWrite, TinyOptions());
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  EXPECT_TRUE(fresh.Created());
  ASSERT_EQ(*(*writer)->Register("s", Tiny("a")), 1);
  EXPECT_EQ(*(*reader)->Subjects(false), std::vector<std::string>{"s"});
  EXPECT_EQ((*reader)->SchemaById(1)->schema.schema, "a");
}

}  // namespace
}  // namespace dataforge::registry
