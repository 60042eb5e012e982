#include "serve/rest/openapi.h"

#include <string>

namespace dataforge::rest {

void RegisterOpenApi(http::ApiRouter* router) {
  router->Add("GET", "/openapi.json", std::nullopt, [](const http::ApiRequest&) {
    return http::JsonResponse(std::string(OpenApiDocument()));
  });
}

}  // namespace dataforge::rest
