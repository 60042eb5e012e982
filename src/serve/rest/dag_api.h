// The DAG and run routes of pipeline_api.h (GET /v1/dags, POST /v1/dags/{dag}/runs,
// GET /v1/runs, GET /v1/runs/{run_id}). Internal to serve/rest.
#pragma once

#include "serve/rest/pipeline_api.h"

namespace dataforge::rest {

void RegisterDagRoutes(http::ApiRouter* router, const PipelineApiBackends& backends);

}  // namespace dataforge::rest
