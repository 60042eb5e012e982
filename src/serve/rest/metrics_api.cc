#include "serve/rest/metrics_api.h"

#include <optional>

namespace dataforge::rest {

void RegisterMetricsApi(http::ApiRouter* router, const metrics::MetricsExporter* exporter,
                        bool open) {
  std::optional<http::RouteAccess> access;
  if (!open)
    access = http::RouteAccess{auth::ResourceKind::kPipeline, auth::Action::kRead, "", false};
  router->Add("GET", "/metrics", access, [exporter](const http::ApiRequest&) {
    http::ApiResponse r;
    r.content_type = metrics::kMetricsContentType;
    r.body = exporter->Scrape();
    return r;
  });
}

}  // namespace dataforge::rest
