#include "cli/served_pipeline.h"

#include <unistd.h>

#include "cli/read_only_backends.h"
#include "pipeline/data_dir.h"

namespace dataforge {

Result<std::unique_ptr<ServedPipeline>> ServedPipeline::Open(const CliContext& ctx,
                                                             const PipelineConfig& config,
                                                             Store* store) {
  std::unique_ptr<ServedPipeline> p(new ServedPipeline());
  p->config_ = config;
  auto staging = OpenStagingForReading(ctx, config);
  if (staging.ok()) {
    p->staging_ = std::move(staging).value();
  } else if (staging.status().code() != StatusCode::kNotFound) {
    return staging.status();
  }
  auto log = OpenLogForReading(ctx, config);
  if (log.ok()) {
    p->log_ = std::move(log).value();
  } else if (log.status().code() != StatusCode::kNotFound) {
    return log.status();
  }
  // The run store lives in the staging database; an embedded one only once the data dir has it.
  std::string url = ResolveUrls(config, ctx.data_dir).staging;
  if (url.rfind("sqlite://", 0) != 0 || access(url.substr(9).c_str(), F_OK) == 0) {
    DF_ASSIGN_OR_RETURN(p->runs_, OpenRunStore(url, OpenMode::kReadWrite));
  }
  // process.schema (replay validates); log.format confluent-* (the records endpoint decodes
  // the topic's values by schema id).
  if ((!config.process.schema.subject.empty() || config.log.format != LogConfig::Format::kJson) &&
      (url.rfind("sqlite://", 0) != 0 || access(url.substr(9).c_str(), F_OK) == 0)) {
    DF_ASSIGN_OR_RETURN(p->registry_, registry::SchemaRegistry::Open(url, OpenMode::kReadOnly));
  }
  p->backends_.config = &p->config_;
  p->backends_.registry = p->registry_.get();
  p->backends_.log = p->log_.get();
  p->backends_.staging = p->staging_.get();
  p->backends_.store = store;
  p->backends_.runs = p->runs_.get();
  return p;
}

}  // namespace dataforge
