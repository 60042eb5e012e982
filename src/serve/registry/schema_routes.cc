// /registry/schemas/...: a schema by id (+ raw text, subjects, versions) and the schema types.
#include <fmt/format.h>

#include "auth/access_policy.h"
#include "common/json_writer.h"
#include "registry/registry_error.h"
#include "serve/registry/registry_json.h"
#include "serve/registry/route_helpers.h"

namespace dataforge::serve_registry {
namespace {

using http::ApiRequest;
using http::ApiResponse;
using registry::SchemaRegistry;

// A schema is readable by a caller who may read some subject holding it (soft-deleted versions
// count: the id still answers for them). While auth is off, always.
Status CheckMayReadId(const ApiRequest& req, SchemaRegistry* reg, int64_t id) {
  if (req.policy == nullptr) return Status::OK();
  DF_ASSIGN_OR_RETURN(auto subjects, reg->SubjectsById(id, /*include_deleted=*/true));
  for (const auto& s : subjects) {
    if (MayRead(req, s)) return Status::OK();
  }
  return registry::RegistryStatus(
      registry::kForbidden,
      fmt::format("role '{}' may not read schema {}: it may read no subject that holds it "
                  "(grant subjects read in auth.roles.{})",
                  req.principal.role, id, req.principal.role));
}

ApiResponse SchemaById(const ApiRequest& req, SchemaRegistry* reg, bool raw_schema) {
  return Answer(req, [&]() -> Result<ApiResponse> {
    DF_ASSIGN_OR_RETURN(int64_t id, IdParam(req));
    const std::string* subject = raw_schema ? nullptr : req.Query("subject");
    std::optional<std::string_view> in_subject;
    if (subject != nullptr && !subject->empty()) in_subject = *subject;
    DF_ASSIGN_OR_RETURN(registry::SchemaRecord record, reg->SchemaById(id, in_subject));
    DF_RETURN_IF_ERROR(CheckMayReadId(req, reg, id));
    return RegistryJson(raw_schema ? record.schema.schema : SchemaRecordJson(record));
  });
}

ApiResponse SubjectsById(const ApiRequest& req, SchemaRegistry* reg) {
  return Answer(req, [&]() -> Result<ApiResponse> {
    DF_ASSIGN_OR_RETURN(int64_t id, IdParam(req));
    DF_ASSIGN_OR_RETURN(auto subjects, reg->SubjectsById(id, BoolParam(req, "deleted")));
    std::vector<std::string> shown;
    for (auto& s : subjects) {
      if (MayRead(req, s)) shown.push_back(std::move(s));
    }
    return RegistryJson(StringArrayJson(shown));
  });
}

ApiResponse VersionsById(const ApiRequest& req, SchemaRegistry* reg) {
  return Answer(req, [&]() -> Result<ApiResponse> {
    DF_ASSIGN_OR_RETURN(int64_t id, IdParam(req));
    DF_ASSIGN_OR_RETURN(auto versions, reg->VersionsById(id, BoolParam(req, "deleted")));
    std::string out = "[";
    bool first = true;
    for (const auto& [subject, version] : versions) {
      if (!MayRead(req, subject)) continue;
      JsonObjectWriter w;
      w.String("subject", subject).Int("version", version);
      if (!first) out += ',';
      first = false;
      out += w.Finish();
    }
    return RegistryJson(out + "]");
  });
}

}  // namespace

void RegisterSchemaRoutes(http::ApiRouter* router, SchemaRegistry* reg) {
  router->Add("GET", Pattern("/schemas/ids/{id}"), SubjectsFiltered(),
              [reg](const ApiRequest& req) { return SchemaById(req, reg, false); });
  router->Add("GET", Pattern("/schemas/ids/{id}/schema"), SubjectsFiltered(),
              [reg](const ApiRequest& req) { return SchemaById(req, reg, true); });
  router->Add("GET", Pattern("/schemas/ids/{id}/subjects"), SubjectsFiltered(),
              [reg](const ApiRequest& req) { return SubjectsById(req, reg); });
  router->Add("GET", Pattern("/schemas/ids/{id}/versions"), SubjectsFiltered(),
              [reg](const ApiRequest& req) { return VersionsById(req, reg); });
  router->Add("GET", Pattern("/schemas/types"), SubjectsFiltered(), [](const ApiRequest& req) {
    return Answer(req, []() -> Result<ApiResponse> { return RegistryJson(R"(["AVRO","JSON"])"); });
  });
}

}  // namespace dataforge::serve_registry
