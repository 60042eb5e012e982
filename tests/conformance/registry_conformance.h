// The SchemaRegistry contract (registry/schema_registry.h: Confluent's rules), checked over every
// backend of its store: SQLite (a staging.db in a temp dir) and PostgreSQL (a fresh database on
// the shared throwaway server). One suite RegistryConformance/* split by purpose:
//   registry_conformance_test.cc         ids, versions, dedup, lookup, compatibility, config
//   registry_delete_conformance_test.cc  deletes, references, modes, limits, read-only opens
//   registry_race_conformance_test.cc    two processes registering the same schema at once
//
// The rules are checked with TinyFormat, a test-only schema type (the real Avro and JSON Schema
// formats have their own tests): a schema is whitespace-separated fields, "name" (required) or
// "name=default"; "@Ref" needs a resolved reference named Ref; a token with '!' is malformed.
// Canonical text: the tokens joined by one space. The reader (newer) cannot read a writer that
// lacks one of its required fields: "reader field 'x' has no default and is missing in the
// writer".
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "conformance/shared_postgres.h"
#include "integration/subprocess.h"
#include "pg/pg_connection.h"
#include "registry/registry_error.h"
#include "registry/schema_registry.h"

namespace dataforge::registry {

class TinySchema final : public ParsedSchema {
 public:
  TinySchema(SchemaType type, std::string text, std::string canonical,
             std::vector<std::pair<std::string, bool>> fields)
      : type_(type),
        text_(std::move(text)),
        canonical_(std::move(canonical)),
        fields_(std::move(fields)) {}
  SchemaType type() const override { return type_; }
  const std::string& canonical() const override { return canonical_; }
  const std::string& text() const override { return text_; }
  std::vector<std::string> BackwardIncompatibilities(const ParsedSchema& previous) const override {
    const auto& writer = static_cast<const TinySchema&>(previous).fields_;
    std::vector<std::string> out;
    for (const auto& [name, has_default] : fields_) {
      bool found = false;
      for (const auto& w : writer) found = found || w.first == name;
      if (!found && !has_default) {
        out.push_back("reader field '" + name + "' has no default and is missing in the writer");
      }
    }
    return out;
  }
  std::unique_ptr<RecordValidator> NewValidator() const override { return nullptr; }
  std::unique_ptr<RecordCodec> NewCodec() const override { return nullptr; }

 private:
  SchemaType type_;
  std::string text_, canonical_;
  std::vector<std::pair<std::string, bool>> fields_;  // name, has a default
};

class TinyFormat final : public SchemaFormat {
 public:
  explicit TinyFormat(SchemaType type) : type_(type) {}
  SchemaType type() const override { return type_; }
  Result<std::shared_ptr<const ParsedSchema>> Parse(
      std::string_view schema, const std::vector<ResolvedReference>& references) const override {
    {
      std::lock_guard lock(mu_);
      last_references_.clear();
      for (const auto& r : references) last_references_.push_back(r.name);
    }
    std::istringstream in{std::string(schema)};
    std::string token, canonical;
    std::vector<std::pair<std::string, bool>> fields;
    for (int i = 0; in >> token; ++i) {
      if (token.find('!') != std::string::npos) {
        return Status::InvalidArgument("malformed token '" + token + "' at " + std::to_string(i));
      }
      if (token[0] == '@') {
        bool found = false;
        for (const auto& r : references) found = found || r.name == token.substr(1);
        if (!found)
          return Status::InvalidArgument("unresolved reference '" + token.substr(1) + "'");
      } else {
        const size_t eq = token.find('=');
        fields.emplace_back(token.substr(0, eq), eq != std::string::npos);
      }
      canonical += (canonical.empty() ? "" : " ") + token;
    }
    return std::shared_ptr<const ParsedSchema>(std::make_shared<TinySchema>(
        type_, std::string(schema), std::move(canonical), std::move(fields)));
  }
  // The names of the references the last Parse was given, in their order.
  std::vector<std::string> LastReferences() const {
    std::lock_guard lock(mu_);
    return last_references_;
  }

 private:
  SchemaType type_;
  mutable std::mutex mu_;
  mutable std::vector<std::string> last_references_;
};

inline TinyFormat& TinyAvro() {
  static TinyFormat f(SchemaType::kAvro);
  return f;
}
inline TinyFormat& TinyJson() {
  static TinyFormat f(SchemaType::kJson);
  return f;
}

inline RegistryOptions TinyOptions(size_t max_schema_bytes = 1 << 20) {
  RegistryOptions o;
  o.max_schema_bytes = max_schema_bytes;
  o.formats = [](SchemaType t) -> const SchemaFormat& {
    return t == SchemaType::kAvro ? TinyAvro() : TinyJson();
  };
  return o;
}

inline SchemaText Tiny(std::string text, std::vector<SchemaReference> refs = {},
                       SchemaType type = SchemaType::kAvro) {
  return SchemaText{type, std::move(text), std::move(refs)};
}

struct SqliteRegistryBackend {
  testing::TempDir dir;
  std::string url() { return "sqlite://" + dir.Sub("staging.db"); }
  bool Created() { return access(dir.Sub("staging.db").c_str(), F_OK) == 0; }
};

struct PostgresRegistryBackend {
  std::string db = testing::FreshPostgresDatabase();
  std::string url() { return db; }
  // Whether the registry's tables exist in the database.
  bool Created() {
    auto c = PgConnection::Connect(db, "registry conformance");
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return true;
    auto r = (*c)->Query("SELECT to_regclass('dataforge.registry_schemas') IS NOT NULL");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return !r.ok() || r->Text(0, 0) == "t";
  }
};

// "CODE message" of a failed result, or "OK".
template <typename R>
std::string ErrorOf(const R& r) {
  if (r.ok()) return "OK";
  RegistryError e = RegistryErrorOf(r.status());
  return std::to_string(e.error_code) + " " + e.message;
}

template <typename B>
class RegistryConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_ = Open();
    ASSERT_NE(registry_, nullptr);
  }

  std::unique_ptr<SchemaRegistry> Open(OpenMode mode = OpenMode::kReadWrite,
                                       RegistryOptions options = TinyOptions()) {
    auto r = SchemaRegistry::Open(backend_.url(), mode, options);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }

  // Registers and returns the id (0 and a test failure when refused).
  int64_t Reg(std::string_view subject, const std::string& text,
              std::vector<SchemaReference> refs = {}) {
    auto r = registry_->Register(subject, Tiny(text, std::move(refs)));
    EXPECT_TRUE(r.ok()) << subject << " '" << text << "': " << r.status().ToString();
    return r.ok() ? *r : 0;
  }

  std::vector<int32_t> VersionsOf(std::string_view subject, bool include_deleted = false) {
    auto r = registry_->Versions(subject, include_deleted);
    return r.ok() ? *r : std::vector<int32_t>{};
  }

  B backend_;
  std::unique_ptr<SchemaRegistry> registry_;
};

using RegistryBackends = ::testing::Types<SqliteRegistryBackend, PostgresRegistryBackend>;
class RegistryBackendNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, SqliteRegistryBackend> ? "Sqlite" : "Postgres";
  }
};

#define REGISTRY_CONFORMANCE_SUITE() \
  TYPED_TEST_SUITE(RegistryConformance, RegistryBackends, RegistryBackendNames)

}  // namespace dataforge::registry
