// Confluent Schema Registry's error texts (rest/exceptions/Errors.java and the exceptions it
// makes), with their codes: clients show them to users, so they are kept word for word.
#include <fmt/format.h>

#include "registry/registry_error.h"
#include "registry/registry_impl.h"

namespace dataforge::registry {

Status SubjectNotFound(std::string_view subject) {
  return RegistryStatus(kSubjectNotFound, fmt::format("Subject '{}' not found.", subject));
}

Status VersionNotFound(std::optional<int32_t> version) {
  return RegistryStatus(kVersionNotFound,
                        fmt::format("Version {} not found.",
                                    version ? std::to_string(*version) : std::string("latest")));
}

Status SchemaNotFound(std::optional<int64_t> id) {
  if (!id) return RegistryStatus(kSchemaNotFound, "Schema not found");
  return RegistryStatus(kSchemaNotFound, fmt::format("Schema {} not found", *id));
}

Status SubjectSoftDeleted(std::string_view subject) {
  return RegistryStatus(kSubjectSoftDeleted,
                        fmt::format("Subject '{}' was soft deleted.Set permanent=true to delete "
                                    "permanently",
                                    subject));
}

Status SubjectNotSoftDeleted(std::string_view subject) {
  return RegistryStatus(kSubjectNotSoftDeleted,
                        fmt::format("Subject '{}' was not deleted first before being permanently "
                                    "deleted",
                                    subject));
}

Status VersionSoftDeleted(std::string_view subject, int32_t version) {
  return RegistryStatus(kSchemaVersionSoftDeleted,
                        fmt::format("Subject '{}' Version {} was soft deleted.Set permanent=true "
                                    "to delete permanently",
                                    subject, version));
}

Status VersionNotSoftDeleted(std::string_view subject, int32_t version) {
  return RegistryStatus(kSchemaVersionNotSoftDeleted,
                        fmt::format("Subject '{}' Version {} was not deleted first before being "
                                    "permanently deleted",
                                    subject, version));
}

Status InvalidVersion(int32_t version) {
  return RegistryStatus(kInvalidVersion,
                        fmt::format("The specified version '{}' is not a valid version id. "
                                    "Allowed values are between [1, 2^31-1] and the string "
                                    "\"latest\"",
                                    version));
}

Status InvalidSubject(std::string_view subject) {
  return RegistryStatus(kInvalidSubject,
                        fmt::format("The specified subject '{}' is not a valid.", subject));
}

Status ReferenceExists(std::string_view subject, int32_t version) {
  return RegistryStatus(kReferenceExists,
                        fmt::format("One or more references exist to the schema "
                                    "{{magic=1,keytype=SCHEMA,subject={},version={}}}.",
                                    subject, version));
}

// Confluent names the context after "in context": empty for the default one.
Status ReadOnlyMode(std::string_view subject) {
  return RegistryStatus(kOperationNotPermitted,
                        fmt::format("Subject {} in context  is in read-only mode", subject));
}

// As Confluent's QualifiedSubject.isValidSubject: no control character (Java's ISO control set,
// U+0000-U+001F and U+007F-U+009F), not its reserved names; and not empty.
std::optional<Status> CheckSubject(std::string_view subject) {
  if (subject.empty() || subject == "__GLOBAL" || subject == "__EMPTY") {
    return InvalidSubject(subject);
  }
  for (size_t i = 0; i < subject.size(); ++i) {
    const auto u = static_cast<unsigned char>(subject[i]);
    const bool c1 = u == 0xc2 && i + 1 < subject.size() &&
                    static_cast<unsigned char>(subject[i + 1]) >= 0x80 &&
                    static_cast<unsigned char>(subject[i + 1]) <= 0x9f;
    if (u < 0x20 || u == 0x7f || c1) return InvalidSubject(subject);
  }
  return std::nullopt;
}

}  // namespace dataforge::registry
