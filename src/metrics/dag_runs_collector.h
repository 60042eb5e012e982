// dataforge_dag_runs{dag, state}: the run store's runs by DAG and state, one GROUP BY query per
// scrape (RunStore::CountRunsByState). Every DAG of the pipeline file shows all four states
// (0 when it has none); DAGs only the store knows (removed from the file) show what they have.
// Nothing when the query fails (the scrape still answers).
//
// Thread-safety: Collect() from any thread (the RunStore is thread-safe). `keep_alive` owns the
// run store, or is null when it outlives the collector.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "orchestrate/state/run_store.h"

namespace dataforge::metrics {

class DagRunsCollector : public prometheus::Collectable {
 public:
  DagRunsCollector(RunStore* runs, std::vector<std::string> dag_ids,
                   std::shared_ptr<const void> keep_alive = nullptr);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  RunStore* runs_;
  std::vector<std::string> dag_ids_;
  std::shared_ptr<const void> keep_alive_;
};

}  // namespace dataforge::metrics
