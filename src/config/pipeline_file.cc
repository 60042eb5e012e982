#include "config/pipeline_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "common/escape.h"
#include "common/redact.h"
#include "config/aggregates_reader.h"
#include "config/auth_reader.h"
#include "config/dag_reader.h"
#include "config/env_interpolation.h"
#include "config/outputs_reader.h"
#include "config/yaml_reader.h"
#include "expr/expression.h"

namespace dataforge {
namespace {

// "col" when the store key column is read from the change event's data.col, else "".
std::string StoreKeyColumn(const ProcessConfig& p) {
  for (const auto& c : p.columns) {
    if (c.name != p.key_column) continue;
    if (c.paths.size() != 1 || !c.templates.empty()) return "";
    const std::string& path = c.paths[0];
    if (path.rfind("data.", 0) != 0 || path.size() == 5) return "";
    if (path.find('.', 5) != std::string::npos) return "";
    return path.substr(5);
  }
  return "";
}

// Reads one YAML document into a PipelineConfig; the first error wins and carries a line.
class ConfigReader : public YamlReader {
 public:
  using YamlReader::YamlReader;

  Status Read(const YAML::Node& root, PipelineConfig* c) {
    if (root.IsNull()) return Status::OK();  // an empty file: all defaults
    if (!root.IsMap()) return Error(root, "the pipeline file must be a YAML mapping (key: value)");
    DF_RETURN_IF_ERROR(Keys(
        root, "the top level",
        {"source", "staging", "log", "process", "store", "tuning", "dags", "scheduler", "auth"}));
    if (auto n = root["source"]) DF_RETURN_IF_ERROR(ReadSource(n, &c->source));
    if (auto n = root["staging"]) DF_RETURN_IF_ERROR(ReadStaging(n, &c->staging));
    if (auto n = root["log"]) DF_RETURN_IF_ERROR(ReadLog(n, &c->log));
    if (auto n = root["process"]) DF_RETURN_IF_ERROR(ReadProcess(n, &c->process));
    if (auto n = root["store"]) DF_RETURN_IF_ERROR(ReadStore(n, &c->store));
    if (auto n = root["tuning"]) DF_RETURN_IF_ERROR(ReadTuning(n, &c->tuning));
    if (auto n = root["auth"]) DF_RETURN_IF_ERROR(AuthReader(file_).Read(n, &c->auth));
    c->source.store_key_column = StoreKeyColumn(c->process);
    DagReader dags(file_);
    if (auto n = root["scheduler"]) DF_RETURN_IF_ERROR(dags.ReadScheduler(n, &c->scheduler));
    // Like every section, `dags:` keeps the defaults unless the file names it: `dags:` with
    // DAGs replaces them all, `dags: {}` (or `dags:` alone) leaves none. The built-in DAG pulls
    // pages from an http source, so a file whose source is another type does not inherit it.
    if (auto n = root["dags"]) {
      DF_RETURN_IF_ERROR(dags.ReadDags(n, &c->dags));
    } else if (c->source.type != "http") {
      c->dags.clear();
    }
    return Status::OK();
  }

