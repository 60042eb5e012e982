#include "serve/cql/system_tables.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>

#include "serve/cql/md5.h"

namespace dataforge::cql {
namespace {

using Row = std::vector<std::optional<std::string>>;

const DataType kText = DataType::Of(TypeId::kVarchar);
const DataType kUuidType = DataType::Of(TypeId::kUuid);
const DataType kInetType = DataType::Of(TypeId::kInet);
const DataType kBoolType = DataType::Of(TypeId::kBoolean);
const DataType kDoubleType = DataType::Of(TypeId::kDouble);
const DataType kIntType = DataType::Of(TypeId::kInt);

// The CQL version and release we present: Cassandra 3.11 (see the header).
constexpr std::string_view kCqlVersion = "3.4.4";

std::optional<std::string> Text(std::string_view s) {
  return EncodeText(s);
}

// Uuid text we produce ourselves is always well formed.
std::optional<std::string> Uuid(std::string_view text) {
  auto r = EncodeUuid(text);
  return r.ok() ? std::optional<std::string>(*r) : std::nullopt;
}

// 4 (IPv4) or 16 (IPv6) address bytes; null when the text is not an address.
std::optional<std::string> Inet(const std::string& address) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, address.c_str(), buf) == 1) {
    return std::string(reinterpret_cast<char*>(buf), 4);
  }
  if (inet_pton(AF_INET6, address.c_str(), buf) == 1) {
    return std::string(reinterpret_cast<char*>(buf), 16);
  }
  return std::nullopt;
}

class TableBuilder {
 public:
  TableBuilder(std::string_view keyspace, std::string_view table)
      : keyspace_(keyspace), table_(table) {}
  TableBuilder& Column(std::string name, DataType type) {
    t_.columns.push_back({keyspace_, table_, std::move(name), std::move(type)});
    return *this;
  }
  VirtualTable Build(std::vector<Row> rows) {
    t_.rows = std::move(rows);
    return std::move(t_);
  }

 private:
  std::string keyspace_, table_;
  VirtualTable t_;
};

VirtualTable Local(const SystemInfo& info, const Catalog& catalog) {
  auto t = TableBuilder("system", "local")
               .Column("key", kText)
               .Column("bootstrapped", kText)
               .Column("broadcast_address", kInetType)
               .Column("cluster_name", kText)
               .Column("cql_version", kText)
               .Column("data_center", kText)
               .Column("host_id", kUuidType)
               .Column("listen_address", kInetType)
               .Column("native_protocol_version", kText)
               .Column("partitioner", kText)
               .Column("rack", kText)
               .Column("release_version", kText)
               .Column("rpc_address", kInetType)
               .Column("schema_version", kUuidType)
               .Column("tokens", DataType::Set(kText));
  return t.Build({{
      Text("local"),
      Text("COMPLETED"),
      Inet(info.listen_address),
      Text(info.cluster_name),
      Text(kCqlVersion),
      Text(info.data_center),
      Uuid(Md5Uuid("host:" + info.cluster_name + ":" + info.listen_address)),
      Inet(info.listen_address),
      Text("4"),
      Text("org.apache.cassandra.dht.Murmur3Partitioner"),
      Text(info.rack),
      Text(info.release_version),
      Inet(info.listen_address),
      Uuid(SchemaVersion(catalog)),
      EncodeStringSet({"0"}),
  }});
}

VirtualTable Peers() {
  return TableBuilder("system", "peers")
      .Column("peer", kInetType)
      .Column("data_center", kText)
      .Column("host_id", kUuidType)
      .Column("preferred_ip", kInetType)
      .Column("rack", kText)
      .Column("release_version", kText)
      .Column("rpc_address", kInetType)
      .Column("schema_version", kUuidType)
      .Column("tokens", DataType::Set(kText))
      .Build({});
}

VirtualTable Keyspaces(const Catalog& catalog) {
  std::vector<Row> rows;
  for (const KeyspaceSchema& ks : catalog.keyspaces) {
    rows.push_back({Text(ks.name), EncodeBoolean(true), EncodeStringMap(ks.replication)});
  }
  return TableBuilder("system_schema", "keyspaces")
      .Column("keyspace_name", kText)
      .Column("durable_writes", kBoolType)
      .Column("replication", DataType::Map(kText, kText))
      .Build(std::move(rows));
}

