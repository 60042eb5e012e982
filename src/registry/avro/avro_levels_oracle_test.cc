// All seven compatibility levels through the SchemaRegistry: sequences of Avro schema versions
// registered under one subject per (level, sequence); each registration must answer an id or
// 409 exactly as the verdicts of python3-avro's ReaderWriterCompatibilityChecker say (the oracle
// runs here, on the pairs of tests/registry/avro_compat_pairs.json and the 3-version sequences
// below, where checking the latest version only and checking all versions differ).
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "registry/registry_error.h"
#include "registry/schema_registry.h"

namespace dataforge::registry {
namespace {

// Three versions each: the last is compatible with the second but not with the first.
const std::vector<std::vector<std::string>> kTriples = {
    // BACKWARD accepts v3 (reads v2), BACKWARD_TRANSITIVE refuses (cannot read v1's int f).
    {R"({"type":"record","name":"T","fields":[{"name":"f","type":"int"}]})",
     R"({"type":"record","name":"T","fields":[]})",
     R"({"type":"record","name":"T","fields":[{"name":"f","type":"string","default":""}]})"},
    // FORWARD accepts v3 (v2 reads it), FORWARD_TRANSITIVE refuses (v1 reads f as int).
    {R"({"type":"record","name":"T","fields":[{"name":"f","type":"int","default":0}]})",
     R"({"type":"record","name":"T","fields":[]})",
     R"({"type":"record","name":"T","fields":[{"name":"f","type":"string"}]})"},
    // FULL accepts every step, FULL_TRANSITIVE refuses v3 against v1.
    {R"({"type":"record","name":"T","fields":[{"name":"f","type":"int","default":0}]})",
     R"({"type":"record","name":"T","fields":[]})",
     R"({"type":"record","name":"T","fields":[{"name":"f","type":"string","default":""}]})"},
    // Enums: a symbol added then one removed (a reader default only in v2).
    {R"({"type":"enum","name":"E","symbols":["A","B"]})",
     R"({"type":"enum","name":"E","symbols":["A","B","C"],"default":"A"})",
     R"({"type":"enum","name":"E","symbols":["A","C"]})"},
    // Promotions: int -> long -> double is backward at each step and transitively.
    {R"("int")", R"("long")", R"("double")"},
    // A union widened then narrowed to another branch.
    {R"(["null","int"])", R"(["null","int","string"])", R"(["null","string"])"},
};

std::string Minified(simdjson::dom::element e) {
  return std::string(simdjson::minify(e));
}

struct Compat {
  bool backward;  // later reads earlier
  bool forward;   // earlier reads later
};

// The oracle's verdicts for (earlier, later) pairs.
std::vector<Compat> Oracle(const std::vector<std::pair<std::string, std::string>>& pairs,
                           const std::string& dir) {
  std::string doc = R"({"pairs":[)";
  for (size_t i = 0; i < pairs.size(); ++i) {
    doc += fmt::format(R"({}{{"name":"{}","old":{},"new":{}}})", i ? "," : "", i, pairs[i].first,
                       pairs[i].second);
  }
  doc += "]}";
  const std::string path = dir + "/pairs.json";
  FILE* f = fopen(path.c_str(), "w");
  fwrite(doc.data(), 1, doc.size(), f);
  fclose(f);
  const std::string cmd = fmt::format("/usr/bin/python3 {}/tests/registry/avro_compat_oracle.py {}",
                                      DATAFORGE_SOURCE_DIR, path);
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while (p && (n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  EXPECT_EQ(p ? pclose(p) : -1, 0);
  simdjson::dom::parser parser;
  simdjson::dom::element v;
  EXPECT_EQ(parser.parse(out).get(v), simdjson::SUCCESS) << out;
  std::vector<Compat> verdicts;
  for (simdjson::dom::element e : v["verdicts"].get_array()) {
    verdicts.push_back({bool(e["backward"].get_bool()), bool(e["forward"].get_bool())});
  }
  EXPECT_EQ(verdicts.size(), pairs.size());
  return verdicts;
}

bool Allowed(Compatibility level, const Compat& c) {
  switch (level) {
    case Compatibility::kNone:
      return true;
    case Compatibility::kBackward:
    case Compatibility::kBackwardTransitive:
      return c.backward;
    case Compatibility::kForward:
    case Compatibility::kForwardTransitive:
      return c.forward;
    case Compatibility::kFull:
    case Compatibility::kFullTransitive:
      return c.backward && c.forward;
  }
  return false;
}

bool Transitive(Compatibility level) {
  return level == Compatibility::kBackwardTransitive ||
         level == Compatibility::kForwardTransitive || level == Compatibility::kFullTransitive;
}

TEST(AvroLevelsOracle, EverySevenLevelsAnswersIdOr409AsTheOracleSays) {
  char tmpl[] = "/tmp/df_avro_levels_XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  // Sequences: each pair of the pairs file (old, new), then the triples.
  std::vector<std::vector<std::string>> sequences;
  {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    ASSERT_EQ(
        parser.load(std::string(DATAFORGE_SOURCE_DIR) + "/tests/registry/avro_compat_pairs.json")
            .get(doc),
        simdjson::SUCCESS);
    for (simdjson::dom::element p : doc["pairs"].get_array()) {
      sequences.push_back({Minified(p["old"]), Minified(p["new"])});
    }
  }
  sequences.insert(sequences.end(), kTriples.begin(), kTriples.end());
  // The oracle on every (earlier, later) pair of every sequence.
  std::vector<std::pair<std::string, std::string>> pairs;
  std::map<std::pair<std::string, std::string>, size_t> index;
  for (const auto& seq : sequences) {
    for (size_t i = 0; i < seq.size(); ++i) {
      for (size_t j = i + 1; j < seq.size(); ++j) {
        if (index.emplace(std::make_pair(seq[i], seq[j]), pairs.size()).second) {
          pairs.emplace_back(seq[i], seq[j]);
        }
      }
    }
  }
  const std::vector<Compat> verdicts = Oracle(pairs, dir);
  ASSERT_EQ(verdicts.size(), pairs.size());

  auto opened = SchemaRegistry::Open("sqlite://" + dir + "/staging.db", OpenMode::kReadWrite);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  SchemaRegistry& registry = **opened;
  const Compatibility levels[] = {Compatibility::kNone,
                                  Compatibility::kBackward,
                                  Compatibility::kBackwardTransitive,
                                  Compatibility::kForward,
                                  Compatibility::kForwardTransitive,
                                  Compatibility::kFull,
                                  Compatibility::kFullTransitive};
  int accepted = 0, refused = 0, transitive_differs = 0;
  for (Compatibility level : levels) {
    for (size_t s = 0; s < sequences.size(); ++s) {
      const std::string subject = fmt::format("{}-{}", CompatibilityName(level), s);
      ASSERT_TRUE(registry.SetCompatibility(subject, level).ok());
      std::vector<size_t> live;  // indexes into the sequence of the registered versions
      for (size_t v = 0; v < sequences[s].size(); ++v) {
        bool expected = true;
        bool latest_only = true;
        for (size_t k = 0; k < live.size(); ++k) {
          const bool ok =
              Allowed(level, verdicts[index.at({sequences[s][live[k]], sequences[s][v]})]);
          if (k + 1 == live.size()) latest_only = ok;
          if (Transitive(level) || k + 1 == live.size()) expected = expected && ok;
        }
        if (Transitive(level) && expected != latest_only) ++transitive_differs;
        auto id = registry.Register(subject, SchemaText{SchemaType::kAvro, sequences[s][v], {}});
        if (expected) {
          EXPECT_TRUE(id.ok()) << subject << " v" << v + 1 << ": " << id.status().ToString();
          if (id.ok()) {
            live.push_back(v);
            ++accepted;
          }
        } else {
          ASSERT_FALSE(id.ok()) << subject << " v" << v + 1 << " was accepted";
          EXPECT_EQ(RegistryErrorOf(id.status()).error_code, kIncompatibleSchema)
              << subject << " v" << v + 1 << ": " << id.status().ToString();
          ++refused;
        }
      }
    }
  }
  // Both answers occur, and the transitive levels differ from latest-only on the triples.
  fmt::print(
      "{} sequences x 7 levels: {} versions accepted, {} refused with 409; {} where the "
      "transitive level differs from latest-only\n",
      sequences.size(), accepted, refused, transitive_differs);
  EXPECT_GT(accepted, 0);
  EXPECT_GT(refused, 0);
  EXPECT_GE(transitive_differs, 3);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dataforge::registry
