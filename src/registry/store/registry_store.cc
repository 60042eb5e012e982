// OpenRegistryStore (the backend named by the staging URL) and the row helpers both backends use.
#include "registry/store/registry_store.h"

#include <openssl/evp.h>

#include <fmt/format.h>
#include <simdjson.h>

#include "common/json_writer.h"
#include "registry/registry_error.h"
#include "registry/store/postgres/postgres_registry_store.h"
#include "registry/store/sqlite/sqlite_registry_store.h"
#include "staging/staging.h"

namespace dataforge::registry {

Result<std::unique_ptr<RegistryStore>> OpenRegistryStore(const std::string& staging_url,
                                                         OpenMode mode) {
  DF_ASSIGN_OR_RETURN(StagingUrl parsed, ParseStagingUrl(staging_url));
  if (parsed.postgres) return PostgresRegistryStore::Open(staging_url, mode);
  return SqliteRegistryStore::Open(parsed.sqlite_path, mode);
}

std::string SchemaFingerprint(SchemaType type, std::string_view canonical,
                              const std::vector<SchemaReference>& references) {
  // Length-prefixed parts: no two different inputs hash the same text.
  std::string input;
  auto part = [&](std::string_view s) {
    input += std::to_string(s.size());
    input.push_back(':');
    input.append(s);
  };
  part(SchemaTypeName(type));
  part(canonical);
  for (const SchemaReference& r : references) {
    part(r.name);
    part(r.subject);
    part(std::to_string(r.version));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(input.data(), input.size(), digest, &n, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

std::string ReferencesToJson(const std::vector<SchemaReference>& references) {
  std::string out = "[";
  for (const SchemaReference& r : references) {
    if (out.size() > 1) out.push_back(',');
    out += JsonObjectWriter()
               .String("name", r.name)
               .String("subject", r.subject)
               .Int("version", r.version)
               .Finish();
  }
  out.push_back(']');
  return out;
}

Result<std::vector<SchemaReference>> ReferencesFromJson(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element doc;
  auto bad = [&] {
    return Status::Corruption(
        fmt::format("registry references '{}' are not a JSON array of "
                    "{{name, subject, version}}",
                    json));
  };
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS || !doc.is_array()) return bad();
  std::vector<SchemaReference> out;
  for (simdjson::dom::element e : doc.get_array()) {
    std::string_view name, subject;
    int64_t version = 0;
    if (e["name"].get(name) != simdjson::SUCCESS ||
        e["subject"].get(subject) != simdjson::SUCCESS ||
        e["version"].get(version) != simdjson::SUCCESS) {
      return bad();
    }
    out.push_back({std::string(name), std::string(subject), static_cast<int32_t>(version)});
  }
  return out;
}

Status AsRegistryStatus(Status s) {
  if (s.ok()) return s;
  const std::string& m = s.message();
  size_t digits = 0;
  while (digits < m.size() && digits < 6 && m[digits] >= '0' && m[digits] <= '9') ++digits;
  if ((digits == 3 || digits == 5) && digits < m.size() && m[digits] == ' ') return s;
  const int code = s.code() == StatusCode::kDeadlineExceeded ? kOperationTimeout : kStoreError;
  return Status(s.code(), fmt::format("{} {}", code, m));
}

namespace {

class EmptyTxn final : public RegistryTxn {
 public:
  Result<std::optional<StoredSchema>> SchemaById(int64_t) override {
    return std::optional<StoredSchema>();
  }
  Result<std::optional<int64_t>> IdByFingerprint(const std::string&) override {
    return std::optional<int64_t>();
  }
  Result<int64_t> MaxId() override { return int64_t{0}; }
  Status InsertSchema(const StoredSchema&) override { return ReadOnly(); }
  Result<std::vector<StoredVersion>> SubjectVersions(std::string_view) override {
    return std::vector<StoredVersion>();
  }
  Result<std::vector<StoredVersion>> VersionsOfId(int64_t) override {
    return std::vector<StoredVersion>();
  }
  Result<std::vector<std::string>> Subjects(bool, std::string_view) override {
    return std::vector<std::string>();
  }
  Status PutVersion(const StoredVersion&) override { return ReadOnly(); }
  Status RemoveVersion(std::string_view, int32_t) override { return ReadOnly(); }
  Result<std::vector<StoredVersion>> Referrers(std::string_view, int32_t) override {
    return std::vector<StoredVersion>();
  }
  Result<std::optional<std::string>> GetSetting(Setting, std::string_view) override {
    return std::optional<std::string>();
  }
  Status PutSetting(Setting, std::string_view, const std::optional<std::string>&) override {
    return ReadOnly();
  }

 private:
  static Status ReadOnly() { return Status::Internal("the schema registry is open read-only"); }
};

}  // namespace

RegistryTxn& EmptyRegistryTxn() {
  static EmptyTxn txn;
  return txn;
}

}  // namespace dataforge::registry
