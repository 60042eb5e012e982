#include "pipeline/data_dir.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

namespace dataforge {
namespace {

// Regression: `status` reading a data dir while `run` created it wrote the same ID.tmp and one
// of them failed with "cannot write .../ID: No such file or directory" (or the two kept
// different ids). Every concurrent caller must get the one id that ends up in the file.
TEST(DataDirTest, ConcurrentFirstCallsAgreeOnOneId) {
  char tmpl[] = "/tmp/df_datadir_XXXXXX";
  std::string root = mkdtemp(tmpl);
  for (int round = 0; round < 20; ++round) {
    std::string dir = root + "/d" + std::to_string(round);
    std::filesystem::create_directories(dir);
    std::vector<std::string> ids(8);
    std::vector<std::string> errors(8);
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        auto id = DataDirId(dir);
        if (id.ok()) {
          ids[t] = *id;
        } else {
          errors[t] = id.status().ToString();
        }
      });
    }
    for (auto& t : threads) t.join();
    for (const auto& e : errors) EXPECT_EQ(e, "");
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 1u);
    std::ifstream in(dir + "/ID");
    std::string in_file;
    in >> in_file;
    EXPECT_EQ(in_file, ids[0]);
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir),
                            std::filesystem::directory_iterator()),
              1);  // no temporary file left behind
  }
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace dataforge