 private:
  Status ReadSource(const YAML::Node& n, SourceConfig* s) {
    DF_RETURN_IF_ERROR(
        Keys(n, "'source'",
             {"name", "url", "results_per_page", "seed", "rate_limit_per_sec", "connect_timeout_ms",
              "timeout_ms", "max_retries", "backoff_initial_ms", "backoff_max_ms",
              "max_response_bytes", "key", "key_fallback", "type", "tables", "publication", "slot",
              "key_columns", "snapshot"}));
    DF_RETURN_IF_ERROR(Choice(n, "type", {"http", "postgres_cdc"}, &s->type));
    DF_RETURN_IF_ERROR(StrList(n, "tables", &s->tables));
    DF_RETURN_IF_ERROR(Str(n, "publication", &s->publication));
    DF_RETURN_IF_ERROR(Str(n, "slot", &s->slot));
    DF_RETURN_IF_ERROR(ReadKeyColumns(n, s));
    DF_RETURN_IF_ERROR(Choice(n, "snapshot", {"initial", "never"}, &s->snapshot));
    DF_RETURN_IF_ERROR(Str(n, "name", &s->name));
    DF_RETURN_IF_ERROR(Str(n, "url", &s->url));
    DF_RETURN_IF_ERROR(Num(n, "results_per_page", 1, 5000, &s->results_per_page));
    DF_RETURN_IF_ERROR(Str(n, "seed", &s->seed));
    DF_RETURN_IF_ERROR(Num(n, "rate_limit_per_sec", 0.0, 1e6, &s->rate_limit_per_sec));
    DF_RETURN_IF_ERROR(Num<int64_t>(n, "connect_timeout_ms", 1, 3600000, &s->connect_timeout_ms));
    DF_RETURN_IF_ERROR(Num<int64_t>(n, "timeout_ms", 1, 3600000, &s->timeout_ms));
    DF_RETURN_IF_ERROR(Num(n, "max_retries", 0, 1000, &s->max_retries));
    DF_RETURN_IF_ERROR(Num<int64_t>(n, "backoff_initial_ms", 1, 3600000, &s->backoff_initial_ms));
    DF_RETURN_IF_ERROR(Num<int64_t>(n, "backoff_max_ms", 1, 3600000, &s->backoff_max_ms));
    DF_RETURN_IF_ERROR(
        Num<uint64_t>(n, "max_response_bytes", 1024, 1ull << 32, &s->max_response_bytes));
    DF_RETURN_IF_ERROR(StrList(n, "key", &s->key_paths));
    DF_RETURN_IF_ERROR(Choice(n, "key_fallback", {"hash", "deadletter"}, &s->key_fallback));
    if (s->name.empty()) return Error(n, "'source.name' must not be empty");
    if (s->type == "postgres_cdc") {
      if (s->url.rfind("postgres", 0) != 0) {
        return Error(n,
                     "a postgres_cdc source needs 'url: postgresql://user:password@host:port/db'");
      }
      if (s->tables.empty()) {
        return Error(
            n,
            "a postgres_cdc source needs 'tables': the tables to stream, e.g. [public.accounts]");
      }
    }
    return Status::OK();
  }

  // key_columns: {schema.table: [col, ...]} ("table" alone is public.table); each table must be
  // one of `tables`.
  Status ReadKeyColumns(const YAML::Node& n, SourceConfig* s) {
    auto map = n["key_columns"];
    if (!map || map.IsNull()) return Status::OK();
    if (!map.IsMap()) {
      return Error(map,
                   "'key_columns' must be a mapping of table: [columns], e.g. "
                   "{public.accounts: [id]}");
    }
    auto qualified = [](const std::string& t) {
      return t.find('.') == std::string::npos ? "public." + t : t;
    };
    s->key_columns.clear();
    for (const auto& kv : map) {
      std::string table = qualified(kv.first.as<std::string>());
      std::vector<std::string> cols;
      DF_RETURN_IF_ERROR(StrList(map, kv.first.as<std::string>().c_str(), &cols));
      if (cols.empty() || std::find(cols.begin(), cols.end(), "") != cols.end()) {
        return Error(kv.second, fmt::format("key_columns of {} must name at least one column, "
                                            "e.g. {{{}: [id]}}",
                                            table, table));
      }
      bool listed = false;
      for (const auto& t : s->tables) listed |= qualified(t) == table;
      if (!listed) {
        return Error(kv.first, fmt::format("key_columns names {}, which is not one of 'tables' "
                                           "({})",
                                           table, fmt::join(s->tables, ", ")));
      }
      s->key_columns.emplace_back(table, std::move(cols));
    }
    return Status::OK();
  }

  Status ReadStaging(const YAML::Node& n, StagingConfig* s) {
    DF_RETURN_IF_ERROR(Keys(n, "'staging'", {"url", "synchronous"}));
    DF_RETURN_IF_ERROR(Str(n, "url", &s->url));
    std::string sync = s->synchronous_full ? "full" : "normal";
    DF_RETURN_IF_ERROR(Choice(n, "synchronous", {"full", "normal"}, &sync));
    s->synchronous_full = sync == "full";
    return Status::OK();
  }

