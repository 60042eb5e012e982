#include "metrics/dag_runs_collector.h"

#include <map>
#include <utility>

#include "metrics/family.h"

namespace dataforge::metrics {

DagRunsCollector::DagRunsCollector(RunStore* runs, std::vector<std::string> dag_ids,
                                   std::shared_ptr<const void> keep_alive)
    : runs_(runs), dag_ids_(std::move(dag_ids)), keep_alive_(std::move(keep_alive)) {}

std::vector<prometheus::MetricFamily> DagRunsCollector::Collect() const {
  auto counts = runs_->CountRunsByState();
  if (!counts.ok()) return {};
  constexpr RunState kStates[] = {RunState::kQueued, RunState::kRunning, RunState::kSuccess,
                                  RunState::kFailed};
  std::map<std::string, std::map<RunState, uint64_t>> by_dag;
  for (const auto& id : dag_ids_) {
    for (RunState s : kStates) by_dag[id][s] = 0;
  }
  for (const auto& c : *counts) by_dag[c.dag_id][c.state] = c.runs;
  auto f = Family("dataforge_dag_runs", "Runs in the run store by DAG and state.",
                  prometheus::MetricType::Gauge);
  for (const auto& [dag, states] : by_dag) {
    for (const auto& [state, n] : states) {
      f.metric.push_back(
          GaugeValue(static_cast<double>(n), {{"dag", dag}, {"state", RunStateName(state)}}));
    }
  }
  return {std::move(f)};
}

}  // namespace dataforge::metrics
