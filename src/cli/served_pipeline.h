// The pipeline endpoints' stages for a serving command (`serve`, `run --http-port`): the data
// dir's staging and log opened read-only (as the inspection commands open them, never blocking
// a running pipeline), the served store, and the run store read-write (a trigger queues a run,
// as `dags trigger` does while a `run` holds the data dir).
#pragma once

#include <memory>

#include "cli/cli_context.h"
#include "serve/rest/pipeline_api.h"

namespace dataforge {

class ServedPipeline {
 public:
  // `store`: the served store (borrowed; may be null for an ingest role's data dir). A stage
  // that is absent (a role's data dir, a run store no scheduler made yet) is left out: its
  // routes answer as pipeline_api.h says (a data dir that never ran has no log yet).
  static Result<std::unique_ptr<ServedPipeline>> Open(const CliContext& ctx,
                                                      const PipelineConfig& config, Store* store);
  const rest::PipelineApiBackends& backends() const { return backends_; }

 private:
  ServedPipeline() = default;
  PipelineConfig config_;
  std::unique_ptr<Staging> staging_;
  std::unique_ptr<Log> log_;
  std::unique_ptr<RunStore> runs_;
  std::unique_ptr<registry::SchemaRegistry> registry_;  // process.schema, log.format confluent-*
  rest::PipelineApiBackends backends_;
};

}  // namespace dataforge