  Status ReadLog(const YAML::Node& n, LogConfig* s) {
    DF_RETURN_IF_ERROR(
        Keys(n, "'log'",
             {"url", "topic", "partitions", "fsync", "segment_bytes", "retention_bytes",
              "retention_hours", "retention_force", "replication_factor", "properties", "format",
              "subject", "schema_file"}));
    DF_RETURN_IF_ERROR(Num(n, "replication_factor", 0, 32, &s->replication_factor));
    DF_RETURN_IF_ERROR(StrMap(n, "properties",
                              "librdkafka properties (e.g. security.protocol: SASL_SSL)",
                              &s->properties));
    DF_RETURN_IF_ERROR(Str(n, "url", &s->url));
    DF_RETURN_IF_ERROR(Str(n, "topic", &s->topic));
    DF_RETURN_IF_ERROR(Num(n, "partitions", 1, 1024, &s->partitions));
    std::string fsync = s->fsync_per_batch ? "batch" : "none";
    DF_RETURN_IF_ERROR(Choice(n, "fsync", {"batch", "none"}, &fsync));
    s->fsync_per_batch = fsync == "batch";
    DF_RETURN_IF_ERROR(Num<uint64_t>(n, "segment_bytes", 4096, 1ull << 40, &s->segment_bytes));
    DF_RETURN_IF_ERROR(Num<uint64_t>(n, "retention_bytes", 0, 1ull << 50, &s->retention_bytes));
    double hours = static_cast<double>(s->retention_ms) / 3.6e6;
    DF_RETURN_IF_ERROR(Num(n, "retention_hours", 0.0, 1e6, &hours));
    s->retention_ms = static_cast<int64_t>(hours * 3.6e6);
    DF_RETURN_IF_ERROR(Bool(n, "retention_force", &s->retention_force));
    DF_RETURN_IF_ERROR(ReadLogFormat(n, s));
    if (s->topic.empty()) return Error(n, "'log.topic' must not be empty");
    for (char ch : s->topic) {
      if (!isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '-' && ch != '.') {
        return Error(n["topic"], fmt::format("topic '{}' may hold only letters, digits, '.', '_' "
                                             "and '-'",
                                             s->topic));
      }
    }
    return Status::OK();
  }

  // log.format, log.subject, log.schema_file (docs/pipeline-file.md "log.format").
  Status ReadLogFormat(const YAML::Node& n, LogConfig* s) {
    std::string format(LogFormatName(s->format));
    DF_RETURN_IF_ERROR(Choice(n, "format", {"json", "confluent-json", "confluent-avro"}, &format));
    s->format = format == "confluent-json"   ? LogConfig::Format::kConfluentJson
                : format == "confluent-avro" ? LogConfig::Format::kConfluentAvro
                                             : LogConfig::Format::kJson;
    DF_RETURN_IF_ERROR(Str(n, "subject", &s->subject));
    DF_RETURN_IF_ERROR(Str(n, "schema_file", &s->schema_file));
    if (s->format == LogConfig::Format::kJson) {
      if (n["subject"] && !s->subject.empty()) {
        return Error(n["subject"],
                     "'log.subject' is for the confluent formats: set log.format: "
                     "confluent-json or confluent-avro, or remove log.subject");
      }
      if (n["schema_file"] && !s->schema_file.empty()) {
        return Error(n["schema_file"],
                     "'log.schema_file' is for the confluent formats: set log.format: "
                     "confluent-json or confluent-avro, or remove log.schema_file");
      }
      return Status::OK();
    }
    if (s->subject.empty()) {
      return Error(n["format"] ? n["format"] : n,
                   fmt::format("log.format {} needs 'log.subject': the schema registry subject "
                               "of the records (e.g. subject: {}-value)",
                               format, s->topic));
    }
    if (s->schema_file.empty()) return Status::OK();
    // Relative to the pipeline file, so the file can move with its schemas.
    std::filesystem::path file(s->schema_file);
    std::filesystem::path dir = std::filesystem::path(file_).parent_path();
    if (file.is_relative() && !dir.empty()) {
      s->schema_file = (dir / file).lexically_normal().string();
    }
    std::error_code ec;
    if (!std::filesystem::is_regular_file(s->schema_file, ec)) {
      return Error(n["schema_file"],
                   fmt::format("'log.schema_file' {} does not exist (relative paths are read "
                               "from the pipeline file's directory): give the path of the "
                               "schema, or remove log.schema_file to use the latest version of "
                               "subject '{}'",
                               s->schema_file, s->subject));
    }
    return Status::OK();
  }

