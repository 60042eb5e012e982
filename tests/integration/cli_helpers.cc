#include "integration/cli_helpers.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include "integration/subprocess.h"

namespace dataforge::testing {

namespace {

std::vector<std::string> With(std::vector<std::string> args, const std::string& data_dir,
                              const std::vector<std::string>& extra) {
  args.push_back("--data-dir");
  args.push_back(data_dir);
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

}  // namespace

int64_t StoredNow(const std::string& data_dir, const std::vector<std::string>& extra) {
  auto r = RunDataforge(With({"status", "--json"}, data_dir, extra), 30000);
  auto pos = r.out.find("\"stored\":");
  return r.exit_code != 0 || pos == std::string::npos ? -1 : std::stoll(r.out.substr(pos + 9));
}

StatusJson Status(const std::string& data_dir, const std::vector<std::string>& extra) {
  auto r = RunDataforge(With({"status", "--json"}, data_dir, extra));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  StatusJson s;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(r.out).get(doc) != simdjson::SUCCESS) {
    ADD_FAILURE() << "status --json is not JSON: " << r.out;
    return s;
  }
  auto get = [&](const char* k) {
    int64_t v = -1;
    if (doc[k].get(v) != simdjson::SUCCESS) ADD_FAILURE() << "status --json has no " << k;
    return v;
  };
  s.fetched = get("fetched");
  s.staged = get("staged");
  s.streamed = get("streamed");
  s.stored = get("stored");
  s.dead_lettered = get("dead_lettered");
  s.store_rows = get("store_rows");
  s.staging_rows = get("staging_rows");
  s.staging_lag = get("staging_lag");
  s.log_lag = get("log_lag");
  return s;
}

std::vector<std::string> ScanIds(const std::string& data_dir,
                                 const std::vector<std::string>& extra) {
  auto r = RunDataforge(With({"table", "scan"}, data_dir, extra));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> ids;
  std::set<std::string> seen;
  for (const auto& line : SplitLines(r.out)) {
    std::string id = JsonField(line, "id");
    EXPECT_FALSE(id.empty()) << "row without id: " << line;
    EXPECT_TRUE(seen.insert(id).second) << "duplicate id in the store: " << id;
    ids.push_back(id);
  }
  return ids;
}

std::vector<std::string> DeadLetters(const std::string& data_dir,
                                     const std::vector<std::string>& extra) {
  auto r = RunDataforge(With({"deadletter", "list", "--limit", "0"}, data_dir, extra));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return SplitLines(r.out);
}

std::string JsonField(const std::string& json, const std::string& dotted_path) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json).get(doc) != simdjson::SUCCESS) return "";
  std::string pointer = "/";
  for (char c : dotted_path) pointer += c == '.' ? '/' : c;
  std::string_view v;
  if (doc.at_pointer(pointer).get(v) != simdjson::SUCCESS) return "";
  return std::string(v);
}

std::vector<std::string> ResultUuids(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::vector<std::string> out;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS) {
    ADD_FAILURE() << "not JSON: " << body.substr(0, 200);
    return out;
  }
  simdjson::dom::array results;
  if (doc["results"].get(results) != simdjson::SUCCESS) return out;
  for (auto user : results) {
    std::string_view uuid;
    if (user.at_pointer("/login/uuid").get(uuid) == simdjson::SUCCESS) out.emplace_back(uuid);
  }
  return out;
}

}  // namespace dataforge::testing
