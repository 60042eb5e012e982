// This process's own measurements, from the probes the stages keep (pipeline/stage_probes.h,
// orchestrate/scheduler.h; atomics and LatencyHistograms updated per batch or per task
// attempt): dataforge_end_to_end_latency_seconds, dataforge_batch_commit_duration_seconds
// {stage=staging|log|store}, dataforge_task_attempts_total{state}, dataforge_task_duration_seconds,
// dataforge_task_start_latency_seconds, dataforge_dag_run_duration_seconds. Only in
// `dataforge run` (a `serve` has no probes).
//
// Thread-safety: Collect() from any thread; the probes are atomics. The probes must outlive the
// collector's last Collect() (stop the HTTP endpoint before the pipeline and the scheduler go).
#pragma once

#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "orchestrate/scheduler.h"
#include "pipeline/stage_probes.h"

namespace dataforge::metrics {

class ProbeCollector : public prometheus::Collectable {
 public:
  // Either may be null (no pipeline stages: `run --role scheduler`; no scheduler: no DAGs).
  ProbeCollector(const StageProbes* stages, const SchedulerProbe* scheduler);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const StageProbes* stages_;
  const SchedulerProbe* scheduler_;
};

}  // namespace dataforge::metrics
