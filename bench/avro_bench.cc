// The Avro record benchmark: RecordValidator::Validate, RecordCodec::Encode and Decode of one
// row shape, N times each, timed on its own; prints ns/record. Two rows: the default mapping's
// (12 nullable string columns, ~400 bytes of randomuser text, as process.schema validates it)
// and a mixed one (long, int, double, float, boolean, enum, nested record, array, map, union).
//
//   build/bench/avro_bench --records 200000
#include <CLI/CLI.hpp>
#include <chrono>
#include <string>

#include <fmt/format.h>

#include "registry/schema_format.h"

using namespace dataforge;
using namespace dataforge::registry;

namespace {

constexpr std::string_view kMappingSchema = R"({"type":"record","name":"created_users","fields":[
  {"name":"id","type":{"type":"string","logicalType":"uuid"}},
  {"name":"first_name","type":["null","string"],"default":null},
  {"name":"last_name","type":["null","string"],"default":null},
  {"name":"gender","type":["null","string"],"default":null},
  {"name":"address","type":["null","string"],"default":null},
  {"name":"post_code","type":["null","string"],"default":null},
  {"name":"email","type":["null","string"],"default":null},
  {"name":"username","type":["null","string"],"default":null},
  {"name":"dob","type":["null","string"],"default":null},
  {"name":"registered_date","type":["null","string"],"default":null},
  {"name":"phone","type":["null","string"],"default":null},
  {"name":"picture","type":["null","string"],"default":null}]})";
constexpr std::string_view kMappingRow =
    R"({"id":"5f0d4d0c-2b1e-4c8e-9d62-3c8f1b7a9e21","first_name":"Jennie","last_name":"Nichols",)"
    R"("gender":"female","address":"8929 Valwood Pkwy, Billings, Michigan, United States",)"
    R"("post_code":"63104","email":"jennie.nichols@example.com","username":"yellowpeacock117",)"
    R"("dob":"1992-03-08T15:13:16.688Z","registered_date":"2007-07-09T05:51:59.390Z",)"
    R"("phone":"(272) 790-0888","picture":"https://randomuser.me/api/portraits/med/men/75.jpg"})";

constexpr std::string_view kMixedSchema = R"({"type":"record","name":"User","fields":[
  {"name":"id","type":"long"},{"name":"name","type":"string"},{"name":"age","type":"int"},
  {"name":"score","type":"double"},{"name":"ratio","type":"float"},{"name":"active","type":"boolean"},
  {"name":"email","type":["null","string"],"default":null},
  {"name":"status","type":{"type":"enum","name":"Status","symbols":["ACTIVE","BLOCKED"]}},
  {"name":"location","type":{"type":"record","name":"Location","fields":[
     {"name":"city","type":"string"},{"name":"postcode","type":["null","int","string"]}]}},
  {"name":"tags","type":{"type":"array","items":"string"}},
  {"name":"attributes","type":{"type":"map","values":"long"}}]})";
constexpr std::string_view kMixedRow =
    R"({"id":42,"name":"Zoë","age":31,"score":1.5,"ratio":0.25,"active":true,)"
    R"("email":"z@example.com","status":"ACTIVE","location":{"city":"Oslo","postcode":"N-0150"},)"
    R"("tags":["a","b"],"attributes":{"logins":7}})";

template <typename F>
double NsPerRecord(int n, F&& f) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) f();
  const std::chrono::duration<double, std::nano> d = std::chrono::steady_clock::now() - start;
  return d.count() / n;
}

int Run(std::string_view label, std::string_view schema_text, std::string_view row, int n) {
  auto parsed = AvroFormat().Parse(schema_text, {});
  if (!parsed.ok()) {
    fmt::print(stderr, "{}\n", parsed.status().ToString());
    return 1;
  }
  auto validator = (*parsed)->NewValidator();
  auto codec = (*parsed)->NewCodec();
  if (auto err = validator->Validate(row)) {
    fmt::print(stderr, "row does not validate: {} {}\n", err->path, err->message);
    return 1;
  }
  std::string bytes, json;
  int failures = 0;
  const double validate = NsPerRecord(n, [&] { failures += validator->Validate(row).has_value(); });
  const double encode = NsPerRecord(n, [&] {
    bytes.clear();
    failures += !codec->Encode(row, &bytes).ok();
  });
  const double decode = NsPerRecord(n, [&] {
    json.clear();
    failures += !codec->Decode(bytes, &json).ok();
  });
  fmt::print("{:<8} json {} B, avro {} B: validate {:.0f} ns/record, encode {:.0f}, decode {:.0f}{}\n",
             label, row.size(), bytes.size(), validate, encode, decode,
             failures ? fmt::format(" ({} FAILURES)", failures) : "");
  return failures ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Avro record validation and codec benchmark"};
  int records = 200000;
  app.add_option("--records", records, "records per measurement");
  CLI11_PARSE(app, argc, argv);
  return Run("mapping", kMappingSchema, kMappingRow, records) |
         Run("mixed", kMixedSchema, kMixedRow, records);
}