  Status ReadColumn(const YAML::Node& n, ColumnSpec* c) {
    DF_RETURN_IF_ERROR(Keys(n, "a column of 'process.columns'",
                            {"name", "type", "path", "template", "required", "expr"}));
    c->line = n.Mark().line + 1;
    DF_RETURN_IF_ERROR(Str(n, "name", &c->name));
    if (c->name.empty()) return Error(n, "every column needs a 'name'");
    DF_RETURN_IF_ERROR(Choice(
        n, "type", {"text", "uuid", "int", "bigint", "double", "boolean", "timestamp", "decimal"},
        &c->type));
    DF_RETURN_IF_ERROR(StrList(n, "path", &c->paths));
    DF_RETURN_IF_ERROR(StrList(n, "template", &c->templates));
    DF_RETURN_IF_ERROR(Bool(n, "required", &c->required));
    if (auto e = n["expr"]) {
      DF_RETURN_IF_ERROR(Str(n, "expr", &c->expr));
      if (!c->paths.empty() || !c->templates.empty()) {
        return Error(e, fmt::format("column '{}' has an 'expr' and a '{}': give one of them",
                                    c->name, c->paths.empty() ? "template" : "path"));
      }
      // The column's `line` becomes the expression's (a block-style column spans lines): the
      // mapper's errors about the column point at its expression.
      ExprPosition(e, &c->line, &c->expr_column);
      DF_RETURN_IF_ERROR(CompileExpr(e, c->expr, c->line, c->expr_column));
      return Status::OK();
    }
    if (c->paths.empty() && c->templates.empty()) {
      return Error(n,
                   fmt::format("column '{}' needs a 'path', a 'template' or an 'expr'", c->name));
    }
    return Status::OK();
  }

  // Where an expression's text starts in the file (1-based): the scalar's position, after its
  // opening quote when it is quoted. (A block scalar's text starts on the next line; its errors
  // then point at the line of `|` or `>`.)
  static void ExprPosition(const YAML::Node& n, int* line, int* column) {
    *line = n.Mark().line + 1;
    *column = n.Mark().column + 1 + (n.Tag() == "!" ? 1 : 0);
  }

  // Compiles an expression so a bad one fails `config check` with FILE:LINE:COL.
  Status CompileExpr(const YAML::Node& n, const std::string& text, int line, int column) {
    if (text.empty()) return Error(n, "the expression is empty: write one, or remove the key");
    auto e = expr::Expression::Compile(text, file_, line, column);
    return e.ok() ? Status::OK() : e.status();
  }

  Status ReadProcessSchema(const YAML::Node& n, ProcessSchemaConfig* s) {
    if (!n.IsMap()) {
      return Error(n,
                   "'process.schema' must be {subject: NAME, type: json|avro, auto_register: "
                   "true|false}");
    }
    DF_RETURN_IF_ERROR(Keys(n, "'process.schema'", {"subject", "type", "auto_register"}));
    s->line = n.Mark().line + 1;
    DF_RETURN_IF_ERROR(Str(n, "subject", &s->subject));
    DF_RETURN_IF_ERROR(Choice(n, "type", {"json", "avro"}, &s->type));
    DF_RETURN_IF_ERROR(Bool(n, "auto_register", &s->auto_register));
    if (s->subject.empty()) {
      return Error(n,
                   "'process.schema.subject' must name the registry subject the rows are "
                   "validated against (e.g. subject: users-row)");
    }
    return Status::OK();
  }

  Status ReadProcess(const YAML::Node& n, ProcessConfig* p) {
    DF_RETURN_IF_ERROR(Keys(n, "'process'",
                            {"group", "table", "key_column", "columns", "max_record_bytes",
                             "delete_when", "schema", "where", "outputs", "aggregates"}));
    if (auto sc = n["schema"]) DF_RETURN_IF_ERROR(ReadProcessSchema(sc, &p->schema));
    if (auto d = n["delete_when"]) {
      if (!d.IsMap()) return Error(d, "'process.delete_when' must be {path: FIELD, equals: VALUE}");
      DF_RETURN_IF_ERROR(Keys(d, "'process.delete_when'", {"path", "equals"}));
      DF_RETURN_IF_ERROR(Str(d, "path", &p->delete_path));
      DF_RETURN_IF_ERROR(Str(d, "equals", &p->delete_value));
      if (p->delete_path.empty()) return Error(d, "'process.delete_when.path' must not be empty");
    }
    DF_RETURN_IF_ERROR(Str(n, "group", &p->group));
    DF_RETURN_IF_ERROR(
        Num<size_t>(n, "max_record_bytes", 1, size_t{1} << 30, &p->max_record_bytes));
    DF_RETURN_IF_ERROR(Str(n, "table", &p->table));
    DF_RETURN_IF_ERROR(Str(n, "key_column", &p->key_column));
    if (auto w = n["where"]) {
      DF_RETURN_IF_ERROR(Str(n, "where", &p->where));
      if (!p->where.empty()) {
        ExprPosition(w, &p->where_line, &p->where_column);
        DF_RETURN_IF_ERROR(CompileExpr(w, p->where, p->where_line, p->where_column));
      }
    }
    if (auto cols = n["columns"]) {
      if (!cols.IsSequence()) return Error(cols, "'process.columns' must be a list of columns");
      p->columns.clear();
      std::set<std::string> seen;
      for (const auto& item : cols) {
        ColumnSpec c;
        DF_RETURN_IF_ERROR(ReadColumn(item, &c));
        if (!seen.insert(c.name).second) {
          return Error(item, fmt::format("column '{}' is declared twice", c.name));
        }
        p->columns.push_back(std::move(c));
      }
      if (p->columns.empty()) return Error(cols, "'process.columns' must list at least one column");
    }
    bool has_key = false;
    for (const auto& c : p->columns) has_key |= c.name == p->key_column;
    if (!has_key) {
      return Error(n, fmt::format("key_column '{}' is not one of the columns", p->key_column));
    }
    if (p->table.empty()) return Error(n, "'process.table' must not be empty");
    if (auto o = n["outputs"]) {
      DF_RETURN_IF_ERROR(ReadOutputs(
          *this, o, [this](const YAML::Node& c, ColumnSpec* spec) { return ReadColumn(c, spec); },
          p));
    }
    if (auto a = n["aggregates"])
      DF_RETURN_IF_ERROR(AggregatesReader(file_).Read(a, *p, &p->aggregates));
    return Status::OK();
  }

