#include "pipeline/dead_letter_replay.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "common/dead_letter_reason.h"
#include "common/json_writer.h"
#include "common/record.h"
#include "common/timestamp.h"
#include "process/processor.h"

namespace dataforge {
namespace {

ReplayResult Refused(const LetterId& id, std::string reason) {
  return ReplayResult{id.Text(), "refused", "", std::move(reason)};
}

}  // namespace

Result<LetterId> ParseLetterId(std::string_view text) {
  LetterId id;
  std::string_view number = text;
  if (size_t colon = text.find(':'); colon != std::string_view::npos) {
    id.stage = std::string(text.substr(0, colon));
    number = text.substr(colon + 1);
  } else {
    id.stage = "process";
  }
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), id.id);
  if ((id.stage != "process" && id.stage != "source") || number.empty() || ec != std::errc() ||
      end != number.data() + number.size() || id.id == 0) {
    return Status::InvalidArgument(fmt::format(
        "dead letter id '{}': expected process:N (the store's letter N, as `deadletter list` "
        "shows it) or source:N (the staging's)",
        text));
  }
  return id;
}

Result<std::unique_ptr<Replayer>> Replayer::Create(const PipelineConfig& config, Store* store,
                                                   Staging* staging, Clock* clock,
                                                   std::shared_ptr<const RowSchema> schema) {
  std::unique_ptr<Replayer> r(new Replayer());
  r->config_ = &config;
  r->store_ = store;
  r->staging_ = staging;
  r->clock_ = clock;
  DF_ASSIGN_OR_RETURN(Mapper m, Mapper::Create(config.process));
  r->mapper_ = std::make_unique<Mapper>(std::move(m));
  if (schema) r->validator_ = std::make_unique<RowValidator>(std::move(schema));
  return r;
}

void Replayer::SetWireDecoder(WireDecoder* decoder) {
  decoder_ = decoder;
}

Status Replayer::Select(const std::vector<LetterId>& ids, bool all, const std::string& reason_class,
                        const std::string& stage) {
  selected_.clear();
  DF_RETURN_IF_ERROR(CheckReasonClass(reason_class));
  if (!stage.empty() && stage != "process" && stage != "source") {
    return Status::InvalidArgument(fmt::format("stage '{}' is not one of: process, source", stage));
  }
  auto keep = [&](const DeadLetter& d) {
    return reason_class.empty() || DeadLetterReasonClass(d.reason) == reason_class;
  };
  if (!all && !stage.empty()) {
    std::vector<std::string> other;
    for (const LetterId& id : ids) {
      if (id.stage != stage) other.push_back(id.Text());
    }
    if (!other.empty()) {
      return Status::InvalidArgument(fmt::format("--stage {}: {} {} not a {} letter", stage,
                                                 fmt::join(other, ", "),
                                                 other.size() == 1 ? "is" : "are", stage));
    }
  }
  if (all && stage == "source") {
    std::vector<StoredDeadLetter> source;
    if (staging_) DF_RETURN_IF_ERROR(staging_->ListDeadLetters(0, SIZE_MAX, &source));
    for (auto& d : source) {
      if (keep(d.letter)) selected_.push_back({LetterId{"source", d.id}, std::nullopt});
    }
    return Status::OK();
  }
  std::vector<StoredDeadLetter> letters;
  if (store_) DF_RETURN_IF_ERROR(store_->ListDeadLetters(0, 0, &letters));
  if (all) {
    for (auto& d : letters) {
      if (d.replay && d.replay->outcome == "stored") continue;
      if (!keep(d.letter)) continue;
      LetterId id{"process", d.id};
      selected_.push_back({id, std::move(d)});
    }
    return Status::OK();
  }
  std::map<uint64_t, const StoredDeadLetter*> by_id;
  for (const auto& d : letters) by_id[d.id] = &d;
  std::vector<std::string> unknown;
  std::vector<Selected> chosen;
  for (const LetterId& id : ids) {
    if (id.stage == "source") {
      bool exists = false;
      if (staging_) {
        std::vector<StoredDeadLetter> one;
        DF_RETURN_IF_ERROR(staging_->ListDeadLetters(id.id - 1, 1, &one));
        exists = !one.empty() && one[0].id == id.id;
        if (exists && !keep(one[0].letter)) continue;
      }
      if (!exists) {
        unknown.push_back(id.Text());
        continue;
      }
      chosen.push_back({id, std::nullopt});
      continue;
    }
    auto it = by_id.find(id.id);
    if (it == by_id.end()) {
      unknown.push_back(id.Text());
      continue;
    }
    if (!keep(it->second->letter)) continue;
    chosen.push_back({id, *it->second});
  }
  if (!unknown.empty()) {
    return Status::InvalidArgument(
        fmt::format("no dead letter {}: see `dataforge deadletter list` (ids are process:N for "
                    "the store's letters, source:N for the staging's)",
                    fmt::join(unknown, ", ")));
  }
  selected_ = std::move(chosen);
  return Status::OK();
}

