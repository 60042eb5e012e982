// /registry/config, /registry/mode and /registry/compatibility: levels, modes and compatibility
// tests.
#include <fmt/format.h>

#include "common/json_writer.h"
#include "registry/registry_error.h"
#include "serve/registry/registry_json.h"
#include "serve/registry/route_helpers.h"

namespace dataforge::serve_registry {
namespace {

using http::ApiRequest;
using http::ApiResponse;
using registry::SchemaRegistry;

std::optional<std::string_view> SubjectOrGlobal(const ApiRequest& req) {
  auto it = req.path_params.find("subject");
  if (it == req.path_params.end()) return std::nullopt;
  return std::string_view(it->second);
}

ApiResponse One(std::string_view key, std::string_view value) {
  JsonObjectWriter w;
  w.String(key, value);
  return RegistryJson(w.Finish());
}

ApiResponse GetConfig(const ApiRequest& req, SchemaRegistry* reg) {
  return Answer(req, [&]() -> Result<ApiResponse> {
    DF_ASSIGN_OR_RETURN(
        auto level, reg->GetCompatibility(SubjectOrGlobal(req), BoolParam(req, "defaultToGlobal")));
    return One("compatibilityLevel", registry::CompatibilityName(level));
  });
}

ApiResponse PutConfig(const ApiRequest& req, SchemaRegistry* reg) {
  return Answer(req, [&]() -> Result<ApiResponse> {
    DF_ASSIGN_OR_RETURN(auto wanted, ParseConfigRequest(req.body));
    DF_ASSIGN_OR_RETURN(auto level, reg->SetCompatibility(SubjectOrGlobal(req), wanted));
    return One("compatibility", registry::CompatibilityName(level));
  });
}

ApiResponse DeleteConfig(const ApiRequest& req, SchemaRegistry* reg) {
  return Answer(req, [&]() -> Result<ApiResponse> {
    DF_ASSIGN_OR_RETURN(auto level, reg->DeleteCompatibility(SubjectOrGlobal(req)));
    return One("compatibilityLevel", registry::CompatibilityName(level));
  });
}

ApiResponse GetMode(const ApiRequest& req, SchemaRegistry* reg) {
  return Answer(req, [&]() -> Result<ApiResponse> {
    DF_ASSIGN_OR_RETURN(auto mode,
                        reg->GetMode(SubjectOrGlobal(req), BoolParam(req, "defaultToGlobal")));
    return One("mode", registry::ModeName(mode));
  });
}

ApiResponse PutMode(const ApiRequest& req, SchemaRegistry* reg) {
  return Answer(req, [&]() -> Result<ApiResponse> {
    DF_ASSIGN_OR_RETURN(auto wanted, ParseModeRequest(req.body));
    DF_ASSIGN_OR_RETURN(auto mode,
                        reg->SetMode(SubjectOrGlobal(req), wanted, BoolParam(req, "force")));
    return One("mode", registry::ModeName(mode));
  });
}

ApiResponse DeleteMode(const ApiRequest& req, SchemaRegistry* reg) {
  return Answer(req, [&]() -> Result<ApiResponse> {
    DF_ASSIGN_OR_RETURN(auto mode, reg->DeleteMode(SubjectParam(req)));
    return One("mode", registry::ModeName(mode));
  });
}

// {"is_compatible":b} and, with ?verbose=true, "messages" (also when empty). With verbose, an
// invalid schema is an answer (is_compatible false, its error as the message), as Confluent's.
ApiResponse TestCompatibility(const ApiRequest& req, SchemaRegistry* reg, bool one_version) {
  return Answer(req, [&]() -> Result<ApiResponse> {
    std::optional<int32_t> version;
    if (one_version) {
      DF_ASSIGN_OR_RETURN(version, VersionParam(req));
    }
    const bool verbose = BoolParam(req, "verbose");
    DF_ASSIGN_OR_RETURN(SchemaRequest body, ParseSchemaRequest(req.body));
    auto verdict = reg->TestCompatibility(SubjectParam(req), version, !one_version, body.schema);
    if (!verdict.ok()) {
      registry::RegistryError e = registry::RegistryErrorOf(verdict.status());
      if (!verbose || e.error_code != registry::kInvalidSchema) return verdict.status();
      verdict = registry::CompatibilityVerdict{false, {e.message}};
    }
    JsonObjectWriter w;
    w.Bool("is_compatible", verdict->compatible);
    if (verbose) w.Raw("messages", StringArrayJson(verdict->messages));
    return RegistryJson(w.Finish());
  });
}

}  // namespace

void RegisterConfigRoutes(http::ApiRouter* router, SchemaRegistry* reg) {
  auto get_config = [reg](const ApiRequest& req) { return GetConfig(req, reg); };
  auto put_config = [reg](const ApiRequest& req) { return PutConfig(req, reg); };
  auto delete_config = [reg](const ApiRequest& req) { return DeleteConfig(req, reg); };
  // The global level and mode: any caller reads them; only admin changes them.
  router->Add("GET", Pattern("/config"), SubjectsFiltered(), get_config);
  router->Add("PUT", Pattern("/config"), Admin(), put_config);
  router->Add("DELETE", Pattern("/config"), Admin(), delete_config);
  router->Add("GET", Pattern("/config/{subject}"), SubjectRead(), get_config);
  router->Add("PUT", Pattern("/config/{subject}"), SubjectWrite(), put_config);
  router->Add("DELETE", Pattern("/config/{subject}"), SubjectWrite(), delete_config);

  auto get_mode = [reg](const ApiRequest& req) { return GetMode(req, reg); };
  auto put_mode = [reg](const ApiRequest& req) { return PutMode(req, reg); };
  router->Add("GET", Pattern("/mode"), SubjectsFiltered(), get_mode);
  router->Add("PUT", Pattern("/mode"), Admin(), put_mode);
  router->Add("GET", Pattern("/mode/{subject}"), SubjectRead(), get_mode);
  router->Add("PUT", Pattern("/mode/{subject}"), SubjectWrite(), put_mode);
  router->Add("DELETE", Pattern("/mode/{subject}"), SubjectWrite(),
              [reg](const ApiRequest& req) { return DeleteMode(req, reg); });

  router->Add("POST", Pattern("/compatibility/subjects/{subject}/versions"), SubjectRead(),
              [reg](const ApiRequest& req) { return TestCompatibility(req, reg, false); });
  router->Add("POST", Pattern("/compatibility/subjects/{subject}/versions/{version}"),
              SubjectRead(),
              [reg](const ApiRequest& req) { return TestCompatibility(req, reg, true); });
}

}  // namespace dataforge::serve_registry