  Status ReadStore(const YAML::Node& n, StoreConfig* s) {
    DF_RETURN_IF_ERROR(Keys(n, "'store'",
                            {"url", "sync", "username", "password", "consistency",
                             "table_consistency", "local_datacenter", "replication", "tls",
                             "connections_per_host", "max_in_flight_per_connection",
                             "connect_timeout_ms", "request_timeout_ms", "max_retries"}));
    DF_RETURN_IF_ERROR(Str(n, "url", &s->url));
    DF_RETURN_IF_ERROR(Bool(n, "sync", &s->sync));
    CassandraConfig& c = s->cassandra;
    DF_RETURN_IF_ERROR(Str(n, "username", &c.username));
    DF_RETURN_IF_ERROR(Str(n, "password", &c.password));
    static constexpr std::initializer_list<const char*> kLevels = {
        "ANY",          "ONE",         "TWO",    "THREE",        "QUORUM",   "ALL",
        "LOCAL_QUORUM", "EACH_QUORUM", "SERIAL", "LOCAL_SERIAL", "LOCAL_ONE"};
    DF_RETURN_IF_ERROR(Choice(n, "consistency", kLevels, &c.consistency));
    DF_RETURN_IF_ERROR(
        StrMap(n, "table_consistency", "table: consistency level", &c.table_consistency));
    for (auto& [table, level] : c.table_consistency) {
      bool known = false;
      for (const char* l : kLevels) known |= level == l;
      if (!known) {
        return Error(n["table_consistency"][table],
                     fmt::format("table_consistency '{}' is '{}'; it must be one of: {}", table,
                                 level, fmt::join(kLevels, ", ")));
      }
    }
    DF_RETURN_IF_ERROR(Str(n, "local_datacenter", &c.local_datacenter));
    DF_RETURN_IF_ERROR(StrMap(n, "replication",
                              "CQL replication options (e.g. class: NetworkTopologyStrategy, "
                              "dc1: 3)",
                              &c.replication));
    bool has_class = false;
    for (const auto& kv : c.replication) has_class |= kv.first == "class";
    if (!has_class) {
      return Error(n["replication"],
                   "'store.replication' needs a 'class' (SimpleStrategy or "
                   "NetworkTopologyStrategy)");
    }
    if (auto t = n["tls"]) {
      DF_RETURN_IF_ERROR(Keys(t, "'store.tls'",
                              {"enabled", "ca_file", "cert_file", "key_file", "verify_hostname"}));
      DF_RETURN_IF_ERROR(Bool(t, "enabled", &c.tls));
      DF_RETURN_IF_ERROR(Str(t, "ca_file", &c.tls_ca_file));
      DF_RETURN_IF_ERROR(Str(t, "cert_file", &c.tls_cert_file));
      DF_RETURN_IF_ERROR(Str(t, "key_file", &c.tls_key_file));
      DF_RETURN_IF_ERROR(Bool(t, "verify_hostname", &c.tls_verify_hostname));
      if (c.tls_cert_file.empty() != c.tls_key_file.empty()) {
        return Error(t, "'store.tls' needs both cert_file and key_file for a client certificate");
      }
    }
    DF_RETURN_IF_ERROR(Num(n, "connections_per_host", 1, 64, &c.connections_per_host));
    DF_RETURN_IF_ERROR(
        Num(n, "max_in_flight_per_connection", 1, 32768, &c.max_in_flight_per_connection));
    DF_RETURN_IF_ERROR(Num<int64_t>(n, "connect_timeout_ms", 1, 3600000, &c.connect_timeout_ms));
    DF_RETURN_IF_ERROR(Num<int64_t>(n, "request_timeout_ms", 1, 3600000, &c.request_timeout_ms));
    DF_RETURN_IF_ERROR(Num(n, "max_retries", 0, 1000, &c.max_retries));
    return Status::OK();
  }