std::pair<std::string, std::string> SplitTable(const std::string& table) {
  size_t dot = table.find('.');
  if (dot == std::string::npos) return {"", table};
  return {table.substr(0, dot), table.substr(dot + 1)};
}

VirtualTable Tables(const Catalog& catalog) {
  std::vector<Row> rows;
  for (const TableSchema& t : catalog.tables) {
    auto [ks, name] = SplitTable(t.table);
    rows.push_back({
        Text(ks),
        Text(name),
        EncodeDouble(0.01),
        EncodeStringMap({{"keys", "ALL"}, {"rows_per_partition", "NONE"}}),
        EncodeBoolean(false),
        Text(""),
        EncodeStringMap(
            {{"class", "org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy"},
             {"max_threshold", "32"},
             {"min_threshold", "4"}}),
        EncodeStringMap({{"chunk_length_in_kb", "64"},
                         {"class", "org.apache.cassandra.io.compress.LZ4Compressor"}}),
        EncodeDouble(1.0),
        EncodeDouble(0.1),
        EncodeInt(0),
        EncodeCollection({}),
        EncodeStringSet({"compound"}),
        EncodeInt(864000),
        Uuid(Md5Uuid("table:" + t.table)),
        EncodeInt(2048),
        EncodeInt(0),
        EncodeInt(128),
        EncodeDouble(0.0),
        Text("99PERCENTILE"),
    });
  }
  return TableBuilder("system_schema", "tables")
      .Column("keyspace_name", kText)
      .Column("table_name", kText)
      .Column("bloom_filter_fp_chance", kDoubleType)
      .Column("caching", DataType::Map(kText, kText))
      .Column("cdc", kBoolType)
      .Column("comment", kText)
      .Column("compaction", DataType::Map(kText, kText))
      .Column("compression", DataType::Map(kText, kText))
      .Column("crc_check_chance", kDoubleType)
      .Column("dclocal_read_repair_chance", kDoubleType)
      .Column("default_time_to_live", kIntType)
      .Column("extensions", DataType::Map(kText, DataType::Of(TypeId::kBlob)))
      .Column("flags", DataType::Set(kText))
      .Column("gc_grace_seconds", kIntType)
      .Column("id", kUuidType)
      .Column("max_index_interval", kIntType)
      .Column("memtable_flush_period_in_ms", kIntType)
      .Column("min_index_interval", kIntType)
      .Column("read_repair_chance", kDoubleType)
      .Column("speculative_retry", kText)
      .Build(std::move(rows));
}

VirtualTable Columns(const Catalog& catalog) {
  std::vector<Row> rows;
  for (const TableSchema& t : catalog.tables) {
    auto [ks, name] = SplitTable(t.table);
    for (const ColumnSchema& c : t.columns) {
      bool key = c.name == t.key_column;
      // The catalog's spelling may be an alias ("varchar"); drivers want the canonical one.
      auto type = ParseTypeName(c.type);
      rows.push_back({Text(ks), Text(name), Text(c.name), Text("none"), c.name,
                      Text(key ? "partition_key" : "regular"), EncodeInt(key ? 0 : -1),
                      Text(type.ok() ? TypeName(*type) : c.type)});
    }
  }
  return TableBuilder("system_schema", "columns")
      .Column("keyspace_name", kText)
      .Column("table_name", kText)
      .Column("column_name", kText)
      .Column("clustering_order", kText)
      .Column("column_name_bytes", DataType::Of(TypeId::kBlob))
      .Column("kind", kText)
      .Column("position", kIntType)
      .Column("type", kText)
      .Build(std::move(rows));
}