Result<ReplayResult> Replayer::ReplayOne(const Selected& s) {
  const LetterId& id = s.id;
  if (!s.letter) {
    return Refused(id,
                   "a source-stage letter never reached the log, so there is no mapping to run "
                   "again: fix the source (or source.* settings) and fetch the record again");
  }
  const StoredDeadLetter& d = *s.letter;
  if (d.replay && d.replay->outcome == "stored") {
    return Refused(id, fmt::format("already replayed at {}: stored key {}",
                                   FormatTimestampMillis(d.replay->at_us / 1000), d.replay->key));
  }
  const std::string& reason = d.letter.reason;
  if (reason.starts_with("a broadcast record")) {
    return Refused(id,
                   "an out-of-place broadcast (a source truncate) is not a row: truncate the "
                   "table yourself if it should apply");
  }
  if (reason.starts_with("output table '") || reason.starts_with("aggregate ")) {
    // A letter of a BatchStage (process/batch_stage.h): the record itself is stored.
    return Refused(id,
                   "the record is stored in process.table; this letter is about one output "
                   "(a derived table or an aggregate) only: fix that output and rebuild it with "
                   "`dataforge reprocess`");
  }
  if (reason.find("exceeds process.max_record_bytes") != std::string::npos) {
    return Refused(id,
                   "the letter keeps only the first 1024 bytes of the record: raise "
                   "process.max_record_bytes and fetch the record again");
  }
  if (d.letter.key.empty()) {
    return Refused(id,
                   "the letter keeps no record key (written before dead letters kept one): fetch "
                   "the record again instead");
  }
  ReplayMarker marker;
  marker.at_us = clock_->NowMicros();
  DeadLetterReplay replay;
  replay.letter_id = d.id;
  replay.location = d.letter.location;
  ReplayResult result{id.Text(), "", "", ""};
  std::string_view payload = d.letter.payload;
  MapResult m;
  // A value the processor could not decode (log.format confluent-*): decoded again by its
  // schema id, which may be known now.
  std::optional<WireDecoder::Decoded> decoded;
  if (auto bytes = WireBytesOfPayload(payload)) {
    if (decoder_ == nullptr) {
      return Refused(id,
                     "the letter keeps a value in Confluent's wire format and log.format is json: "
                     "set log.format to the format the record was written in to replay it");
    }
    DF_ASSIGN_OR_RETURN(decoded, decoder_->Decode(*bytes));
    payload = decoded->json;
  }
  if (decoded && !decoded->ok) {
    m.error = decoded->reason;
  } else if (payload.size() > config_->process.max_record_bytes) {
    m.error = fmt::format("record of {} bytes exceeds process.max_record_bytes ({})",
                          payload.size(), config_->process.max_record_bytes);
  } else {
    // A letter keeps no log timestamp: `$timestamp` maps to null (docs/expressions.md).
    m = mapper_->Map(d.letter.key, payload);
  }
  if (m.ok && m.filtered) {
    // No row to store and no new reason: the letter stays as it is.
    return Refused(id,
                   "process.where does not keep the record now (it is filtered): nothing to "
                   "store");
  }
  if (m.ok && !m.deleted && validator_) {
    if (std::optional<std::string> failed = validator_->Check(m.row_json)) {
      m.ok = false;
      m.error = std::move(*failed);
    }
  }
  if (m.ok) {
    marker.outcome = "stored";
    marker.key = m.key;
    replay.table = config_->process.table;
    replay.row = RowWrite{m.key, std::move(m.row_json), m.deleted};
    if (m.every_column) replay.row.columns = mapper_->ColumnNames();
    result.outcome = "stored";
    result.key = m.key;
  } else {
    marker.outcome = "dead_lettered";
    marker.reason = m.error;
    result.outcome = "dead_lettered";
    result.reason = m.error;
  }
  if (dry_run_) return result;  // nothing written
  replay.marker = std::move(marker);
  Status applied = store_->ApplyReplay(replay);
  if (!applied.ok() && applied.code() == StatusCode::kFailedPrecondition &&
      applied.message().starts_with("already replayed")) {
    return Refused(id, applied.message());  // replayed by someone else since it was listed
  }
  DF_RETURN_IF_ERROR(applied);
  return result;
}

Status Replayer::Run(std::vector<ReplayResult>* out,
                     const std::function<void(size_t, size_t)>& progress) {
  if (!selected_.empty() && !dry_run_) {
    // The mapping may have gained columns since the processor made the table; and a store that
    // cannot be written (read-only next to a running pipeline) says so here, before any letter.
    DF_RETURN_IF_ERROR(store_->EnsureTable(OutputSchema(config_->process)));
  }
  for (size_t i = 0; i < selected_.size(); ++i) {
    DF_ASSIGN_OR_RETURN(ReplayResult r, ReplayOne(selected_[i]));
    out->push_back(std::move(r));
    if (progress) progress(i + 1, selected_.size());
  }
  return Status::OK();
}

std::string ReplayMarkerJson(const std::optional<ReplayMarker>& m) {
  if (!m) return "null";
  JsonObjectWriter w;
  w.Int("at_us", m->at_us).String("outcome", m->outcome).String("key", m->key);
  if (m->outcome != "stored") w.String("reason", m->reason);
  return w.Finish();
}

std::string ReplaySummary(const std::vector<ReplayResult>& results, bool dry_run) {
  size_t stored = 0, dead = 0, refused = 0;
  for (const auto& r : results) {
    if (r.outcome == "stored") ++stored;
    if (r.outcome == "dead_lettered") ++dead;
    if (r.outcome == "refused") ++refused;
  }
  return fmt::format("{} {}, {} {}, refused {} (of {} {})",
                     dry_run ? "dry run, nothing written: would store" : "stored", stored,
                     dry_run ? "would dead-letter again" : "dead-lettered again", dead, refused,
                     results.size(), results.size() == 1 ? "letter" : "letters");
}

}  // namespace dataforge
