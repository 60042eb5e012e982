// process.outputs (docs/pipeline-file.md "process.outputs") as a stage of the processor's batch
// (process/batch_stage.h):
//   - a derived table maps each kept record again with its own columns, key and `where`
//     (a second Mapper over the same raw record) and adds the row to the same StoreBatch with
//     RowWrite::table: it commits with the main rows and the offsets (exactly once into the
//     store, store.h). A record the main mapping took but a derived mapping cannot (a required
//     column it lacks, an expression error) gets a dead letter naming the output, in the same
//     batch, and no row in that table; it stays counted as stored (batch_stage.h);
//   - a topic output publishes the main mapped rows (process.table's) to a topic of the
//     pipeline's log, keyed by the row key, as JSON or in Confluent's wire format. At least once:
//     the rows are appended and acknowledged by the log in BeforeApply, before the store commits
//     the batch's offsets, so a crash at any point re-reads the records from the committed
//     offsets and publishes them again; the store's offsets never pass a row that was not
//     published. (After Apply would lose them: the processor resumes from the store's offsets,
//     not the log group's.) A row may therefore appear more than once, always with the same key
//     and value; a consumer that keeps the last value per key (a compacted topic, an upsert)
//     sees each row once. A delete (process.delete_when) is published as a tombstone (the key
//     with a null value on Kafka, LogRecord::tombstone; an empty value on the embedded log).
// Thread-compatible: the processor's thread calls it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "config/pipeline_config.h"
#include "log/log.h"
#include "process/batch_stage.h"
#include "process/mapper.h"
#include "process/outputs/outputs_probe.h"
#include "registry/schema_format.h"
#include "store/store.h"

namespace dataforge {

// The checks `config check` and `run` make of process.outputs beyond the file's syntax: an
// output topic is not log.topic; every derived mapping compiles (and its `where` can be
// evaluated). Derived tables map the JSON the main mapping read (BatchStage::OnRow), so they
// work over every log.format.
// ConfigError "FILE:LINE: what, how to fix".
Status CheckOutputs(const PipelineConfig& config);

class OutputsStage : public BatchStage {
 public:
  // Compiles the derived tables' mappings (ConfigError naming the output's line). `log` is
  // borrowed (topic outputs append to it; null: only checked, never run); `file` names the
  // pipeline file in errors; `topic` (the topic the processor reads) and `clock` (borrowed;
  // null only when never run) place and time dead letters.
  static Result<std::unique_ptr<OutputsStage>> Create(const ProcessConfig& config, Log* log,
                                                      int32_t partitions, const std::string& file,
                                                      std::string topic, Clock* clock,
                                                      OutputsProbe* probe);

  // The derived tables' schemas, for Store::EnsureTable at start.
  std::vector<TableSchema> TableSchemas() const;
  // The topic outputs: created on the log (with the pipeline's partition count) at start.
  Status CreateTopics();
  // Topic `topic` (a confluent format) encodes with schema `schema_id` and `codec`; call before
  // the first batch for every confluent topic output (the pipeline resolves the schema).
  void SetEncoding(const std::string& topic, int64_t schema_id,
                   std::unique_ptr<registry::RecordCodec> codec);

  Status OnRow(const ConsumedRecord& record, const MapResult& mapped, const RowWrite& row,
               StoreBatch* batch) override;
  Status BeforeApply(StoreBatch* batch) override;
  Status AfterApply(const StoreBatch& batch) override;

 private:
  struct DerivedTable {
    OutputSpec spec;
    std::unique_ptr<Mapper> mapper;
  };
  struct TopicOutput {
    OutputSpec spec;
    int64_t schema_id = 0;
    std::unique_ptr<registry::RecordCodec> codec;  // confluent formats
  };
  struct Published {
    std::string key, value;  // value: the row JSON ("" for a delete)
    int64_t timestamp_us = 0;
    bool deleted = false;
  };
  OutputsStage() = default;
  Status Publish(TopicOutput& t);

  Log* log_ = nullptr;
  int32_t partitions_ = 1;
  std::string topic_;
  Clock* clock_ = nullptr;
  OutputsProbe* probe_ = nullptr;
  std::vector<DerivedTable> tables_;
  std::vector<TopicOutput> topics_;
  std::vector<Published> pending_;  // this batch's main rows, for the topic outputs
  // What OnRow added to one batch; added to the probe once that batch is applied.
  struct BatchCounts {
    uint64_t derived = 0;        // derived rows
    uint64_t dead_lettered = 0;  // letters for records a derived mapping refused
    uint64_t filtered = 0;       // records an output's where kept out
  };
  BatchCounts building_;  // the batch OnRow adds to
  BatchCounts applying_;  // the batch between BeforeApply and AfterApply
};

}  // namespace dataforge
