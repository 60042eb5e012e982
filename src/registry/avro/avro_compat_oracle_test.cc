// Compatibility verdicts against an independent oracle: python3-avro's
// ReaderWriterCompatibilityChecker runs on every pair of tests/registry/avro_compat_pairs.json
// (tests/registry/avro_compat_oracle.py) and our verdict must agree in both directions.
#include <avro.h>

#include <cstdio>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "registry/schema_format.h"

namespace dataforge::registry {
namespace {

std::string PairsPath() {
  return std::string(DATAFORGE_SOURCE_DIR) + "/tests/registry/avro_compat_pairs.json";
}

// Runs the oracle and returns its stdout.
std::string RunOracle() {
  const std::string cmd = fmt::format("/usr/bin/python3 {}/tests/registry/avro_compat_oracle.py {}",
                                      DATAFORGE_SOURCE_DIR, PairsPath());
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return "";
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  EXPECT_EQ(pclose(p), 0) << cmd;
  return out;
}

std::shared_ptr<const ParsedSchema> Parse(simdjson::dom::element e) {
  auto r = AvroFormat().Parse(std::string(simdjson::minify(e)), {});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : nullptr;
}

// Apache Avro C accepts `text` as a schema.
bool AvroCAccepts(const std::string& text) {
  avro_schema_t s = nullptr;
  if (avro_schema_from_json_length(text.data(), text.size(), &s) != 0) return false;
  avro_schema_decref(s);
  return true;
}

TEST(AvroCompatOracle, VerdictsAgreeWithPythonAvroInBothDirections) {
  simdjson::dom::parser pairs_parser;
  simdjson::dom::element pairs_doc;
  ASSERT_EQ(pairs_parser.load(PairsPath()).get(pairs_doc), simdjson::SUCCESS);
  simdjson::dom::array pairs = pairs_doc["pairs"].get_array();
  ASSERT_GE(pairs.size(), 50u);

  const std::string oracle_out = RunOracle();
  simdjson::dom::parser oracle_parser;
  simdjson::dom::element oracle_doc;
  ASSERT_EQ(oracle_parser.parse(oracle_out).get(oracle_doc), simdjson::SUCCESS) << oracle_out;
  simdjson::dom::array verdicts = oracle_doc["verdicts"].get_array();
  ASSERT_EQ(verdicts.size(), pairs.size());

  size_t i = 0, compatible = 0, incompatible = 0;
  for (simdjson::dom::element pair : pairs) {
    simdjson::dom::element verdict = verdicts.at(i++);
    const std::string_view name = pair["name"].get_string();
    auto old_schema = Parse(pair["old"]);
    auto new_schema = Parse(pair["new"]);
    ASSERT_TRUE(old_schema && new_schema) << name;
    // Our canonical text is a schema other Avro implementations read.
    EXPECT_TRUE(AvroCAccepts(old_schema->canonical()))
        << old_schema->canonical() << avro_strerror();
    EXPECT_TRUE(AvroCAccepts(new_schema->canonical()))
        << new_schema->canonical() << avro_strerror();
    const std::vector<std::string> backward = new_schema->BackwardIncompatibilities(*old_schema);
    const std::vector<std::string> forward = old_schema->BackwardIncompatibilities(*new_schema);
    const bool oracle_backward = verdict["backward"].get_bool();
    const bool oracle_forward = verdict["forward"].get_bool();
    EXPECT_EQ(backward.empty(), oracle_backward)
        << name << ": new reads old; ours: " << (backward.empty() ? "" : backward[0]);
    EXPECT_EQ(forward.empty(), oracle_forward)
        << name << ": old reads new; ours: " << (forward.empty() ? "" : forward[0]);
    for (bool v : {oracle_backward, oracle_forward}) (v ? compatible : incompatible)++;
  }
  // The pairs exercise both verdicts (the oracle answers 71 compatible, 75 incompatible).
  EXPECT_EQ(compatible, 71u);
  EXPECT_EQ(incompatible, 75u);
}

}  // namespace
}  // namespace dataforge::registry
