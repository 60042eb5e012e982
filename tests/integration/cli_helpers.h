// Reading a data dir through the CLI, for integration tests.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace dataforge::testing {

struct StatusJson {
  int64_t fetched = -1, staged = -1, streamed = -1, stored = -1, dead_lettered = -1;
  int64_t store_rows = -1, staging_rows = -1, staging_lag = -1, log_lag = -1;
};

// `dataforge status --json --data-dir DIR [extra]`; fails the test on a non-zero exit.
StatusJson Status(const std::string& data_dir, const std::vector<std::string>& extra = {});

// The `stored` total from `dataforge status --json`, or -1 when status fails (e.g. before the
// data dir exists); for polling while a pipeline runs.
int64_t StoredNow(const std::string& data_dir, const std::vector<std::string>& extra = {});

// Every row's "id" from `dataforge table scan` (in scan order); fails on duplicates in output.
std::vector<std::string> ScanIds(const std::string& data_dir,
                                 const std::vector<std::string>& extra = {});

// Every JSON line of `dataforge deadletter list --limit 0`.
std::vector<std::string> DeadLetters(const std::string& data_dir,
                                     const std::vector<std::string>& extra = {});

// A string field of a JSON object text ("" if absent or not a string).
std::string JsonField(const std::string& json, const std::string& dotted_path);

// The login.uuid of each element of `results` in a randomuser response body.
std::vector<std::string> ResultUuids(const std::string& body);

}  // namespace dataforge::testing
