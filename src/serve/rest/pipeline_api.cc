// GET /v1/status, /v1/topics and a partition's records; the dead-letter routes are in
// deadletter_api.cc, the DAG routes in dag_api.cc.
#include "serve/rest/pipeline_api.h"

#include <algorithm>
#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "common/json_or_string.h"
#include "common/json_writer.h"
#include "pipeline/log_format.h"
#include "pipeline/status_report.h"
#include "process/wire_decoder.h"
#include "schedule/schedule.h"
#include "serve/rest/dag_api.h"
#include "serve/rest/deadletter_api.h"
#include "serve/rest/query_params.h"

namespace dataforge::rest {
namespace {

using http::ApiRequest;
using http::ApiResponse;
using http::ErrorResponse;
using http::JsonResponse;
using http::ResponseOrError;

struct State {
  PipelineApiBackends b;
  std::mutex mu;  // serializes calls into b.staging and b.log, and the decoder
  std::unique_ptr<WireDecoder> decoder;  // log.format confluent-* (b.registry)
};

Status NeedLog(const State& s) {
  if (s.b.log) return Status::OK();
  return Status::Unavailable(
      "this data dir has no log yet (the pipeline never ran here): run it first (dataforge run)");
}

// Runs `fn` and turns an error Status into its response.

Result<ApiResponse> GetStatus(State& s, const ApiRequest& req) {
  DF_RETURN_IF_ERROR(CheckKnownParams(req, {}));
  DF_RETURN_IF_ERROR(NeedLog(s));
  if (s.b.store) DF_RETURN_IF_ERROR(s.b.store->Refresh());
  std::lock_guard lock(s.mu);
  DF_ASSIGN_OR_RETURN(auto st, ReadPipelineStatus(s.b.staging, *s.b.log, s.b.store, *s.b.config));
  return JsonResponse(PipelineStatusJson(st));
}

std::string PartitionJson(const PartitionInfo& p) {
  return JsonObjectWriter()
      .Int("partition", p.partition)
      .Int("start_offset", p.start_offset)
      .Int("end_offset", p.end_offset)
      .Finish();
}

Result<ApiResponse> GetTopics(State& s, const ApiRequest& req) {
  DF_RETURN_IF_ERROR(CheckKnownParams(req, {}));
  DF_RETURN_IF_ERROR(NeedLog(s));
  std::lock_guard lock(s.mu);
  DF_ASSIGN_OR_RETURN(auto names, s.b.log->ListTopics());
  std::sort(names.begin(), names.end());
  std::string topics = "[";
  for (const auto& name : names) {
    auto info = s.b.log->DescribeTopic(name);
    // Deleted between the list and now: not there any more.
    if (!info.ok() && info.status().code() == StatusCode::kNotFound) continue;
    DF_RETURN_IF_ERROR(info.status());
    std::string parts = "[";
    for (const auto& p : info->partitions) {
      if (parts.size() > 1) parts += ',';
      parts += PartitionJson(p);
    }
    parts += ']';
    if (topics.size() > 1) topics += ',';
    topics += JsonObjectWriter().String("topic", name).Raw("partitions", parts).Finish();
  }
  topics += ']';
  return JsonResponse(JsonObjectWriter().Raw("topics", topics).Finish());
}

// `decoder`: the pipeline's topic in a confluent log.format (value decoded, with its schema
// id and, when it does not decode, "value_error"); else null.
std::string RecordJson(const ConsumedRecord& c, WireDecoder* decoder) {
  std::string headers = JsonObjectOfStrings(c.record.headers);
  DisplayedValue value = DisplayLogValue(decoder, c.record);
  JsonObjectWriter w;
  w.Int("offset", c.offset)
      .Int("timestamp_us", c.record.timestamp_us)
      .String("key", c.record.key)
      .Raw("value", value.json)
      .Raw("headers", headers);
  if (value.schema_id >= 0) w.Int("schema_id", value.schema_id);
  if (!value.error.empty()) w.String("value_error", value.error);
  return w.Finish();
}

Result<ApiResponse> GetRecords(State& s, const ApiRequest& req) {
  DF_RETURN_IF_ERROR(CheckKnownParams(req, {"offset", "time", "limit"}));
  DF_RETURN_IF_ERROR(NeedLog(s));
  const std::string& topic = req.path_params.at("topic");
  const std::string& partition_text = req.path_params.at("partition");
  DF_ASSIGN_OR_RETURN(
      int64_t partition,
      ParseIntParam(fmt::format("partition '{}' in the path", partition_text), partition_text, 0));
  DF_ASSIGN_OR_RETURN(size_t limit, LimitParam(req));
  std::optional<int64_t> offset;
  if (const std::string* text = req.Query("offset")) {
    DF_ASSIGN_OR_RETURN(offset, ParseIntParam(fmt::format("offset={}", *text), *text, 0));
  }
  std::optional<int64_t> time_us;
  if (const std::string* text = req.Query("time")) {
    if (offset) {
      return Status::InvalidArgument("give offset= or time=, not both");
    }
    // A '+' of an offset sent unencoded arrives as a space (form decoding): no form of a time
    // has a space after its date, so it is the '+'.
    std::string instant = *text;
    if (size_t space = instant.find(' ', 11); space != std::string::npos) instant[space] = '+';
    auto t = ParseInstant(instant);
    if (!t.ok()) return Status::InvalidArgument(fmt::format("time={}", t.status().message()));
    time_us = *t;
  }
  std::lock_guard lock(s.mu);
  auto info = s.b.log->DescribeTopic(topic);
  if (!info.ok() && info.status().code() == StatusCode::kNotFound) {
    return Status::NotFound(fmt::format("no topic '{}'; see GET /v1/topics", topic));
  }
  DF_RETURN_IF_ERROR(info.status());
  const PartitionInfo* part = nullptr;
  for (const auto& p : info->partitions) {
    if (p.partition == partition) part = &p;
  }
  if (!part) {
    return Status::NotFound(
        fmt::format("topic '{}' has no partition {}; its partitions are 0 to {}", topic, partition,
                    info->partitions.size() - 1));
  }
  if (time_us) {
    DF_ASSIGN_OR_RETURN(offset,
                        s.b.log->OffsetForTime(topic, static_cast<int32_t>(partition), *time_us));
    // The partition may have grown since DescribeTopic: show no more than it had then.
    offset = std::clamp(*offset, part->start_offset, part->end_offset);
  }
  int64_t from = offset.value_or(part->start_offset);
  if (from < part->start_offset) {
    return ErrorResponse(
        410, "gone",
        fmt::format("offset {} of {}/{} was deleted by retention; the partition starts at offset "
                    "{} now",
                    from, topic, partition, part->start_offset));
  }
  if (from > part->end_offset) {
    return Status::InvalidArgument(
        fmt::format("offset={}: past the end of {}/{}, whose end offset (the next record's) is {}",
                    from, topic, partition, part->end_offset));
  }
  std::vector<ConsumedRecord> batch;
  int64_t next = from;
  std::string records = "[";
  // The log returns what one read holds; read on until `limit` or the end.
  while (batch.size() < limit && next < part->end_offset) {
    std::vector<ConsumedRecord> more;
    DF_RETURN_IF_ERROR(
        s.b.log->Read(topic, static_cast<int32_t>(partition), next, limit - batch.size(), &more));
    if (more.empty()) break;
    for (auto& c : more) {
      if (c.offset < next) continue;  // a read may start at the batch's base offset
      if (batch.size() >= limit) break;
      next = c.offset + 1;
      batch.push_back(std::move(c));
    }
  }
  for (const auto& c : batch) {
    if (records.size() > 1) records += ',';
    records += RecordJson(c, topic == s.b.config->log.topic ? s.decoder.get() : nullptr);
  }
  records += ']';
  JsonObjectWriter w;
  w.String("topic", topic)
      .Int("partition", partition)
      .Raw("records", records)
      .Int("next_offset", next)
      .Int("end_offset", part->end_offset);
  if (time_us) w.Int("seek_offset", from);
  return JsonResponse(w.Finish());
}

}  // namespace

void RegisterPipelineApi(http::ApiRouter* router, const PipelineApiBackends& backends) {
  auto s = std::make_shared<State>();
  s->b = backends;
  if (backends.registry != nullptr && backends.config->log.format != LogConfig::Format::kJson) {
    s->decoder = std::make_unique<WireDecoder>(backends.registry,
                                               LogSchemaType(backends.config->log.format));
  }
  http::RouteAccess pipeline_read{auth::ResourceKind::kPipeline, auth::Action::kRead, "", false};
  router->Add("GET", "/v1/status", pipeline_read, [s](const ApiRequest& req) {
    return ResponseOrError([&] { return GetStatus(*s, req); });
  });
  RegisterDeadLetterRoutes(router, backends, std::shared_ptr<std::mutex>(s, &s->mu));
  router->Add("GET", "/v1/topics", pipeline_read, [s](const ApiRequest& req) {
    return ResponseOrError([&] { return GetTopics(*s, req); });
  });
  router->Add(
      "GET", "/v1/topics/{topic}/partitions/{partition}/records", pipeline_read,
      [s](const ApiRequest& req) { return ResponseOrError([&] { return GetRecords(*s, req); }); });
  RegisterDagRoutes(router, backends);
}

}  // namespace dataforge::rest
