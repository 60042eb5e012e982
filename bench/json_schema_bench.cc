// JSON Schema validation cost per record (registry/json/): a RecordValidator checking rows
// shaped like the default pipeline's mapped row (pipelines/default.yaml: 12 columns, uuid,
// text and timestamps) against a schema typing each column, N times; prints ns per record for
// a matching row, a failing row (the error is collected: a second pass), and the same schema
// with "format": "date-time" on the timestamps (valijson 1.0 compiles that regex per check; the
// fast path checks it without), and the matching row through valijson alone (no fast path).
//
//   build/bench/json_schema_bench --records 200000
#include <time.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <string>

#include "registry/json/json_schema_format.h"
#include "registry/schema_format.h"

using namespace dataforge;

namespace {

std::string Schema(bool formats) {
  const std::string ts = formats ? R"({"type": "string", "format": "date-time"})"
                                 : R"({"type": "string", "maxLength": 40})";
  return R"({"type": "object", "properties": {
    "id": {"type": "string", "minLength": 36, "maxLength": 36},
    "first_name": {"type": ["string", "null"], "maxLength": 100},
    "last_name": {"type": ["string", "null"], "maxLength": 100},
    "gender": {"enum": ["male", "female", null]},
    "address": {"type": ["string", "null"]},
    "post_code": {"type": ["string", "null"], "maxLength": 20},
    "email": {"type": ["string", "null"], "maxLength": 200},
    "username": {"type": ["string", "null"]},
    "dob": )" +
         ts + R"(,
    "registered_date": )" +
         ts + R"(,
    "phone": {"type": ["string", "null"]},
    "picture": {"type": ["string", "null"]}
  }, "required": ["id"], "additionalProperties": false})";
}

const char kRow[] =
    R"({"id":"2f1d8b2e-6a43-4c2e-9d0e-3b1f0c7a9e11","first_name":"Louane","last_name":"Vidal",)"
    R"("gender":"female","address":"8207 Rue de la Mairie, Saint-Denis, Haute-Loire, France",)"
    R"("post_code":"59398","email":"louane.vidal@example.com","username":"silverswan131",)"
    R"("dob":"1966-06-26T11:50:25.558Z","registered_date":"2016-08-11T06:51:52.086Z",)"
    R"("phone":"02-62-35-18-98","picture":"https://randomuser.me/api/portraits/med/women/88.jpg"})";

const char kBadRow[] =
    R"({"id":"2f1d8b2e-6a43-4c2e-9d0e-3b1f0c7a9e11","first_name":"Louane","last_name":"Vidal",)"
    R"("gender":"female","address":"8207 Rue de la Mairie, Saint-Denis, Haute-Loire, France",)"
    R"("post_code":59398,"email":"louane.vidal@example.com","username":"silverswan131",)"
    R"("dob":"1966-06-26T11:50:25.558Z","registered_date":"2016-08-11T06:51:52.086Z",)"
    R"("phone":"02-62-35-18-98","picture":"https://randomuser.me/api/portraits/med/women/88.jpg"})";

int Run(const char* label, const std::string& schema_text, const char* row, bool expect_ok,
        uint64_t records, bool valijson_only = false) {
  auto schema = registry::JsonSchemaFormat().Parse(schema_text, {});
  if (!schema.ok()) {
    std::fprintf(stderr, "schema: %s\n", schema.status().message().c_str());
    return 1;
  }
  auto validator = valijson_only ? registry::json_schema::NewValijsonOnlyValidator(**schema)
                                 : (*schema)->NewValidator();
  uint64_t failures = 0;
  const auto start = std::chrono::steady_clock::now();
  timespec cpu_start{}, cpu_end{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu_start);
  for (uint64_t i = 0; i < records; ++i) {
    if (validator->Validate(row)) ++failures;
  }
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu_end);
  const double ns =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  const double cpu_ns = (cpu_end.tv_sec - cpu_start.tv_sec) * 1e9 +
                        static_cast<double>(cpu_end.tv_nsec - cpu_start.tv_nsec);
  if ((failures == 0) != expect_ok || (failures != 0 && failures != records)) {
    std::fprintf(stderr, "%s: unexpected result (%llu failures)\n", label,
                 static_cast<unsigned long long>(failures));
    return 1;
  }
  // CPU time of this thread: the wall time on a shared machine counts other processes too.
  std::printf("%-28s %8.0f ns/record CPU, %8.0f ns wall  (%llu records, row %zu bytes)\n", label,
              cpu_ns / records, ns / records, static_cast<unsigned long long>(records),
              std::string(row).size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"JSON Schema validation cost per record"};
  uint64_t records = 200000;
  bool skip_format = false;
  app.add_option("--records", records, "Validations per case")->capture_default_str();
  app.add_flag("--skip-format", skip_format, "Leave out the date-time format case (slow)");
  CLI11_PARSE(app, argc, argv);
  int rc = 0;
  rc |= Run("matching row", Schema(false), kRow, true, records);
  rc |= Run("failing row (post_code)", Schema(false), kBadRow, false, records);
  rc |= Run("matching, valijson only", Schema(false), kRow, true, records, true);
  if (!skip_format)
    rc |= Run("matching, format date-time", Schema(true), kRow, true, records / 100);
  return rc;
}
