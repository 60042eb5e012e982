// The pipeline's own state over HTTP (docs/serving.md "Pipeline endpoints"):
//   GET  /v1/status                                        what `dataforge status --json` prints
//   GET  /v1/deadletters?stage=&reason=&limit=&cursor=     both stages' dead letters, paged
//   POST /v1/deadletters/replay                            map letters again (body {"ids":[..]})
//   GET  /v1/topics                                        topics, partitions, start/end offsets
//   GET  /v1/topics/{topic}/partitions/{partition}/records?offset=&limit=
//                                                          log records, Kafka or embedded; with
//                                                          time= instead of offset=, from the
//                                                          first at or after it (seek_offset)
//   GET  /v1/dags                                          the pipeline file's DAGs and their state
//   POST /v1/dags/{dag}/runs                               queue a manual run (body {"conf":{..}})
//   GET  /v1/runs?dag=&limit=&cursor=                      runs, newest first, paged
//   GET  /v1/runs/{run_id}                                 one run with its tasks' states
//   and the DAG control routes of dag_api.h (pause, unpause, clear, grid, task detail)
// Access (auth/access.h): pipeline read for the first four; deadletters replay (audited) for
// the replay, which writes the store (409 while the served store is read-only); dags read for the
// DAG and run lists (each DAG's runs shown only to who may read that DAG) and trigger (audited) for
// POST; dags pause and clear (audited) for those routes. Every document of these routes is in
// serve/rest/openapi.json.
#pragma once

#include "common/clock.h"
#include "config/pipeline_config.h"
#include "log/log.h"
#include "orchestrate/state/run_store.h"
#include "registry/schema_registry.h"
#include "serve/http/api.h"
#include "staging/staging.h"
#include "store/store.h"

namespace dataforge::rest {

// The stages of one data dir, borrowed: each must outlive every request the router serves.
// Stages opened read-only next to a running pipeline (`dataforge serve`) are fine: the handlers
// call Store::Refresh() before reading the store.
struct PipelineApiBackends {
  const PipelineConfig* config = nullptr;  // required: the log topic, group, table and DAGs
  // Null when the data dir has no log yet (it never ran): status, topics and records answer 503.
  Log* log = nullptr;
  Staging* staging = nullptr;  // null for a `run --role process` data dir
  Store* store = nullptr;      // null for a `run --role ingest` data dir
  // Read-write: POST /v1/dags/{dag}/runs writes a run (as `dags trigger` does, also while a
  // `run` holds the data dir). Null when there is none: the DAG list comes from the pipeline
  // file alone, the run list is empty and a trigger is 503.
  RunStore* runs = nullptr;
  // The schema registry in the staging database: POST /v1/deadletters/replay validates with
  // process.schema; with log.format confluent-*, GET .../records decodes config->log.topic's
  // values (their JSON and schema id) and the replay decodes wire_format letters. Null when
  // the pipeline uses neither or the data dir has no staging database yet.
  registry::SchemaRegistry* registry = nullptr;
  Clock* clock = Clock::Real();
};

// Adds the routes above. Thread-safety: handlers may run on several threads at once; calls
// into the staging and the log are serialized (one mutex), the store and the run store are
// thread-safe themselves.
void RegisterPipelineApi(http::ApiRouter* router, const PipelineApiBackends& backends);

}  // namespace dataforge::rest
