// Expression cost per record (docs/expressions.md, src/expr): a process.where filter and five
// computed columns, evaluated over real randomuser records (a capture from
// ../shared/fixtures/randomuser, cycled), N records; prints ns per record for
//   - parse:        simdjson parsing the record alone (the mapper does it anyway),
//   - expressions:  the filter + 5 columns over the parsed record (what expressions add),
//   - total:        both, plus writing the five values as a JSON row (as the mapper does).
//
//   build-bench/bench/expr_bench --file
//   ../shared/fixtures/randomuser/v1.4-randomuser-me-project.json
//       [--records 1000000]
// Times are the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), not wall clock.
#include <simdjson.h>
#include <time.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/json_writer.h"
#include "expr/expression.h"

using namespace dataforge;

namespace {

constexpr const char* kWhere = "nat NOT IN ('DK', 'NO') AND dob.age >= 18";
constexpr const char* kColumns[] = {
    "lower(email)",
    "name.first || ' ' || name.last",
    "dob.age / 10 * 10",
    "CASE WHEN dob.age < 30 THEN 'young' WHEN dob.age < 60 THEN 'middle' ELSE 'senior' END",
    "CAST(location.coordinates.latitude AS double)",
};

// CPU time of this thread: on a shared machine, time spent waiting for a core is not counted.
double NowNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
  std::string file;
  long records = 1000000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--file") == 0) file = argv[i + 1];
    if (std::strcmp(argv[i], "--records") == 0) records = std::atol(argv[i + 1]);
  }
  if (file.empty()) {
    std::fprintf(stderr, "usage: expr_bench --file CAPTURE.json [--records N]\n");
    return 2;
  }
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  simdjson::dom::parser reader;
  simdjson::dom::element capture;
  if (reader.parse(text.str()).get(capture) != simdjson::SUCCESS) {
    std::fprintf(stderr, "expr_bench: %s is not JSON\n", file.c_str());
    return 1;
  }
  std::vector<std::string> raw;
  for (simdjson::dom::element r : capture["results"].get_array())
    raw.push_back(simdjson::minify(r));
  if (raw.empty()) return 1;

  auto where = expr::Expression::Compile(kWhere, "bench", 1, 1);
  if (!where.ok()) {
    std::fprintf(stderr, "%s\n", where.status().message().c_str());
    return 1;
  }
  std::vector<expr::Expression> columns;
  for (const char* c : kColumns) {
    auto e = expr::Expression::Compile(c, "bench", 1, 1);
    if (!e.ok()) {
      std::fprintf(stderr, "%s\n", e.status().message().c_str());
      return 1;
    }
    columns.push_back(std::move(e).value());
  }
  // Pre-parsed documents for the expressions-only pass.
  std::vector<std::unique_ptr<simdjson::dom::parser>> parsers;
  std::vector<simdjson::dom::element> docs;
  for (const auto& r : raw) {
    parsers.push_back(std::make_unique<simdjson::dom::parser>());
    simdjson::dom::element e;
    if (parsers.back()->parse(r).get(e) != simdjson::SUCCESS) return 1;
    docs.push_back(e);
  }

  expr::Value where_value;
  std::vector<expr::Value> values(columns.size());
  long kept = 0, errors = 0;
  auto evaluate = [&](const simdjson::dom::element& root, std::string* row) {
    expr::Input input;
    input.record = &root;
    input.now_ms = 1700000000000;
    if (!where->EvaluateInto(input, &where_value).ok()) return ++errors, void();
    if (where_value.kind != expr::Kind::kBool || !where_value.b) return;
    ++kept;
    if (row) row->assign("{");
    for (size_t c = 0; c < columns.size(); ++c) {
      if (!columns[c].EvaluateInto(input, &values[c]).ok()) return ++errors, void();
      if (row) {
        row->append(c ? ",\"c" : "\"c");
        row->push_back(static_cast<char>('0' + c));
        row->append("\":");
        if (values[c].is_null()) {
          row->append("null");
        } else {
          std::string& t = values[c].s;  // reused: the value's own buffer
          if (values[c].kind != expr::Kind::kString) {
            t.clear();
            expr::AppendText(values[c], &t);
          }
          AppendJsonString(row, t);
        }
      }
    }
    if (row) row->push_back('}');
  };

  simdjson::dom::parser parser;
  simdjson::dom::element root;
  double t0 = NowNs();
  for (long i = 0; i < records; ++i) {
    const std::string& r = raw[i % raw.size()];
    if (parser.parse(r.data(), r.size(), true).get(root) != simdjson::SUCCESS) return 1;
  }
  double parse_ns = (NowNs() - t0) / records;

  t0 = NowNs();
  for (long i = 0; i < records; ++i) evaluate(docs[i % docs.size()], nullptr);
  double expr_ns = (NowNs() - t0) / records;

  std::string row;
  kept = errors = 0;
  t0 = NowNs();
  for (long i = 0; i < records; ++i) {
    const std::string& r = raw[i % raw.size()];
    if (parser.parse(r.data(), r.size(), true).get(root) != simdjson::SUCCESS) return 1;
    evaluate(root, &row);
  }
  double total_ns = (NowNs() - t0) / records;

  std::printf("records %ld (%zu distinct), kept by the filter %ld, errors %ld\n", records,
              raw.size(), kept, errors);
  std::printf("parse        %8.1f ns/record\n", parse_ns);
  std::printf("expressions  %8.1f ns/record (filter + %zu columns)\n", expr_ns, columns.size());
  std::printf("total        %8.1f ns/record (parse + expressions + JSON row)\n", total_ns);
  return errors == 0 ? 0 : 1;
}
