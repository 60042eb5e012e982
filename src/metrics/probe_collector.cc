#include "metrics/probe_collector.h"

#include <utility>

#include "metrics/family.h"
#include "metrics/histogram_metric.h"

namespace dataforge::metrics {

using prometheus::MetricFamily;
using prometheus::MetricType;

ProbeCollector::ProbeCollector(const StageProbes* stages, const SchedulerProbe* scheduler)
    : stages_(stages), scheduler_(scheduler) {}

std::vector<MetricFamily> ProbeCollector::Collect() const {
  std::vector<MetricFamily> out;
  auto histogram = [&](const char* name, const char* help, const LatencyHistogram& h) {
    auto f = Family(name, help, MetricType::Histogram);
    f.metric.push_back(HistogramMetric(h));
    out.push_back(std::move(f));
  };
  if (stages_) {
    histogram("dataforge_end_to_end_latency_seconds",
              "A record fetched -> its row committed in the store (queryable), this process.",
              stages_->processor.fetch_to_queryable_us);
    auto f = Family("dataforge_batch_commit_duration_seconds",
                    "One batch's durable commit: staging (Staging::Commit), log (append -> "
                    "acknowledged), store (Store::Apply).",
                    MetricType::Histogram);
    f.metric.push_back(HistogramMetric(stages_->source.commit_duration_us, {{"stage", "staging"}}));
    f.metric.push_back(HistogramMetric(stages_->relay.append_duration_us, {{"stage", "log"}}));
    f.metric.push_back(HistogramMetric(stages_->processor.apply_duration_us, {{"stage", "store"}}));
    out.push_back(std::move(f));
    const AggregateProbe& agg = stages_->aggregates;
    auto late = Family("dataforge_aggregate_late_records_total",
                       "Records of process.aggregates older than their partition's watermark "
                       "minus the lateness, by what happened to them (this process).",
                       MetricType::Counter);
    uint64_t late_total = agg.late.load(), late_letters = agg.late_dead_lettered.load();
    late.metric.push_back(
        CounterValue(static_cast<double>(late_letters), {{"outcome", "dead_lettered"}}));
    late.metric.push_back(
        CounterValue(static_cast<double>(late_total - late_letters), {{"outcome", "updated"}}));
    out.push_back(std::move(late));
    auto gauge = [&](const char* name, const char* help, int64_t value) {
      auto f = Family(name, help, MetricType::Gauge);
      f.metric.push_back(GaugeValue(static_cast<double>(value)));
      out.push_back(std::move(f));
    };
    gauge("dataforge_aggregate_windows_open",
          "(group, window, partition) states of process.aggregates held in memory (not final "
          "yet), this process.",
          agg.windows_open.load());
    gauge("dataforge_aggregate_final_states_kept",
          "Final states of late: update process.aggregates kept in memory for the late records "
          "that update them (this process).",
          agg.final_states_kept.load());
    gauge("dataforge_aggregate_final_state_bytes_kept",
          "Bytes of those final states, as they count against the aggregates' "
          "max_final_state_bytes (this process).",
          agg.final_state_bytes_kept.load());
    gauge("dataforge_aggregate_idle_partitions",
          "Log partitions of process.aggregates with idle_after that had no record for that "
          "long, whose watermark follows the other partitions' (summed over the aggregates, "
          "this process).",
          agg.idle_partitions.load());
    auto deleted = Family("dataforge_aggregate_states_deleted_total",
                          "State rows of process.aggregates windows final in every partition "
                          "deleted (late: deadletter), this process.",
                          MetricType::Counter);
    deleted.metric.push_back(CounterValue(static_cast<double>(agg.states_deleted.load())));
    out.push_back(std::move(deleted));
    const OutputsProbe& outputs = stages_->outputs;
    auto records = Family("dataforge_output_records_total",
                          "process.outputs, this process: rows committed into derived tables "
                          "(derived), rows acknowledged on output topics (published), records an "
                          "output's where kept out (filtered), records a derived mapping refused "
                          "(dead_lettered).",
                          MetricType::Counter);
    auto add = [&](const char* outcome, uint64_t v) {
      records.metric.push_back(CounterValue(static_cast<double>(v), {{"outcome", outcome}}));
    };
    add("derived", outputs.derived_rows.load());
    add("published", outputs.published.load());
    add("filtered", outputs.derived_filtered.load());
    add("dead_lettered", outputs.derived_dead_lettered.load());
    out.push_back(std::move(records));
  }
  if (scheduler_) {
    auto attempts = Family("dataforge_task_attempts_total",
                           "Task attempts this process's scheduler finished, by outcome (reaped: "
                           "taken over from a dead scheduler).",
                           MetricType::Counter);
    auto add = [&](const char* state, uint64_t v) {
      attempts.metric.push_back(CounterValue(static_cast<double>(v), {{"state", state}}));
    };
    add("success", scheduler_->succeeded.load());
    add("failed", scheduler_->failed.load());
    add("reaped", scheduler_->reaped.load());
    out.push_back(std::move(attempts));
    histogram("dataforge_task_duration_seconds", "Task attempts' run time.",
              scheduler_->task_duration_us);
    histogram("dataforge_task_start_latency_seconds", "Task ready -> running.",
              scheduler_->start_latency_us);
    histogram("dataforge_dag_run_duration_seconds",
              "Finished runs' start -> end (this process's scheduler).",
              scheduler_->run_duration_us);
  }
  return out;
}

}  // namespace dataforge::metrics
