// Where a pipeline's state lives: every relative backend URL resolves inside the data dir.
#pragma once

#include <string>

#include "common/status.h"
#include "config/pipeline_config.h"

namespace dataforge {

struct ResolvedUrls {
  std::string staging;  // e.g. sqlite:///abs/data/staging.db
  std::string log;      // e.g. file:///abs/data/log
  std::string store;    // e.g. rocksdb:///abs/data/store
};

// Creates `data_dir` if missing (when `create`) and checks it is a writable directory; the
// error says which path and what to do.
Status PrepareDataDir(const std::string& data_dir, bool create);

// Rewrites "scheme://relative/path" as "scheme:///abs/data_dir/relative/path"; absolute
// ("scheme:///…") and non-file URLs are kept.
std::string ResolveInDataDir(const std::string& url, const std::string& data_dir);
ResolvedUrls ResolveUrls(const PipelineConfig& config, const std::string& data_dir);

}  // namespace dataforge
