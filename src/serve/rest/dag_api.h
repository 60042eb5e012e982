// The DAG and run routes of pipeline_api.h (GET /v1/dags, POST /v1/dags/{dag}/runs,
// GET /v1/runs, GET /v1/runs/{run_id}) and, in dag_control_api.cc, the routes that act on DAGs
// and show them as a grid (pause, unpause, clear, grid, task detail). Internal to serve/rest.
#pragma once

#include "serve/rest/pipeline_api.h"

namespace dataforge::rest {

void RegisterDagRoutes(http::ApiRouter* router, const PipelineApiBackends& backends);
void RegisterDagControlRoutes(http::ApiRouter* router, const PipelineApiBackends& backends);

// One DAG as GET /v1/dags lists it (`dags list --json`): the pipeline file's DAG with the run
// store's pause state and newest run (the file's paused_on_create when there is no run store).
Result<std::string> DagObjectJson(const PipelineApiBackends& backends, const DagSpec& dag);

}  // namespace dataforge::rest
