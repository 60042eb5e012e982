// A data dir filled by the real binary (`dataforge run`), served in-process: the routes the
// product registers (tables, pipeline, DAGs, /openapi.json) over the stages the serving
// commands open (cli/served_store.h, cli/served_pipeline.h), called through the real router.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "auth/access_policy.h"
#include "cli/cli_context.h"
#include "cli/served_pipeline.h"
#include "metrics/metrics_exporter.h"
#include "serve/http/api.h"
#include "store/store.h"

namespace dataforge::testing {

class ServedDataDir {
 public:
  // `config_path`: the pipeline file; `extra`: more CLI flags the data dir needs (--log ...).
  ServedDataDir(std::string config_path, std::string data_dir);
  ~ServedDataDir();

  // Opens the stages and registers every route; fails the test on an error.
  void Open();

  // Finds the route of `method` + `target` ("/v1/runs?dag=etl&limit=2") with the real router
  // and calls its handler (authentication off). 404/405 as the server answers them when no
  // route matches.
  http::ApiResponse Call(const std::string& method, const std::string& target,
                         const std::string& body = "") const;
  // The same, as `principal` under `policy` (what the server sets once it authenticated).
  http::ApiResponse CallAs(const auth::AccessPolicy* policy, const auth::Principal& principal,
                           const std::string& method, const std::string& target,
                           const std::string& body = "") const;

  // `dataforge ARGS... --config C --data-dir D`: stdout; fails the test on a non-zero exit.
  std::string Cli(std::vector<std::string> args) const;

  const http::ApiRouter& router() const { return router_; }
  const std::string& data_dir() const { return ctx_.data_dir; }
  const PipelineConfig& config() const { return config_; }

 private:
  CliContext ctx_;
  PipelineConfig config_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<ServedPipeline> pipeline_;
  metrics::MetricsExporter metrics_;
  http::ApiRouter router_;
};

// The error envelope's message ("" when the body is not one).
std::string ErrorMessage(const http::ApiResponse& r);

}  // namespace dataforge::testing
