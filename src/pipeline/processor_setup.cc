#include "pipeline/processor_setup.h"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "pipeline/log_format.h"
#include "process/aggregate/aggregate_stage.h"
#include "process/outputs/outputs_stage.h"
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
  if (!setup.write_process_table) parts->processor->LeaveTableUnwritten();
  // process.outputs (derived tables only: a topic output is not this path's to publish; the
  // caller removes them) and process.aggregates, with their tables.
  int32_t partitions = config.log.partitions;
  if (auto info = setup.log->DescribeTopic(config.log.topic); info.ok()) {
    partitions = std::max(partitions, static_cast<int32_t>(info->partitions.size()));
  }
  if (!config.process.outputs.empty()) {
    for (const OutputSpec& o : config.process.outputs) {
      if (!o.topic.empty()) {
        return Status::InvalidArgument(
            fmt::format("processor setup: output topic '{}' is published only by `run`", o.topic));
      }
    }
    DF_ASSIGN_OR_RETURN(auto outputs,
                        OutputsStage::Create(config.process, setup.log, partitions, config.path,
                                             config.log.topic, setup.clock, &parts->outputs_probe));
    for (const TableSchema& schema : outputs->TableSchemas()) {
      DF_RETURN_IF_ERROR(setup.store->EnsureTable(schema));
      parts->stage_tables.push_back(schema.table);
    }
    parts->stages.push_back(std::move(outputs));
  }
  if (!config.process.aggregates.empty()) {
    DF_ASSIGN_OR_RETURN(
        auto aggregates,
        AggregateStage::Create(config.process, setup.store, setup.clock, config.log.topic,
                               partitions, &parts->aggregates_probe));
    DF_RETURN_IF_ERROR(aggregates->EnsureTables());
    for (std::string& table : aggregates->Tables()) parts->stage_tables.push_back(std::move(table));
    if (setup.stage_tables_emptied_first) aggregates->StartFromNoState();
    parts->stages.push_back(std::move(aggregates));
  }
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