// The schema tables that are always empty here, with their Cassandra 3.11 columns.
Result<VirtualTable> EmptySchemaTable(std::string_view table) {
  const DataType list = DataType::List(kText);
  const DataType map = DataType::Map(kText, kText);
  TableBuilder b("system_schema", table);
  b.Column("keyspace_name", kText);
  if (table == "types") {
    b.Column("type_name", kText).Column("field_names", list).Column("field_types", list);
  } else if (table == "functions") {
    b.Column("function_name", kText)
        .Column("argument_types", list)
        .Column("argument_names", list)
        .Column("body", kText)
        .Column("called_on_null_input", kBoolType)
        .Column("language", kText)
        .Column("return_type", kText);
  } else if (table == "aggregates") {
    b.Column("aggregate_name", kText)
        .Column("argument_types", list)
        .Column("final_func", kText)
        .Column("initcond", kText)
        .Column("return_type", kText)
        .Column("state_func", kText)
        .Column("state_type", kText);
  } else if (table == "triggers") {
    b.Column("table_name", kText).Column("trigger_name", kText).Column("options", map);
  } else if (table == "indexes") {
    b.Column("table_name", kText)
        .Column("index_name", kText)
        .Column("kind", kText)
        .Column("options", map);
  } else if (table == "views") {
    b.Column("view_name", kText)
        .Column("base_table_id", kUuidType)
        .Column("base_table_name", kText)
        .Column("include_all_columns", kBoolType)
        .Column("where_clause", kText);
  } else if (table == "dropped_columns") {
    b.Column("table_name", kText)
        .Column("column_name", kText)
        .Column("dropped_time", DataType::Of(TypeId::kTimestamp))
        .Column("type", kText);
  } else {
    return Status::InvalidArgument("unconfigured table " + std::string(table));
  }
  return b.Build({});
}

}  // namespace

Result<Catalog> LoadCatalog(Store* store, const std::vector<std::string>& also_tables) {
  Catalog c;
  DF_ASSIGN_OR_RETURN(c.keyspaces, store->ListKeyspaces());
  DF_ASSIGN_OR_RETURN(std::vector<std::string> tables, store->ListTables());
  tables.insert(tables.end(), also_tables.begin(), also_tables.end());
  std::sort(tables.begin(), tables.end());
  tables.erase(std::unique(tables.begin(), tables.end()), tables.end());
  for (const std::string& name : tables) {
    auto schema = store->DescribeTable(name);
    if (schema.status().code() == StatusCode::kNotFound) continue;
    if (!schema.ok()) return schema.status();
    std::string ks = SplitTable(name).first;
    if (ks.empty()) continue;
    if (std::none_of(c.keyspaces.begin(), c.keyspaces.end(),
                     [&](const KeyspaceSchema& k) { return k.name == ks; })) {
      c.keyspaces.push_back({ks, {{"class", "SimpleStrategy"}, {"replication_factor", "1"}}});
    }
    c.tables.push_back(std::move(schema).value());
  }
  std::sort(c.keyspaces.begin(), c.keyspaces.end(),
            [](const KeyspaceSchema& a, const KeyspaceSchema& b) { return a.name < b.name; });
  std::sort(c.tables.begin(), c.tables.end(),
            [](const TableSchema& a, const TableSchema& b) { return a.table < b.table; });
  return c;
}

std::string SchemaVersion(const Catalog& catalog) {
  // Length-prefixed fields, so that no two different catalogs serialize the same.
  std::string s;
  auto add = [&](std::string_view field) {
    s += std::to_string(field.size());
    s += ':';
    s += field;
  };
  for (const KeyspaceSchema& ks : catalog.keyspaces) {
    add("keyspace");
    add(ks.name);
    for (const auto& [k, v] : ks.replication) {
      add(k);
      add(v);
    }
  }
  for (const TableSchema& t : catalog.tables) {
    add("table");
    add(t.table);
    add(t.key_column);
    for (const ColumnSchema& c : t.columns) {
      add(c.name);
      add(c.type);
    }
  }
  return Md5Uuid(s);
}

bool IsSystemKeyspace(std::string_view keyspace) {
  static constexpr std::array<std::string_view, 6> kSystem = {
      "system",      "system_schema",      "system_virtual_schema",
      "system_auth", "system_distributed", "system_traces"};
  return std::find(kSystem.begin(), kSystem.end(), keyspace) != kSystem.end();
}

Result<VirtualTable> ReadSystemTable(const SystemInfo& info, const Catalog& catalog,
                                     std::string_view keyspace, std::string_view table) {
  if (keyspace == "system") {
    if (table == "local") return Local(info, catalog);
    if (table == "peers") return Peers();
  } else if (keyspace == "system_schema") {
    if (table == "keyspaces") return Keyspaces(catalog);
    if (table == "tables") return Tables(catalog);
    if (table == "columns") return Columns(catalog);
    return EmptySchemaTable(table);
  }
  return Status::InvalidArgument("unconfigured table " + std::string(table));
}

}  // namespace dataforge::cql
