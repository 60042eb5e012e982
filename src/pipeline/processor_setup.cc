#include "pipeline/processor_setup.h"

#include <spdlog/spdlog.h>

#include "pipeline/log_format.h"
#include "process/row_schema.h"

namespace dataforge {

Result<std::unique_ptr<ProcessorParts>> BuildProcessor(const ProcessorSetup& setup) {
  const PipelineConfig& config = *setup.config;
  auto parts = std::make_unique<ProcessorParts>();
  registry::SchemaRegistry* registry = setup.registry;
  if (config.log.format != LogConfig::Format::kJson) {
    // log.format confluent-*: values are decoded by their schema id (pipeline/log_format.h).
    if (registry == nullptr) {
      DF_ASSIGN_OR_RETURN(parts->registry,
                          registry::SchemaRegistry::Open(setup.staging_url, OpenMode::kReadOnly));
      registry = parts->registry.get();
    }
    parts->decoder = std::make_unique<WireDecoder>(registry, LogSchemaType(config.log.format));
  }
  DF_ASSIGN_OR_RETURN(auto mapper, Mapper::Create(config.process));
  parts->mapper = std::make_unique<Mapper>(std::move(mapper));
  parts->processor =
      std::make_unique<Processor>(setup.log, setup.store, parts->mapper.get(), config.process,
                                  config.log.topic, setup.batch_records, setup.clock, setup.probe);
  parts->processor->SetWireDecoder(parts->decoder.get());
  // process.outputs and process.aggregates: their BatchStages go into parts->stages here.
  for (auto& stage : parts->stages) parts->processor->AddStage(stage.get());
  for (BatchStage* stage : setup.extra_stages) parts->processor->AddStage(stage);
  // The table first (a conflict refuses the run before anything is registered), then
  // process.schema.
  DF_RETURN_IF_ERROR(parts->processor->Start());
  if (!config.process.schema.subject.empty()) {
    // process.schema: the registry lives in the staging database (auto_register writes it).
    if (registry == nullptr || (registry == setup.registry && !setup.registry_writable) ||
        (registry == parts->registry.get())) {
      DF_ASSIGN_OR_RETURN(parts->registry,
                          registry::SchemaRegistry::Open(setup.staging_url, OpenMode::kReadWrite));
      registry = parts->registry.get();
      if (parts->decoder) {
        parts->decoder = std::make_unique<WireDecoder>(registry, LogSchemaType(config.log.format));
        parts->processor->SetWireDecoder(parts->decoder.get());
      }
    }
    DF_ASSIGN_OR_RETURN(auto schema, BindRowSchema(registry, config.process, config.path));
    spdlog::info("processor: validating rows with {}", schema->Name());
    parts->processor->ValidateWith(std::move(schema));
  }
  return parts;
}

}  // namespace dataforge
