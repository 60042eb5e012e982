// GET /metrics: the exporter's scrape (metrics/metrics_exporter.h) in the Prometheus text
// format, Content-Type metrics::kMetricsContentType. Access: pipeline read, like the other
// pipeline endpoints; public (no credentials) when `open`: the server listens on loopback only
// (docs/security.md), so that a local Prometheus needs no secret.
//
// Thread-safety: the handler may run on several threads at once (Scrape() is thread-safe). The
// exporter must outlive the router's server.
#pragma once

#include "metrics/metrics_exporter.h"
#include "serve/http/api.h"

namespace dataforge::rest {

void RegisterMetricsApi(http::ApiRouter* router, const metrics::MetricsExporter* exporter,
                        bool open);

}  // namespace dataforge::rest
