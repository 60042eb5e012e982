// /registry/subjects/...: list, lookup, register, versions, delete, raw schema, referencedby.
#include <fmt/format.h>

#include "common/json_writer.h"
#include "serve/registry/registry_json.h"
#include "serve/registry/route_helpers.h"

namespace dataforge::serve_registry {
namespace {

using http::ApiRequest;
using http::ApiResponse;
using registry::SchemaRegistry;

ApiResponse ListSubjects(const ApiRequest& req, SchemaRegistry* reg) {
  return Answer(req, [&]() -> Result<ApiResponse> {
    const std::string* prefix = req.Query("subjectPrefix");
    DF_ASSIGN_OR_RETURN(auto subjects,
                        reg->Subjects(BoolParam(req, "deleted"), prefix ? *prefix : ""));
    std::vector<std::string> shown;
    for (auto& s : subjects) {
      if (MayRead(req, s)) shown.push_back(std::move(s));
    }
    return RegistryJson(StringArrayJson(shown));
  });
}

ApiResponse Lookup(const ApiRequest& req, SchemaRegistry* reg) {
  return Answer(req, [&]() -> Result<ApiResponse> {
    DF_ASSIGN_OR_RETURN(SchemaRequest body, ParseSchemaRequest(req.body));
    DF_ASSIGN_OR_RETURN(registry::SubjectVersion v,
                        reg->Lookup(SubjectParam(req), body.schema, BoolParam(req, "normalize"),
                                    BoolParam(req, "deleted")));
    return RegistryJson(SubjectVersionJson(v));
  });
}

ApiResponse Register(const ApiRequest& req, SchemaRegistry* reg) {
  return Answer(req, [&]() -> Result<ApiResponse> {
    DF_ASSIGN_OR_RETURN(SchemaRequest body, ParseSchemaRequest(req.body));
    registry::RegisterOptions options;
    options.normalize = BoolParam(req, "normalize");
    options.id = body.id;
    options.version = body.version;
    DF_ASSIGN_OR_RETURN(int64_t id, reg->Register(SubjectParam(req), body.schema, options));
    JsonObjectWriter w;
    w.Int("id", id);
    return RegistryJson(w.Finish());
  });
}

ApiResponse Versions(const ApiRequest& req, SchemaRegistry* reg) {
  return Answer(req, [&]() -> Result<ApiResponse> {
    DF_ASSIGN_OR_RETURN(auto versions, reg->Versions(SubjectParam(req), BoolParam(req, "deleted")));
    return RegistryJson(IntArrayJson(versions));
  });
}

ApiResponse GetVersion(const ApiRequest& req, SchemaRegistry* reg, bool raw_schema) {
  return Answer(req, [&]() -> Result<ApiResponse> {
    DF_ASSIGN_OR_RETURN(auto version, VersionParam(req));
    DF_ASSIGN_OR_RETURN(registry::SubjectVersion v,
                        reg->Version(SubjectParam(req), version, BoolParam(req, "deleted")));
    // .../schema: the schema's text as it is (Confluent answers it with the same content type).
    return RegistryJson(raw_schema ? v.schema.schema : SubjectVersionJson(v));
  });
}

ApiResponse ReferencedBy(const ApiRequest& req, SchemaRegistry* reg) {
  return Answer(req, [&]() -> Result<ApiResponse> {
    DF_ASSIGN_OR_RETURN(auto version, VersionParam(req));
    DF_ASSIGN_OR_RETURN(auto ids, reg->ReferencedBy(SubjectParam(req), version));
    return RegistryJson(IntArrayJson(ids));
  });
}

ApiResponse DeleteVersion(const ApiRequest& req, SchemaRegistry* reg) {
  return Answer(req, [&]() -> Result<ApiResponse> {
    DF_ASSIGN_OR_RETURN(auto version, VersionParam(req));
    DF_ASSIGN_OR_RETURN(int32_t deleted, reg->DeleteVersion(SubjectParam(req), version,
                                                            BoolParam(req, "permanent")));
    return RegistryJson(std::to_string(deleted));
  });
}

ApiResponse DeleteSubject(const ApiRequest& req, SchemaRegistry* reg) {
  return Answer(req, [&]() -> Result<ApiResponse> {
    DF_ASSIGN_OR_RETURN(auto versions,
                        reg->DeleteSubject(SubjectParam(req), BoolParam(req, "permanent")));
    return RegistryJson(IntArrayJson(versions));
  });
}

}  // namespace

void RegisterSubjectRoutes(http::ApiRouter* router, SchemaRegistry* reg) {
  router->Add("GET", Pattern("/subjects"), SubjectsFiltered(),
              [reg](const ApiRequest& req) { return ListSubjects(req, reg); });
  router->Add("POST", Pattern("/subjects/{subject}"), SubjectRead(),
              [reg](const ApiRequest& req) { return Lookup(req, reg); });
  router->Add("DELETE", Pattern("/subjects/{subject}"), SubjectWrite(),
              [reg](const ApiRequest& req) { return DeleteSubject(req, reg); });
  router->Add("GET", Pattern("/subjects/{subject}/versions"), SubjectRead(),
              [reg](const ApiRequest& req) { return Versions(req, reg); });
  router->Add("POST", Pattern("/subjects/{subject}/versions"), SubjectWrite(),
              [reg](const ApiRequest& req) { return Register(req, reg); });
  router->Add("GET", Pattern("/subjects/{subject}/versions/{version}"), SubjectRead(),
              [reg](const ApiRequest& req) { return GetVersion(req, reg, false); });
  router->Add("DELETE", Pattern("/subjects/{subject}/versions/{version}"), SubjectWrite(),
              [reg](const ApiRequest& req) { return DeleteVersion(req, reg); });
  router->Add("GET", Pattern("/subjects/{subject}/versions/{version}/schema"), SubjectRead(),
              [reg](const ApiRequest& req) { return GetVersion(req, reg, true); });
  router->Add("GET", Pattern("/subjects/{subject}/versions/{version}/referencedby"), SubjectRead(),
              [reg](const ApiRequest& req) { return ReferencedBy(req, reg); });
}

}  // namespace dataforge::serve_registry
