#include "process/outputs/outputs_stage.h"

#include <utility>

#include <fmt/format.h>

#include "registry/wire_format.h"

namespace dataforge {
namespace {

// Whether this build's Mapper evaluates ProcessConfig::where (the expression language): a
// mapping with `where: "1 = 0"` must filter every record. Without it an output's `where` would
// be ignored, so it is refused instead.
bool MapperEvaluatesWhere() {
  ProcessConfig probe;
  probe.table = "probe.where";
  probe.key_column = "k";
  ColumnSpec k;
  k.name = "k";
  k.paths = {"$key"};
  probe.columns = {k};
  probe.where = "1 = 0";
  probe.where_line = 1;
  probe.where_column = 1;
  auto mapper = Mapper::Create(probe);
  if (!mapper.ok()) return false;
  MapResult m = mapper->Map("x", "{}");
  return m.ok && m.filtered;
}

}  // namespace

Result<std::unique_ptr<OutputsStage>> OutputsStage::Create(const ProcessConfig& config, Log* log,
                                                           int32_t partitions,
                                                           const std::string& file,
                                                           std::string topic, Clock* clock,
                                                           OutputsProbe* probe) {
  std::unique_ptr<OutputsStage> stage(new OutputsStage());
  stage->log_ = log;
  stage->topic_ = std::move(topic);
  stage->clock_ = clock;
  stage->partitions_ = partitions;
  stage->probe_ = probe;
  bool where_checked = false;
  for (const OutputSpec& o : config.outputs) {
    if (!o.topic.empty()) {
      TopicOutput t;
      t.spec = o;
      stage->topics_.push_back(std::move(t));
      continue;
    }
    if (!o.where.empty() && !where_checked) {
      if (!MapperEvaluatesWhere()) {
        return Status::ConfigError(fmt::format(
            "{}:{}: output table '{}' has 'where: {}', but this build cannot evaluate "
            "expressions (process.where): remove the output's where, or use a build with "
            "expressions",
            file, o.line, o.table, o.where));
      }
      where_checked = true;
    }
    // The derived table's mapping: the same record, its own columns, key and filter.
    ProcessConfig derived;
    derived.group = config.group;
    derived.table = o.table;
    derived.key_column = o.key_column;
    derived.columns = o.columns;
    derived.max_record_bytes = config.max_record_bytes;
    derived.delete_path = config.delete_path;
    derived.delete_value = config.delete_value;
    derived.where = o.where;
    derived.where_line = o.line;
    derived.where_column = o.where_column;
    auto mapper = Mapper::Create(derived);
    if (!mapper.ok()) {
      return Status::ConfigError(fmt::format("{}:{}: output table '{}': {}", file, o.line, o.table,
                                             mapper.status().message()));
    }
    stage->tables_.push_back({o, std::make_unique<Mapper>(std::move(mapper).value())});
  }
  return stage;
}

std::vector<TableSchema> OutputsStage::TableSchemas() const {
  std::vector<TableSchema> out;
  for (const DerivedTable& t : tables_) {
    TableSchema s;
    s.table = t.spec.table;
    s.key_column = t.spec.key_column;
    for (const ColumnSpec& c : t.spec.columns) s.columns.push_back({c.name, c.type});
    out.push_back(std::move(s));
  }
  return out;
}

Status CheckOutputs(const PipelineConfig& config) {
  for (const OutputSpec& o : config.process.outputs) {
    if (!o.topic.empty() && o.topic == config.log.topic) {
      return Status::ConfigError(fmt::format(
          "{}:{}: output topic '{}' is log.topic, the topic the processor reads: its rows would "
          "be read again as records; name another topic (e.g. {}_flat)",
          config.path, o.line, o.topic, o.topic));
    }
  }
  OutputsProbe probe;
  return OutputsStage::Create(config.process, nullptr, 1, config.path, config.log.topic, nullptr,
                              &probe)
      .status();
}

Status OutputsStage::CreateTopics() {
  for (const TopicOutput& t : topics_) {
    if (log_ == nullptr) return Status::FailedPrecondition("output topics need the pipeline's log");
    Status s = log_->CreateTopic(t.spec.topic, partitions_);
    if (!s.ok()) {
      return Status(s.code(), fmt::format("output topic '{}' (line {}): {}", t.spec.topic,
                                          t.spec.line, s.message()));
    }
  }
  return Status::OK();
}

void OutputsStage::SetEncoding(const std::string& topic, int64_t schema_id,
                               std::unique_ptr<registry::RecordCodec> codec) {
  for (TopicOutput& t : topics_) {
    if (t.spec.topic != topic) continue;
    t.schema_id = schema_id;
    t.codec = std::move(codec);
    return;
  }
}

Status OutputsStage::OnRow(const ConsumedRecord& record, const MapResult& mapped,
                           const RowWrite& row, StoreBatch* batch) {
  (void)mapped;  // its key and row were moved into `row`
  if (!topics_.empty()) {
    pending_.push_back({row.key, row.deleted ? std::string() : row.row_json,
                        record.record.timestamp_us, row.deleted});
  }
  if (tables_.empty()) return Status::OK();
  // `row` points into batch->rows: the rows below are added after it is last read.
  for (DerivedTable& t : tables_) {
    MapResult m = t.mapper->Map(record.record.key, record.record.value, clock_->NowMicros() / 1000,
                                record.record.timestamp_us);
    if (m.ok && m.filtered) {
      ++building_.filtered;
      continue;
    }
    if (!m.ok) {
      // The main mapping took the record (its row is in the batch): this output cannot. A
      // letter with the output, the record and the mapping's error; no row in that table.
      batch->dead_letters.push_back(
          {"process",
           fmt::format("output table '{}' (line {}): {}", t.spec.table, t.spec.line, m.error),
           fmt::format("{}/{}@{}", topic_, record.partition, record.offset), record.record.value,
           clock_->NowMicros(), record.record.key});
      ++building_.dead_lettered;
      continue;
    }
    RowWrite w{std::move(m.key), std::move(m.row_json), m.deleted};
    w.table = t.spec.table;
    batch->rows.push_back(std::move(w));
    ++building_.derived;
  }
  return Status::OK();
}

Status OutputsStage::Publish(TopicOutput& t) {
  std::vector<std::vector<LogRecord>> by_partition(static_cast<size_t>(partitions_));
  for (const Published& p : pending_) {
    DF_ASSIGN_OR_RETURN(int32_t partition, log_->PartitionFor(t.spec.topic, p.key));
    if (partition < 0 || partition >= partitions_) {
      return Status::Internal(fmt::format("output topic '{}': key '{}' maps to partition {} of {}",
                                          t.spec.topic, p.key, partition, partitions_));
    }
    LogRecord r;
    r.key = p.key;
    r.timestamp_us = p.timestamp_us;
    r.tombstone = p.deleted;  // Kafka: a null value, so compaction and sinks see a delete
    if (!p.deleted && t.spec.format != LogConfig::Format::kJson) {
      if (!t.codec) {
        return Status::FailedPrecondition(fmt::format(
            "output topic '{}': no schema for subject '{}'", t.spec.topic, t.spec.subject));
      }
      registry::AppendWireHeader(t.schema_id, &r.value);
      Status encoded = t.codec->Encode(p.value, &r.value);
      if (!encoded.ok()) {
        return Status::InvalidArgument(fmt::format(
            "output topic '{}': row '{}' does not match schema id {} of subject '{}': {} (fix "
            "the subject's schema or process.columns)",
            t.spec.topic, p.key, t.schema_id, t.spec.subject, encoded.message()));
      }
    } else {
      r.value = p.value;
    }
    by_partition[static_cast<size_t>(partition)].push_back(std::move(r));
  }
  Status s = log_->AppendAll(t.spec.topic, by_partition);
  if (!s.ok()) {
    return Status(s.code(), fmt::format("publishing {} rows to output topic '{}': {}",
                                        pending_.size(), t.spec.topic, s.message()));
  }
  return Status::OK();
}

Status OutputsStage::BeforeApply(StoreBatch* batch) {
  (void)batch;
  applying_ = std::exchange(building_, {});  // counted once Apply succeeded
  if (pending_.empty()) return Status::OK();
  // Published and acknowledged before the store commits the offsets past these records.
  for (TopicOutput& t : topics_) {
    Status s = Publish(t);
    if (!s.ok()) {
      pending_.clear();
      return s;
    }
  }
  probe_->published += pending_.size() * topics_.size();
  pending_.clear();
  return Status::OK();
}

Status OutputsStage::AfterApply(const StoreBatch& batch) {
  (void)batch;
  probe_->derived_rows += applying_.derived;
  probe_->derived_dead_lettered += applying_.dead_lettered;
  probe_->derived_filtered += applying_.filtered;
  applying_ = {};
  return Status::OK();
}

}  // namespace dataforge
