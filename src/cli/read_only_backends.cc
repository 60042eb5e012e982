#include "cli/read_only_backends.h"

#include <simdjson.h>

#include "common/json_writer.h"
#include "pipeline/data_dir.h"

namespace dataforge {

Result<std::unique_ptr<Staging>> OpenStagingForReading(const CliContext& ctx,
                                                       const PipelineConfig& config) {
  DF_RETURN_IF_ERROR(PrepareDataDir(ctx.data_dir, /*create=*/false));
  // A shared staging database keeps each data dir's outbox under the data dir's id.
  DF_ASSIGN_OR_RETURN(std::string instance, DataDirId(ctx.data_dir));
  return OpenStaging(ResolveUrls(config, ctx.data_dir).staging, OpenMode::kReadOnly,
                     config.staging.synchronous_full, instance);
}

Result<std::unique_ptr<Log>> OpenLogForReading(const CliContext& ctx,
                                               const PipelineConfig& config) {
  std::string url = ResolveUrls(config, ctx.data_dir).log;
  // A log outside the data dir (Kafka) needs no data dir to be read.
  if (url.rfind("kafka://", 0) != 0) {
    DF_RETURN_IF_ERROR(PrepareDataDir(ctx.data_dir, /*create=*/false));
  }
  LogOptions options;
  options.properties = config.log.properties;
  return OpenLog(url, OpenMode::kReadOnly, options);
}

Result<std::unique_ptr<Store>> OpenStoreForReading(const CliContext& ctx,
                                                   const PipelineConfig& config) {
  DF_RETURN_IF_ERROR(PrepareDataDir(ctx.data_dir, /*create=*/false));
  return OpenStore(ResolveUrls(config, ctx.data_dir).store, OpenMode::kReadOnly,
                   StoreOptionsFor(config.store));
}

void AppendJsonOrString(std::string* out, std::string_view text) {
  static thread_local simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::element doc;
  if (!text.empty() && parser.parse(padded).get(doc) == simdjson::SUCCESS) {
    out->append(text);
  } else {
    AppendJsonString(out, text);
  }
}

}  // namespace dataforge