  Status ReadTuning(const YAML::Node& n, PipelineTuning* t) {
    DF_RETURN_IF_ERROR(
        Keys(n, "'tuning'",
             {"batch_records", "max_staging_lag", "max_log_lag", "max_in_flight_batches"}));
    DF_RETURN_IF_ERROR(Num(n, "batch_records", 1, 100000, &t->batch_records));
    DF_RETURN_IF_ERROR(Num<uint64_t>(n, "max_staging_lag", 1, 1ull << 40, &t->max_staging_lag));
    DF_RETURN_IF_ERROR(Num<uint64_t>(n, "max_log_lag", 1, 1ull << 40, &t->max_log_lag));
    DF_RETURN_IF_ERROR(Num(n, "max_in_flight_batches", 0, 1000, &t->max_in_flight_batches));
    return Status::OK();
  }
};

Result<PipelineConfig> ParseOver(PipelineConfig base, std::string_view yaml,
                                 const std::string& file_name) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::ParserException& e) {
    return Status::ConfigError(
        fmt::format("{}:{}: not valid YAML: {}", file_name, e.mark.line + 1, e.msg));
  }
  ConfigReader reader(file_name);
  try {
    DF_RETURN_IF_ERROR(reader.Read(root, &base));
  } catch (const YAML::Exception& e) {
    return Status::ConfigError(fmt::format("{}:{}: {}", file_name, e.mark.line + 1, e.msg));
  }
  return base;
}

}  // namespace

std::string_view LogFormatName(LogConfig::Format format) {
  switch (format) {
    case LogConfig::Format::kConfluentJson:
      return "confluent-json";
    case LogConfig::Format::kConfluentAvro:
      return "confluent-avro";
    case LogConfig::Format::kJson:
      break;
  }
  return "json";
}

PipelineConfig DefaultPipelineConfig() {
  PipelineConfig base;  // named: gcc 12 -O3 warns (maybe-uninitialized) about a temporary here
  auto parsed = ParseOver(std::move(base), DefaultPipelineYaml(), "<built-in default>");
  if (!parsed.ok()) {
    fmt::print(stderr, "dataforge: the built-in pipeline is broken: {}\n",
               parsed.status().message());
    std::abort();  // a bug in this build, caught by the config tests
  }
  return std::move(parsed).value();
}

void RegisterConfigSecrets(const PipelineConfig& config) {
  for (const std::string* url :
       {&config.source.url, &config.staging.url, &config.log.url, &config.store.url}) {
    RegisterSecretsIn(*url);
  }
  for (const auto& [k, v] : config.log.properties) {
    if (IsSecretName(k)) RegisterSecret(v);
    RegisterSecretsIn(v);
  }
  RegisterSecret(config.store.cassandra.password);
  RegisterSecret(config.auth.jwt.hs256_secret);
  for (const DagSpec& dag : config.dags) {
    for (const TaskSpec& task : dag.tasks) {
      RegisterSecretsIn(task.source_url);
      for (const auto& [k, v] : task.env) {
        if (IsSecretName(k)) RegisterSecret(v);
        RegisterSecretsIn(v);
      }
    }
  }
}

Result<PipelineConfig> ParsePipelineConfig(std::string_view yaml, const std::string& file_name) {
  auto parsed = ParseOver(DefaultPipelineConfig(), yaml, file_name);
  // The errors quote the file (a value, yaml-cpp's "unknown escape character: <it>"): one line.
  if (!parsed.ok()) return OneLineError(parsed.status());
  parsed->path = file_name;
  RegisterConfigSecrets(*parsed);
  return parsed;
}

Result<PipelineConfig> LoadPipelineConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::ConfigError(
        fmt::format("{}: cannot read the pipeline file: {}", path, std::strerror(errno)));
  }
  std::stringstream text;
  text << in.rdbuf();
  return ParsePipelineConfig(text.str(), path);
}

}  // namespace dataforge
