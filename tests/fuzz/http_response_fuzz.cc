// libFuzzer target for the REST source's outside bytes: an HTTP response body goes through
// ResponseParser (source/http) and every record it yields through the record Mapper
// (process/mapper) under two mappings: the default pipeline's and one using every column type.
// Invariants beyond "no crash": every item is a record or a dead letter with a reason; a
// record's raw text is a JSON object and its key is non-empty; a mapped row is a JSON object
// and a refused record has a one-line error; no exception escapes.
//
// Seeds: tests/fuzz/corpus/http_response (randomuser responses of each API version). Run:
//   scripts/fuzz.sh 600 http_response
// or the binary on a copy of that directory (libFuzzer adds the inputs it finds to it).
#include <cstdint>
#include <string>
#include <vector>

#include "config/pipeline_file.h"
#include "fuzz_util.h"
#include "process/mapper.h"
#include "source/http/response_parser.h"

#include <simdjson.h>

namespace dataforge {
namespace {

constexpr const char* kTarget = "http_response_fuzz";

// Every column type over the randomuser fields, a template, and a delete marker.
constexpr const char* kTypedPipeline = R"(
process:
  table: t.users
  key_column: id
  delete_when: {path: status, equals: deleted}
  columns:
    - {name: id, type: uuid, path: [$key, login.uuid], required: true}
    - {name: age, type: int, path: [dob.age, registered.age]}
    - {name: number, type: bigint, path: location.street.number}
    - {name: lat, type: double, path: location.coordinates.latitude}
    - {name: ok, type: boolean, path: [flag, active]}
    - {name: born, type: timestamp, path: [dob.date, dob]}
    - {name: where, template: ["{location.city}/{location.postcode}", "{nat}"]}
)";

struct Targets {
  SourceConfig source;
  std::vector<Mapper> mappers;
};

Targets& Get() {
  static Targets* t = [] {
    auto* targets = new Targets;
    PipelineConfig def = DefaultPipelineConfig();
    targets->source = def.source;
    auto typed = ParsePipelineConfig(kTypedPipeline, "typed.yaml");
    fuzz::Check(typed.ok(), kTarget, "the typed pipeline parses: " + typed.status().ToString());
    for (const ProcessConfig* p : {&def.process, &typed->process}) {
      auto m = Mapper::Create(*p);
      fuzz::Check(m.ok(), kTarget, "mapper: " + m.status().ToString());
      targets->mappers.push_back(std::move(*m));
    }
    return targets;
  }();
  return *t;
}

void CheckMapped(Mapper& mapper, std::string_view key, std::string_view raw) {
  MapResult r = mapper.Map(key, raw);
  if (r.ok) {
    if (!r.deleted) {
      fuzz::Check(fuzz::IsJsonObject(r.row_json), kTarget,
                  "row is not a JSON object: " + r.row_json);
    }
    fuzz::Check(r.error.empty(), kTarget, "ok result with an error");
  } else {
    fuzz::Check(!r.error.empty(), kTarget, "refused record without an error");
    fuzz::Check(r.error.find('\n') == std::string::npos, kTarget, "error spans lines: " + r.error);
  }
}

void Run(const uint8_t* data, size_t size) {
  Targets& t = Get();
  const std::string body(reinterpret_cast<const char*>(data), size);
  ResponseParser parser(t.source);
  std::vector<PageItem> items;
  parser.Parse(body, "fuzz page 1", 1700000000000000, &items);
  for (const PageItem& item : items) {
    if (item.dead) {
      fuzz::Check(!item.letter.reason.empty() && item.letter.reason.find('\n') == std::string::npos,
                  kTarget, "dead letter reason empty or not one line: " + item.letter.reason);
      fuzz::Check(item.letter.payload.size() <= 64 * 1024, kTarget,
                  "dead letter payload not truncated");
      continue;
    }
    fuzz::Check(!item.record.key.empty(), kTarget, "record with an empty key");
    fuzz::Check(fuzz::IsJsonObject(item.record.raw), kTarget,
                "record is not a JSON object: " + item.record.raw);
    for (Mapper& m : t.mappers) CheckMapped(m, item.record.key, item.record.raw);
  }
  // Each record's raw text (its slice of the body) holds the same JSON as the DOM's element.
  simdjson::dom::parser dom;
  simdjson::dom::element doc;
  simdjson::dom::array results;
  if (dom.parse(body).get(doc) == simdjson::SUCCESS &&
      doc["results"].get_array().get(results) == simdjson::SUCCESS) {
    fuzz::Check(items.size() == results.size(), kTarget, "not one item per element of results");
    simdjson::dom::parser again;
    size_t i = 0;
    for (simdjson::dom::element rec : results) {
      const PageItem& item = items[i++];
      if (item.dead) continue;
      simdjson::dom::element back;
      fuzz::Check(again.parse(item.record.raw).get(back) == simdjson::SUCCESS, kTarget,
                  "raw does not parse: " + item.record.raw);
      fuzz::Check(simdjson::minify(back) == simdjson::minify(rec), kTarget,
                  "raw is not its record's JSON: " + item.record.raw);
    }
  }
  // The mapper also sees the whole body as one record (the processor gets whatever the log holds).
  for (Mapper& m : t.mappers) CheckMapped(m, "0b4e5d1c-9f0a-4b4e-8a3e-2d8f4c6b7a91", body);
}

}  // namespace
}  // namespace dataforge

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  DF_FUZZ_NO_EXCEPTIONS(dataforge::kTarget, dataforge::Run(data, size));
  return 0;
}
