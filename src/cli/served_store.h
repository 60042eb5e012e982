// The data dir's store for a serving command (`cql-serve`, `serve`): read-write under the data
// dir lock, or read-only while another dataforge process (a `run`) holds the lock.
#pragma once

#include <memory>
#include <string>

#include "cli/cli_context.h"
#include "common/status.h"
#include "config/pipeline_config.h"
#include "pipeline/data_dir.h"
#include "store/store.h"

namespace dataforge {

struct ServedStore {
  // Null while read-only; the Store may take it later, so it is shared with the store's opener.
  std::shared_ptr<std::unique_ptr<DataDirLock>> lock =
      std::make_shared<std::unique_ptr<DataDirLock>>();
  std::unique_ptr<Store> store;
  std::string description;  // the ready line's "store ..." part, secrets redacted
};

// The data dir's store, read-write under the data dir lock, or read-only when another
// dataforge holds the lock: reads catch up with the writer first (RocksDB secondary), and a
// write re-checks the lock each time (failing with the holder's pid while it is held; once it
// is free, the write takes it and the store is served read-write from then on).
// `run_flag`: the flag that serves a running pipeline instead ("--cql-port", "--http-port"),
// named in the read-only error.
Result<ServedStore> OpenServedStore(const CliContext& ctx, const PipelineConfig& config,
                                    const std::string& run_flag);

}  // namespace dataforge
