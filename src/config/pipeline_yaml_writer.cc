// PipelineConfigToYaml: the effective configuration as a complete pipeline file.
#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "common/redact.h"
#include "config/pipeline_file.h"
#include "schedule/schedule.h"

namespace dataforge {
namespace {

// Every scalar the reader takes goes through InterpolateEnv (config/env_interpolation.h), which
// turns "$$" into "$" and "${...}" into a variable: a written `$` is doubled so that the value
// reads back as it is (config show output fed to config check). Non-strings pass through.
std::string Lit(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    out.push_back(c);
    if (c == '$') out.push_back('$');
  }
  return out;
}
std::string Lit(const std::string& s) {
  return Lit(std::string_view(s));
}
std::string Lit(const char* s) {
  return Lit(std::string_view(s));
}
template <class T>
const T& Lit(const T& v) {
  return v;
}

void List(YAML::Emitter& out, const std::vector<std::string>& items) {
  out << YAML::Flow << YAML::BeginSeq;
  for (const auto& i : items) out << Lit(i);
  out << YAML::EndSeq;
}

// process.outputs (config/outputs_reader.h), as read.
// `columns: [...]` of process.columns or of a derived table.
void WriteColumns(YAML::Emitter& out, const std::vector<ColumnSpec>& columns) {
  out << YAML::Key << "columns" << YAML::Value << YAML::BeginSeq;
  for (const auto& col : columns) {
    out << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << Lit(col.name);
    out << YAML::Key << "type" << YAML::Value << Lit(col.type);
    if (!col.paths.empty()) {
      out << YAML::Key << "path" << YAML::Value;
      List(out, col.paths);
    }
    if (!col.templates.empty()) {
      out << YAML::Key << "template" << YAML::Value;
      List(out, col.templates);
    }
    if (!col.expr.empty()) {
      out << YAML::Key << "expr" << YAML::Value << YAML::DoubleQuoted << Lit(col.expr);
    }
    if (col.required) out << YAML::Key << "required" << YAML::Value << Lit(true);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
}

// process.aggregates (docs/aggregates.md), durations as the reader takes them.
void WriteAggregates(YAML::Emitter& out, const std::vector<AggregateSpec>& aggregates) {
  out << YAML::Key << "aggregates" << YAML::Value << YAML::BeginSeq;
  for (const AggregateSpec& a : aggregates) {
    out << YAML::BeginMap;
    out << YAML::Key << "table" << YAML::Value << Lit(a.table);
    out << YAML::Key << "group_by" << YAML::Value;
    List(out, a.group_by);
    const WindowSpec& w = a.window;
    out << YAML::Key << "window" << YAML::Value << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "type" << YAML::Value << Lit(w.type);
    if (w.size_ms > 0)
      out << YAML::Key << "size" << YAML::Value << Lit(FormatDuration(w.size_ms * 1000));
    if (w.advance_ms > 0) {
      out << YAML::Key << "advance" << YAML::Value << Lit(FormatDuration(w.advance_ms * 1000));
    }
    if (w.gap_ms > 0)
      out << YAML::Key << "gap" << YAML::Value << Lit(FormatDuration(w.gap_ms * 1000));
    if (!w.time_column.empty()) out << YAML::Key << "time" << YAML::Value << Lit(w.time_column);
    out << YAML::EndMap;
    out << YAML::Key << "lateness" << YAML::Value << Lit(FormatDuration(a.lateness_ms * 1000));
    out << YAML::Key << "late" << YAML::Value << Lit(a.late);
    out << YAML::Key << "values" << YAML::Value << YAML::BeginSeq;
    for (const AggregateValueSpec& v : a.values) {
      out << YAML::Flow << YAML::BeginMap;
      out << YAML::Key << "name" << YAML::Value << Lit(v.name);
      out << YAML::Key << "fn" << YAML::Value << Lit(v.fn);
      if (!v.of.empty()) out << YAML::Key << "of" << YAML::Value << Lit(v.of);
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
    out << YAML::Key << "distinct_exact_limit" << YAML::Value << Lit(a.distinct_exact_limit);
    if (a.late == "update") {
      out << YAML::Key << "max_final_state_bytes" << YAML::Value << Lit(a.max_final_state_bytes);
    }
    if (a.late_update_for_ms) {
      out << YAML::Key << "late_update_for" << YAML::Value
          << Lit(FormatDuration(*a.late_update_for_ms * 1000));
    }
    if (a.idle_after_ms) {
      out << YAML::Key << "idle_after" << YAML::Value
          << Lit(FormatDuration(*a.idle_after_ms * 1000));
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
}

void WriteOutputs(YAML::Emitter& out, const std::vector<OutputSpec>& outputs) {
  out << YAML::Key << "outputs" << YAML::Value << YAML::BeginSeq;
  for (const OutputSpec& o : outputs) {
    out << YAML::BeginMap;
    if (!o.topic.empty()) {
      out << YAML::Key << "topic" << YAML::Value << Lit(o.topic);
      out << YAML::Key << "format" << YAML::Value << Lit(std::string(LogFormatName(o.format)));
      if (!o.subject.empty()) out << YAML::Key << "subject" << YAML::Value << Lit(o.subject);
      out << YAML::EndMap;
      continue;
    }
    out << YAML::Key << "table" << YAML::Value << Lit(o.table);
    out << YAML::Key << "key_column" << YAML::Value << Lit(o.key_column);
    if (!o.where.empty()) {
      out << YAML::Key << "where" << YAML::Value << YAML::DoubleQuoted << Lit(o.where);
    }
    WriteColumns(out, o.columns);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
}

void WriteScheduler(YAML::Emitter& out, const SchedulerConfig& s) {
  out << YAML::Key << "scheduler" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "parallelism" << YAML::Value << Lit(s.parallelism);
  out << YAML::Key << "lease" << YAML::Value << Lit(FormatDuration(s.lease_us));
  out << YAML::Key << "poll" << YAML::Value << Lit(FormatDuration(s.poll_us));
  out << YAML::Key << "max_output_bytes" << YAML::Value << Lit(s.max_output_bytes);
  out << YAML::EndMap;
}

void WriteTask(YAML::Emitter& out, const TaskSpec& t) {
  out << YAML::BeginMap;
  out << YAML::Key << "id" << YAML::Value << Lit(t.id);
  out << YAML::Key << "type" << YAML::Value << Lit(t.type);
  if (!t.depends_on.empty()) {
    out << YAML::Key << "depends_on" << YAML::Value;
    List(out, t.depends_on);
  }
  out << YAML::Key << "retries" << YAML::Value << Lit(t.retries);
  out << YAML::Key << "retry_delay" << YAML::Value << Lit(FormatDuration(t.retry_delay_us));
  out << YAML::Key << "retry_exponential_backoff" << YAML::Value << Lit(t.retry_exponential);
  out << YAML::Key << "max_retry_delay" << YAML::Value << Lit(FormatDuration(t.max_retry_delay_us));
  out << YAML::Key << "timeout" << YAML::Value << Lit(FormatDuration(t.timeout_us));
  out << YAML::Key << "depends_on_past" << YAML::Value << Lit(t.depends_on_past);
  if (t.type == "ingest") {
    if (t.records) out << YAML::Key << "records" << YAML::Value << Lit(t.records);
    if (t.pages) out << YAML::Key << "pages" << YAML::Value << Lit(t.pages);
    if (t.duration_us)
      out << YAML::Key << "duration" << YAML::Value << Lit(FormatDuration(t.duration_us));
    if (!t.source_url.empty()) {
      out << YAML::Key << "url" << YAML::Value << Lit(Redact(t.source_url));
    }
    if (!t.source_seed.empty()) out << YAML::Key << "seed" << YAML::Value << Lit(t.source_seed);
    if (t.results_per_page) {
      out << YAML::Key << "results_per_page" << YAML::Value << Lit(t.results_per_page);
    }
  } else if (t.type == "sql") {
    out << YAML::Key << "sql" << YAML::Value << Lit(t.sql);
  } else if (t.type == "shell") {
    out << YAML::Key << "command" << YAML::Value << Lit(t.command);
    if (!t.cwd.empty()) out << YAML::Key << "cwd" << YAML::Value << Lit(t.cwd);
    if (!t.env.empty()) {
      out << YAML::Key << "env" << YAML::Value << YAML::BeginMap;
      for (const auto& [k, v] : t.env) {
        out << YAML::Key << k << YAML::Value
            << Lit(IsSecretName(k) ? std::string(kRedacted) : Redact(v));
      }
      out << YAML::EndMap;
    }
  } else if (t.type == "check") {
    if (!t.check_table.empty()) out << YAML::Key << "table" << YAML::Value << Lit(t.check_table);
    if (!t.check_query.empty()) out << YAML::Key << "query" << YAML::Value << Lit(t.check_query);
    if (t.min_rows || t.max_rows) {
      out << YAML::Key << "row_count" << YAML::Value << YAML::Flow << YAML::BeginMap;
      if (t.min_rows) out << YAML::Key << "min" << YAML::Value << Lit(*t.min_rows);
      if (t.max_rows) out << YAML::Key << "max" << YAML::Value << Lit(*t.max_rows);
      out << YAML::EndMap;
    }
    if (!t.not_null.empty()) {
      out << YAML::Key << "not_null" << YAML::Value;
      List(out, t.not_null);
    }
    if (!t.unique.empty()) {
      out << YAML::Key << "unique" << YAML::Value;
      List(out, t.unique);
    }
    if (!t.fresh_column.empty()) {
      out << YAML::Key << "freshness" << YAML::Value << YAML::Flow << YAML::BeginMap;
      out << YAML::Key << "column" << YAML::Value << Lit(t.fresh_column);
      out << YAML::Key << "max_age" << YAML::Value << Lit(FormatDuration(t.fresh_max_age_us));
      out << YAML::EndMap;
    }
  } else if (t.type == "compact") {
    out << YAML::Key << "log" << YAML::Value << Lit(t.compact_log);
    out << YAML::Key << "store" << YAML::Value << Lit(t.compact_store);
  }
  out << YAML::EndMap;
}

void WriteDags(YAML::Emitter& out, const std::vector<DagSpec>& dags) {
  out << YAML::Key << "dags" << YAML::Value << YAML::BeginMap;
  for (const auto& d : dags) {
    out << YAML::Key << d.id << YAML::Value << YAML::BeginMap;
    if (!d.description.empty())
      out << YAML::Key << "description" << YAML::Value << Lit(d.description);
    out << YAML::Key << "schedule" << YAML::Value << YAML::DoubleQuoted << Lit(d.schedule);
    out << YAML::Key << "timezone" << YAML::Value << Lit(d.time_zone);
    out << YAML::Key << "start_date" << YAML::Value << Lit(FormatIso8601(d.start_us, d.time_zone));
    out << YAML::Key << "catchup" << YAML::Value << Lit(d.catchup);
    out << YAML::Key << "max_active_runs" << YAML::Value << Lit(d.max_active_runs);
    out << YAML::Key << "paused" << YAML::Value << Lit(d.paused_on_create);
    out << YAML::Key << "tasks" << YAML::Value << YAML::BeginSeq;
    for (const auto& t : d.tasks) WriteTask(out, t);
    out << YAML::EndSeq << YAML::EndMap;
  }
  out << YAML::EndMap;
}

// auth: the JWT secret is never printed, only whether one is set.
void WriteAuth(YAML::Emitter& out, const AuthConfig& a) {
  out << YAML::Key << "auth" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "required" << YAML::Value << Lit(a.required);
  out << YAML::Key << "audit_log" << YAML::Value << Lit(a.audit_log);
  out << YAML::Key << "max_failed_logins_per_minute" << YAML::Value
      << a.max_failed_logins_per_minute;
  const JwtConfig& j = a.jwt;
  out << YAML::Key << "jwt" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "hs256_secret" << YAML::Value << YAML::DoubleQuoted
      << (j.hs256_secret.empty() ? std::string() : std::string(kRedacted));
  out << YAML::Key << "jwks_file" << YAML::Value << YAML::DoubleQuoted << Lit(j.jwks_file);
  out << YAML::Key << "issuer" << YAML::Value << YAML::DoubleQuoted << Lit(j.issuer);
  out << YAML::Key << "audience" << YAML::Value << YAML::DoubleQuoted << Lit(j.audience);
  out << YAML::Key << "role_claim" << YAML::Value << Lit(j.role_claim);
  out << YAML::Key << "subject_claim" << YAML::Value << Lit(j.subject_claim);
  out << YAML::Key << "leeway_s" << YAML::Value << Lit(j.leeway_s);
  out << YAML::EndMap;
  out << YAML::Key << "roles" << YAML::Value << YAML::BeginMap;
  for (const AuthRoleConfig& role : a.roles) {
    out << YAML::Key << role.name << YAML::Value << YAML::BeginMap;
    // One mapping per kind, kinds in the order they first appear, globs in their order.
    std::vector<std::string> kinds;
    for (const auto& g : role.grants) {
      if (std::find(kinds.begin(), kinds.end(), g.kind) == kinds.end()) kinds.push_back(g.kind);
    }
    for (const std::string& kind : kinds) {
      out << YAML::Key << kind << YAML::Value << YAML::BeginMap;
      for (const auto& g : role.grants) {
        if (g.kind != kind) continue;
        out << YAML::Key << YAML::DoubleQuoted << g.glob << YAML::Value;
        List(out, g.actions);
      }
      out << YAML::EndMap;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
  out << YAML::EndMap;
}

}  // namespace

std::string PipelineConfigToYaml(const PipelineConfig& c) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "source" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << Lit(c.source.name);
  out << YAML::Key << "type" << YAML::Value << Lit(c.source.type);
  out << YAML::Key << "url" << YAML::Value << YAML::DoubleQuoted << Lit(Redact(c.source.url));
  out << YAML::Key << "results_per_page" << YAML::Value << Lit(c.source.results_per_page);
  out << YAML::Key << "seed" << YAML::Value << YAML::DoubleQuoted << Lit(c.source.seed);
  out << YAML::Key << "rate_limit_per_sec" << YAML::Value << Lit(c.source.rate_limit_per_sec);
  out << YAML::Key << "connect_timeout_ms" << YAML::Value << Lit(c.source.connect_timeout_ms);
  out << YAML::Key << "timeout_ms" << YAML::Value << Lit(c.source.timeout_ms);
  out << YAML::Key << "max_retries" << YAML::Value << Lit(c.source.max_retries);
  out << YAML::Key << "backoff_initial_ms" << YAML::Value << Lit(c.source.backoff_initial_ms);
  out << YAML::Key << "backoff_max_ms" << YAML::Value << Lit(c.source.backoff_max_ms);
  out << YAML::Key << "max_response_bytes" << YAML::Value << Lit(c.source.max_response_bytes);
  out << YAML::Key << "key" << YAML::Value;
  List(out, c.source.key_paths);
  out << YAML::Key << "key_fallback" << YAML::Value << Lit(c.source.key_fallback);
  if (c.source.type == "postgres_cdc") {
    out << YAML::Key << "tables" << YAML::Value;
    List(out, c.source.tables);
    out << YAML::Key << "publication" << YAML::Value << Lit(c.source.publication);
    out << YAML::Key << "slot" << YAML::Value << Lit(c.source.slot);
    if (!c.source.key_columns.empty()) {
      out << YAML::Key << "key_columns" << YAML::Value << YAML::BeginMap;
      for (const auto& [table, cols] : c.source.key_columns) {
        out << YAML::Key << table << YAML::Value;
        List(out, cols);
      }
      out << YAML::EndMap;
    }
    out << YAML::Key << "snapshot" << YAML::Value << Lit(c.source.snapshot);
  }
  out << YAML::EndMap;

  out << YAML::Key << "staging" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "url" << YAML::Value << Lit(Redact(c.staging.url));
  out << YAML::Key << "synchronous" << YAML::Value
      << (c.staging.synchronous_full ? "full" : "normal");
  out << YAML::EndMap;

  out << YAML::Key << "log" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "url" << YAML::Value << Lit(Redact(c.log.url));
  out << YAML::Key << "topic" << YAML::Value << Lit(c.log.topic);
  out << YAML::Key << "partitions" << YAML::Value << Lit(c.log.partitions);
  out << YAML::Key << "fsync" << YAML::Value << Lit((c.log.fsync_per_batch ? "batch" : "none"));
  out << YAML::Key << "segment_bytes" << YAML::Value << Lit(c.log.segment_bytes);
  out << YAML::Key << "retention_bytes" << YAML::Value << Lit(c.log.retention_bytes);
  out << YAML::Key << "retention_hours" << YAML::Value
      << static_cast<double>(c.log.retention_ms) / 3.6e6;
  out << YAML::Key << "retention_force" << YAML::Value << Lit(c.log.retention_force);
  out << YAML::Key << "replication_factor" << YAML::Value << Lit(c.log.replication_factor);
  out << YAML::Key << "format" << YAML::Value << Lit(std::string(LogFormatName(c.log.format)));
  if (c.log.format != LogConfig::Format::kJson) {
    out << YAML::Key << "subject" << YAML::Value << Lit(c.log.subject);
    if (!c.log.schema_file.empty()) {
      out << YAML::Key << "schema_file" << YAML::Value << Lit(c.log.schema_file);
    }
  }
  out << YAML::Key << "properties" << YAML::Value << YAML::BeginMap;
  for (const auto& [k, v] : c.log.properties) {
    // Secrets stay out of `config show` (common/redact.h decides what is secret).
    out << YAML::Key << k << YAML::Value
        << Lit((IsSecretName(k) ? std::string(kRedacted) : Redact(v)));
  }
  out << YAML::EndMap;
  out << YAML::EndMap;

  out << YAML::Key << "process" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "group" << YAML::Value << Lit(c.process.group);
  out << YAML::Key << "table" << YAML::Value << Lit(c.process.table);
  out << YAML::Key << "key_column" << YAML::Value << Lit(c.process.key_column);
  out << YAML::Key << "max_record_bytes" << YAML::Value << Lit(c.process.max_record_bytes);
  if (!c.process.delete_path.empty()) {
    out << YAML::Key << "delete_when" << YAML::Value << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "path" << YAML::Value << Lit(c.process.delete_path);
    out << YAML::Key << "equals" << YAML::Value << Lit(c.process.delete_value);
    out << YAML::EndMap;
  }
  if (!c.process.schema.subject.empty()) {
    out << YAML::Key << "schema" << YAML::Value << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "subject" << YAML::Value << Lit(c.process.schema.subject);
    out << YAML::Key << "type" << YAML::Value << Lit(c.process.schema.type);
    out << YAML::Key << "auto_register" << YAML::Value << Lit(c.process.schema.auto_register);
    out << YAML::EndMap;
  }
  WriteColumns(out, c.process.columns);
  if (!c.process.where.empty()) {
    out << YAML::Key << "where" << YAML::Value << YAML::DoubleQuoted << Lit(c.process.where);
  }
  if (!c.process.outputs.empty()) WriteOutputs(out, c.process.outputs);
  if (!c.process.aggregates.empty()) WriteAggregates(out, c.process.aggregates);
  out << YAML::EndMap;

  out << YAML::Key << "store" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "url" << YAML::Value << Lit(Redact(c.store.url));
  out << YAML::Key << "sync" << YAML::Value << Lit(c.store.sync);
  if (c.store.url.rfind("cassandra://", 0) == 0) {
    const CassandraConfig& cc = c.store.cassandra;
    out << YAML::Key << "username" << YAML::Value << Lit(cc.username);
    out << YAML::Key << "password" << YAML::Value
        << (cc.password.empty() ? std::string() : std::string(kRedacted));
    out << YAML::Key << "consistency" << YAML::Value << Lit(cc.consistency);
    out << YAML::Key << "table_consistency" << YAML::Value << YAML::BeginMap;
    for (const auto& [k, v] : cc.table_consistency) out << YAML::Key << k << YAML::Value << Lit(v);
    out << YAML::EndMap;
    out << YAML::Key << "local_datacenter" << YAML::Value << Lit(cc.local_datacenter);
    out << YAML::Key << "replication" << YAML::Value << YAML::Flow << YAML::BeginMap;
    for (const auto& [k, v] : cc.replication) out << YAML::Key << k << YAML::Value << Lit(v);
    out << YAML::EndMap;
    out << YAML::Key << "tls" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "enabled" << YAML::Value << Lit(cc.tls);
    out << YAML::Key << "ca_file" << YAML::Value << Lit(cc.tls_ca_file);
    out << YAML::Key << "cert_file" << YAML::Value << Lit(cc.tls_cert_file);
    out << YAML::Key << "key_file" << YAML::Value << Lit(cc.tls_key_file);
    out << YAML::Key << "verify_hostname" << YAML::Value << Lit(cc.tls_verify_hostname);
    out << YAML::EndMap;
    out << YAML::Key << "connections_per_host" << YAML::Value << Lit(cc.connections_per_host);
    out << YAML::Key << "max_in_flight_per_connection" << YAML::Value
        << cc.max_in_flight_per_connection;
    out << YAML::Key << "connect_timeout_ms" << YAML::Value << Lit(cc.connect_timeout_ms);
    out << YAML::Key << "request_timeout_ms" << YAML::Value << Lit(cc.request_timeout_ms);
    out << YAML::Key << "max_retries" << YAML::Value << Lit(cc.max_retries);
  }
  out << YAML::EndMap;

  out << YAML::Key << "tuning" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "batch_records" << YAML::Value << Lit(c.tuning.batch_records);
  out << YAML::Key << "max_staging_lag" << YAML::Value << Lit(c.tuning.max_staging_lag);
  out << YAML::Key << "max_log_lag" << YAML::Value << Lit(c.tuning.max_log_lag);
  out << YAML::Key << "max_in_flight_batches" << YAML::Value << Lit(c.tuning.max_in_flight_batches);
  out << YAML::EndMap;
  WriteScheduler(out, c.scheduler);
  WriteDags(out, c.dags);
  WriteAuth(out, c.auth);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace dataforge
