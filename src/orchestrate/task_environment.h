// What orchestrated tasks reach outside the orchestrator: the pipeline they feed and the
// databases they check. Two implementations (pipeline/task_environments.h): one inside a
// running `dataforge run` (ingest goes into the live pipeline), one for a scheduler running
// alone (ingest runs a bounded pipeline in this process).
// Thread-safety: every method may be called from several task threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>

#include "common/status.h"
#include "store/store.h"

namespace dataforge {

struct IngestRequest {
  std::string name;          // "dag.task": the source position is kept under this name
  uint64_t max_records = 0;  // 0 = no limit
  uint64_t max_pages = 0;    // 0 = no limit (batches of the source; a page for HTTP)
  int64_t duration_us = 0;   // 0 = no limit
  std::string url;           // "" = the pipeline source's
  std::string seed;          // "" = the source's own (kept with its position)
  int results_per_page = 0;  // 0 = the source's
};

struct IngestOutcome {
  uint64_t fetched = 0, staged = 0, dead_lettered = 0;
  bool delivered = false;  // everything staged reached the log (and the store, where it runs)
  std::string summary;     // one line for the task's output
};

class TaskEnvironment {
 public:
  virtual ~TaskEnvironment() = default;

  // Pulls from the source into the pipeline and returns once what was pulled is delivered
  // (stored or dead-lettered when this process stores; in the log otherwise).
  virtual Result<IngestOutcome> Ingest(const IngestRequest& request, std::stop_token stop) = 0;

  // Applies the log's retention and/or compacts the store. Returns a one-line summary.
  virtual Result<std::string> Compact(bool log, bool store, std::stop_token stop) = 0;

  // The staging database (sqlite:///abs/path or postgresql://...), for sql and check tasks.
  virtual std::string staging_url() const = 0;

  // The store, opened for reading (rows as of the call), for check tasks.
  virtual Result<std::unique_ptr<Store>> OpenStoreForReading() = 0;
};

}  // namespace dataforge
