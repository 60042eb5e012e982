// process_* metrics (docs/metrics.md) of this process, read from /proc at each scrape, named as
// Prometheus's own client libraries name them: process_cpu_seconds_total (user + system),
// process_resident_memory_bytes, process_virtual_memory_bytes, process_open_fds,
// process_max_fds (the soft limit), process_start_time_seconds (Unix seconds).
//
// Thread-safety: Collect() from any thread (reads files only).
#pragma once

#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "common/status.h"

namespace dataforge::metrics {

struct ProcessStats {
  double cpu_seconds = 0;
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double open_fds = 0;
  double max_fds = 0;  // 0 when unlimited
  double start_time_seconds = 0;
};

// From `proc_dir` (a process's /proc/<pid> directory: stat, limits, fd/) and `proc_stat` (the
// system's /proc/stat: btime). `ticks_per_second` and `page_size` as sysconf says. Internal
// error naming the file when one is missing or malformed.
Result<ProcessStats> ReadProcessStats(const std::string& proc_dir, const std::string& proc_stat,
                                      long ticks_per_second, long page_size);

class ProcessCollector : public prometheus::Collectable {
 public:
  // Defaults: this process.
  explicit ProcessCollector(std::string proc_dir = "/proc/self",
                            std::string proc_stat = "/proc/stat");
  // Nothing when /proc cannot be read (the scrape still answers the other families).
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::string proc_dir_;
  std::string proc_stat_;
};

}  // namespace dataforge::metrics
