// The processing stage as one construction path for `reprocess` (pipeline/reprocess.h): the
// processor, its mapper, its wire decoder, process.schema's validator and its BatchStages
// (process.outputs' derived tables, process.aggregates). `run` builds the same parts in
// pipeline.cc (its topic outputs need the run's own producer); keep the two in step.
// Not thread-safe: call from the thread that then drives the processor.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "config/pipeline_config.h"
#include "log/log.h"
#include "process/aggregate/aggregate_probe.h"
#include "process/batch_stage.h"
#include "process/mapper.h"
#include "process/outputs/outputs_stage.h"
#include "process/processor.h"
#include "process/wire_decoder.h"
#include "registry/schema_registry.h"
#include "store/store.h"

namespace dataforge {

// What BuildProcessor made. Members borrow from the ones declared before them (the processor
// from the mapper, the decoder and the stages), so the processor goes first when destroyed.
struct ProcessorParts {
  std::unique_ptr<registry::SchemaRegistry> registry;  // opened here when the caller had none
  std::unique_ptr<WireDecoder> decoder;                // log.format confluent-*
  std::unique_ptr<Mapper> mapper;
  AggregateProbe aggregates_probe;
  OutputsProbe outputs_probe;
  std::vector<std::unique_ptr<BatchStage>> stages;  // process.outputs, process.aggregates
  // The tables of those stages: derived tables, aggregate result and state tables.
  std::vector<std::string> stage_tables;
  std::unique_ptr<Processor> processor;
};

struct ProcessorSetup {
  const PipelineConfig* config = nullptr;  // borrowed; outlives the parts (the processor keeps
                                           // a reference to config->process)
  std::string staging_url;                 // where the schema registry lives
  Log* log = nullptr;                      // borrowed
  Store* store = nullptr;                  // borrowed
  size_t batch_records = 0;
  Clock* clock = nullptr;
  ProcessorProbe* probe = nullptr;
  // The caller's registry (borrowed; null = none open): used for log.format confluent-*, and
  // for process.schema when `registry_writable` (auto_register writes it).
  registry::SchemaRegistry* registry = nullptr;
  bool registry_writable = false;
  // Added after the pipeline's own stages, before Start (reprocess's truncate of --in-place).
  std::vector<BatchStage*> extra_stages;
  // The first batch applied empties the stages' tables (reprocess --in-place from the
  // beginning): the aggregates read none of their stored state until it is durable.
  bool stage_tables_emptied_first = false;
  // False: process.table is not written (Processor::LeaveTableUnwritten; a reprocess with
  // --tables that leaves it out).
  bool write_process_table = true;
};

// Builds and starts the processor of `setup.config` (Processor::Start: ensures its tables, joins
// config->process.group), then binds process.schema. Errors name the stage; a mapping or schema
// conflict is a ConfigError.
Result<std::unique_ptr<ProcessorParts>> BuildProcessor(const ProcessorSetup& setup);

}  // namespace dataforge
