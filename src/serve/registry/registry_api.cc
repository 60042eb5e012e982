#include "serve/registry/registry_api.h"

#include "serve/registry/registry_json.h"
#include "serve/registry/route_helpers.h"

namespace dataforge::serve_registry {

void RegisterRegistryApi(http::ApiRouter* router, registry::SchemaRegistry* registry) {
  // GET /registry: Confluent's root answers {} (clients and load balancers probe it).
  router->Add("GET", std::string(kPathPrefix), SubjectsFiltered(),
              [](const http::ApiRequest&) { return RegistryJson("{}"); });
  RegisterSubjectRoutes(router, registry);
  RegisterSchemaRoutes(router, registry);
  RegisterConfigRoutes(router, registry);
}

}  // namespace dataforge::serve_registry
