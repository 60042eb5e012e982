// GET /v1/deadletters and POST /v1/deadletters/replay (deadletter_api.h).
#include "serve/rest/deadletter_api.h"

#include <simdjson.h>

#include <fmt/format.h>

#include "common/dead_letter_reason.h"
#include "common/json_writer.h"
#include "pipeline/dead_letter_replay.h"
#include "pipeline/log_format.h"
#include "serve/rest/query_params.h"

namespace dataforge::rest {
namespace {

using http::ApiRequest;
using http::ApiResponse;
using http::JsonResponse;
using http::ResponseOrError;

struct State {
  PipelineApiBackends b;
  std::shared_ptr<std::mutex> staging_mu;
  std::mutex replay_mu;  // one replay request at a time
};

// One dead letter of the staging ("source") or the store ("process").
std::string DeadLetterJson(std::string_view stage, const StoredDeadLetter& d) {
  return JsonObjectWriter()
      .String("stage", stage)
      .Int("id", static_cast<int64_t>(d.id))
      .Int("at_us", d.letter.at_us)
      .String("reason", d.letter.reason)
      .String("reason_class", DeadLetterReasonClass(d.letter.reason))
      .String("location", d.letter.location)
      .String("raw", d.letter.payload)
      .Raw("replay", ReplayMarkerJson(d.replay))
      .Finish();
}

// Up to `want` letters after `after` of the class `reason` ("" = any), read page by page.
template <typename List>
Status ListFiltered(List&& list, uint64_t after, size_t want, const std::string& reason,
                    std::vector<StoredDeadLetter>* out) {
  const size_t page = std::max<size_t>(want, 256);
  for (;;) {
    std::vector<StoredDeadLetter> chunk;
    DF_RETURN_IF_ERROR(list(after, reason.empty() ? want : page, &chunk));
    if (chunk.empty()) return Status::OK();
    after = chunk.back().id;
    for (auto& d : chunk) {
      if (!reason.empty() && DeadLetterReasonClass(d.letter.reason) != reason) continue;
      out->push_back(std::move(d));
      if (out->size() >= want) return Status::OK();
    }
    if (reason.empty()) return Status::OK();
  }
}

// Both stages' dead letters merged oldest first (by at_us; the source's first on a tie), paged
// by a cursor holding the last id read from each stage.
Result<ApiResponse> GetDeadLetters(State& s, const ApiRequest& req) {
  DF_RETURN_IF_ERROR(CheckKnownParams(req, {"stage", "reason", "limit", "cursor"}));
  bool source = true, process = true;
  if (const std::string* stage = req.Query("stage")) {
    if (*stage != "source" && *stage != "process") {
      return Status::InvalidArgument(fmt::format(
          "stage={}: expected source (the staging's dead letters) or process (the store's)",
          *stage));
    }
    source = *stage == "source";
    process = *stage == "process";
  }
  std::string reason;
  if (const std::string* r = req.Query("reason")) {
    reason = *r;
    Status known = CheckReasonClass(reason);
    if (!known.ok() || reason.empty()) {
      return Status::InvalidArgument(
          fmt::format("reason={}: {}", reason,
                      known.ok() ? "empty; pass one of the classes or leave reason out"
                                 : std::string(known.message())));
    }
  }
  DF_ASSIGN_OR_RETURN(size_t limit, LimitParam(req));
  std::vector<int64_t> after = {0, 0};
  if (const std::string* cursor = req.Query("cursor")) {
    DF_ASSIGN_OR_RETURN(after, DecodeCursor("dl", *cursor, 2));
  }
  std::vector<StoredDeadLetter> from_source, from_process;
  if (source && s.b.staging) {
    std::lock_guard lock(*s.staging_mu);
    DF_RETURN_IF_ERROR(ListFiltered(
        [&](uint64_t a, size_t l, std::vector<StoredDeadLetter>* o) {
          return s.b.staging->ListDeadLetters(a, l, o);
        },
        static_cast<uint64_t>(after[0]), limit + 1, reason, &from_source));
  }
  if (process && s.b.store) {
    DF_RETURN_IF_ERROR(s.b.store->Refresh());
    DF_RETURN_IF_ERROR(ListFiltered(
        [&](uint64_t a, size_t l, std::vector<StoredDeadLetter>* o) {
          return s.b.store->ListDeadLetters(a, l, o);
        },
        static_cast<uint64_t>(after[1]), limit + 1, reason, &from_process));
  }
  std::string items = "[";
  size_t i = 0, j = 0;
  while (i + j < limit && (i < from_source.size() || j < from_process.size())) {
    bool take_source =
        j >= from_process.size() ||
        (i < from_source.size() && from_source[i].letter.at_us <= from_process[j].letter.at_us);
    if (items.size() > 1) items += ',';
    if (take_source) {
      items += DeadLetterJson("source", from_source[i]);
      after[0] = static_cast<int64_t>(from_source[i++].id);
    } else {
      items += DeadLetterJson("process", from_process[j]);
      after[1] = static_cast<int64_t>(from_process[j++].id);
    }
  }
  items += ']';
  bool more = i < from_source.size() || j < from_process.size();
  JsonObjectWriter w;
  w.Raw("dead_letters", items);
  if (more) {
    w.String("next_cursor", EncodeCursor("dl", after));
  } else {
    w.Null("next_cursor");
  }
  return JsonResponse(w.Finish());
}

// {"ids":["process:12","source:4"],"dry_run":false}: at least one id, each as ParseLetterId
// reads it; dry_run optional.
Result<std::vector<LetterId>> ReplayIds(const std::string& body, bool* dry_run) {
  static constexpr std::string_view kShape =
      "; send {\"ids\": [\"process:12\", ...], \"dry_run\": false}";
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::object obj;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS || doc.get_object().get(obj)) {
    return Status::InvalidArgument(fmt::format("request body: not a JSON object{}", kShape));
  }
  std::vector<LetterId> ids;
  bool seen = false;
  for (auto field : obj) {
    if (field.key == "dry_run") {
      if (field.value.get_bool().get(*dry_run)) {
        return Status::InvalidArgument(
            fmt::format("request body: dry_run is not true or false{}", kShape));
      }
      continue;
    }
    if (field.key != "ids") {
      return Status::InvalidArgument(
          fmt::format("request body: unknown field '{}'{}", field.key, kShape));
    }
    simdjson::dom::array array;
    if (field.value.get_array().get(array)) {
      return Status::InvalidArgument(fmt::format("request body: ids is not an array{}", kShape));
    }
    seen = true;
    for (auto item : array) {
      std::string_view text;
      if (item.get_string().get(text)) {
        return Status::InvalidArgument(
            fmt::format("request body: every id is a string like \"process:12\"{}", kShape));
      }
      DF_ASSIGN_OR_RETURN(LetterId id, ParseLetterId(text));
      ids.push_back(id);
    }
  }
  if (!seen || ids.empty()) {
    return Status::InvalidArgument(fmt::format("request body: no ids{}", kShape));
  }
  return ids;
}

std::string ResultJson(const ReplayResult& r) {
  JsonObjectWriter w;
  w.String("id", r.id).String("outcome", r.outcome);
  if (r.outcome == "stored") {
    w.String("key", r.key);
  } else {
    w.String("reason", r.reason);
  }
  return w.Finish();
}

Result<ApiResponse> ReplayDeadLetters(State& s, const ApiRequest& req) {
  DF_RETURN_IF_ERROR(CheckKnownParams(req, {}));
  bool dry_run = false;
  DF_ASSIGN_OR_RETURN(std::vector<LetterId> ids, ReplayIds(req.body, &dry_run));
  if (!s.b.store) {
    return Status::Unavailable(
        "this data dir has no store (a `run --role ingest` data dir): replay where the "
        "processor runs");
  }
  std::lock_guard replay_lock(s.replay_mu);
  std::lock_guard staging_lock(*s.staging_mu);
  DF_RETURN_IF_ERROR(s.b.store->Refresh());
  std::shared_ptr<const RowSchema> schema;
  if (!s.b.config->process.schema.subject.empty()) {
    // process.schema: validated like the processor does, with the schema the run bound (the
    // mapping's schema is looked up, never registered here).
    if (!s.b.registry) {
      return Status::Unavailable(
          "process.schema: this data dir has no staging database, so no schema registry to "
          "validate the replayed rows with");
    }
    DF_ASSIGN_OR_RETURN(schema, BindRowSchema(s.b.registry, s.b.config->process, s.b.config->path,
                                              /*may_register=*/false));
  }
  DF_ASSIGN_OR_RETURN(auto replayer, Replayer::Create(*s.b.config, s.b.store, s.b.staging,
                                                      s.b.clock, std::move(schema)));
  replayer->set_dry_run(dry_run);
  std::unique_ptr<WireDecoder> decoder;  // log.format confluent-*: see Replayer::SetWireDecoder
  if (s.b.registry != nullptr && s.b.config->log.format != LogConfig::Format::kJson) {
    decoder = std::make_unique<WireDecoder>(s.b.registry, LogSchemaType(s.b.config->log.format));
    replayer->SetWireDecoder(decoder.get());
  }
  DF_RETURN_IF_ERROR(replayer->Select(ids, /*all=*/false, ""));
  std::vector<ReplayResult> results;
  DF_RETURN_IF_ERROR(replayer->Run(&results));
  std::string items = "[";
  for (const auto& r : results) {
    if (items.size() > 1) items += ',';
    items += ResultJson(r);
  }
  items += ']';
  JsonObjectWriter w;
  w.Raw("results", items);
  if (dry_run) w.Bool("dry_run", true);  // nothing was written
  return JsonResponse(w.Finish());
}

}  // namespace

void RegisterDeadLetterRoutes(http::ApiRouter* router, const PipelineApiBackends& backends,
                              std::shared_ptr<std::mutex> staging_mu) {
  auto s = std::make_shared<State>();
  s->b = backends;
  s->staging_mu = std::move(staging_mu);
  http::RouteAccess pipeline_read{auth::ResourceKind::kPipeline, auth::Action::kRead, "", false};
  router->Add("GET", "/v1/deadletters", pipeline_read, [s](const ApiRequest& req) {
    return ResponseOrError([&] { return GetDeadLetters(*s, req); });
  });
  router->Add("POST", "/v1/deadletters/replay",
              http::RouteAccess{auth::ResourceKind::kDeadLetters, auth::Action::kReplay, "", true},
              [s](const ApiRequest& req) {
                return ResponseOrError([&] { return ReplayDeadLetters(*s, req); });
              });
}

}  // namespace dataforge::rest
