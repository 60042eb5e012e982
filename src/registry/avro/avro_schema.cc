#include "registry/avro/avro_schema.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <simdjson.h>

#include "common/escape.h"
#include "registry/avro/avro_canonical.h"
#include "registry/avro/avro_json.h"

namespace dataforge::registry::avro {

std::string_view AvroTypeName(AvroType type) {
  switch (type) {
    case AvroType::kNull:
      return "null";
    case AvroType::kBoolean:
      return "boolean";
    case AvroType::kInt:
      return "int";
    case AvroType::kLong:
      return "long";
    case AvroType::kFloat:
      return "float";
    case AvroType::kDouble:
      return "double";
    case AvroType::kBytes:
      return "bytes";
    case AvroType::kString:
      return "string";
    case AvroType::kRecord:
      return "record";
    case AvroType::kEnum:
      return "enum";
    case AvroType::kArray:
      return "array";
    case AvroType::kMap:
      return "map";
    case AvroType::kUnion:
      return "union";
    case AvroType::kFixed:
      return "fixed";
  }
  return "?";
}

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

std::optional<AvroType> PrimitiveType(std::string_view name) {
  static constexpr std::pair<std::string_view, AvroType> kPrimitives[] = {
      {"null", AvroType::kNull},   {"boolean", AvroType::kBoolean}, {"int", AvroType::kInt},
      {"long", AvroType::kLong},   {"float", AvroType::kFloat},     {"double", AvroType::kDouble},
      {"bytes", AvroType::kBytes}, {"string", AvroType::kString},
  };
  for (const auto& [n, t] : kPrimitives) {
    if (n == name) return t;
  }
  return std::nullopt;
}

// [A-Za-z_][A-Za-z0-9_]*
bool ValidName(std::string_view s) {
  if (s.empty()) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(s[0])) return false;
  return std::all_of(s.begin() + 1, s.end(),
                     [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
}

bool ValidFullName(std::string_view s) {
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    if (!ValidName(s.substr(start, dot == std::string_view::npos ? dot : dot - start)))
      return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::string Minified(element e) {
  return std::string(simdjson::minify(e));
}

}  // namespace

// Parses one schema document at a time into a shared name table (the references first).
class AvroSchemaParser {
 public:
  explicit AvroSchemaParser(AvroSchema* schema) : schema_(schema) {}

  Result<const AvroNode*> ParseDocument(std::string_view text, std::string_view where,
                                        bool is_reference) {
    where_ = where;
    is_reference_ = is_reference;
    simdjson::padded_string padded(text);
    element root;
    if (auto err = parser_.parse(padded).get(root); err) {
      return Status::InvalidArgument(fmt::format("invalid Avro schema{}: not JSON ({})", where_,
                                                 simdjson::error_message(err)));
    }
    return Parse(root, "", "");
  }

  // Encodes every field default (after all types are complete, so recursion is fine).
  Status EncodeDefaults() {
    for (auto& [field, node, index] : pending_defaults_) {
      simdjson::padded_string padded(field->default_json);
      element value;
      if (parser_.parse(padded).get(value) != simdjson::SUCCESS) {
        return Status::Internal("default did not re-parse");
      }
      // The spec: a union field's default matches the union's first branch.
      const AvroNode* type = field->type;
      std::string prefix;
      if (type->type == AvroType::kUnion && !type->branches.empty()) {
        prefix.push_back('\0');  // branch 0 as a zig-zag varint
        type = type->branches[0];
      }
      field->default_bytes = prefix;
      if (auto err = EncodeDefault(*type, value, &field->default_bytes); err) {
        return Status::InvalidArgument(
            fmt::format("invalid Avro schema{}: default {} of field '{}' at {}/fields/{} is not a "
                        "valid {}{}: {}",
                        where_of_[field], EscapeControlChars(field->default_json), field->name,
                        node, index, AvroTypeName(type->type),
                        field->type->type == AvroType::kUnion
                            ? " (a union's default must match its first branch)"
                            : "",
                        err->message));
      }
    }
    return Status::OK();
  }

 private:
  Status Error(std::string_view path, std::string_view what) const {
    return Status::InvalidArgument(fmt::format("invalid Avro schema{}: {} at {}", where_,
                                               EscapeControlChars(what),
                                               path.empty() ? "/" : path));
  }

  AvroNode* NewNode(AvroType type) {
    schema_->nodes_.push_back(std::make_unique<AvroNode>());
    AvroNode* n = schema_->nodes_.back().get();
    n->type = type;
    n->may_be_empty = type == AvroType::kNull;
    return n;
  }

  Result<const AvroNode*> Lookup(std::string_view name, const std::string& ns,
                                 const std::string& path) {
    if (auto t = PrimitiveType(name)) return static_cast<const AvroNode*>(Primitive(*t));
    if (!ValidFullName(name)) return Error(path, fmt::format("invalid type name '{}'", name));
    if (name.find('.') == std::string_view::npos && !ns.empty()) {
      auto it = names_.find(ns + "." + std::string(name));
      if (it != names_.end()) return static_cast<const AvroNode*>(it->second);
    }
    auto it = names_.find(std::string(name));
    if (it != names_.end()) return static_cast<const AvroNode*>(it->second);
    return Error(path, fmt::format("unknown type '{}' (not defined before this use and not a "
                                   "referenced schema's type)",
                                   name));
  }

  AvroNode* Primitive(AvroType t) {
    auto& slot = primitives_[static_cast<int>(t)];
    if (slot == nullptr) slot = NewNode(t);
    return slot;
  }

  Result<const AvroNode*> Parse(element e, const std::string& ns, const std::string& path) {
    if (++depth_ > 256) return Error(path, "schema nested deeper than 256 levels");
    struct Guard {
      int* d;
      ~Guard() { --*d; }
    } guard{&depth_};
    std::string_view s;
    if (e.get_string().get(s) == simdjson::SUCCESS) return Lookup(s, ns, path);
    array arr;
    if (e.get_array().get(arr) == simdjson::SUCCESS) return ParseUnion(arr, ns, path);
    object obj;
    if (e.get_object().get(obj) != simdjson::SUCCESS) {
      return Error(path, "a schema must be a type name, an object or an array (union)");
    }
    std::string_view type;
    if (obj["type"].get_string().get(type) != simdjson::SUCCESS) {
      return Error(path, "missing or non-string \"type\"");
    }
    if (auto t = PrimitiveType(type)) return ParsePrimitive(*t, obj);
    if (type == "record" || type == "error") return ParseRecord(obj, ns, path);
    if (type == "enum") return ParseEnum(obj, ns, path);
    if (type == "fixed") return ParseFixed(obj, ns, path);
    if (type == "array" || type == "map") return ParseContainer(type == "array", obj, ns, path);
    // {"type":"Name"} naming a defined type.
    return Lookup(type, ns, path + "/type");
  }

  // Attributes not in `known`, as sorted (key, minified JSON) pairs.
  static std::vector<std::pair<std::string, std::string>> Props(
      object obj, std::initializer_list<std::string_view> known) {
    std::vector<std::pair<std::string, std::string>> props;
    for (auto [key, value] : obj) {
      if (std::find(known.begin(), known.end(), key) != known.end()) continue;
      props.emplace_back(std::string(key), Minified(value));
    }
    std::sort(props.begin(), props.end());
    return props;
  }

  Result<const AvroNode*> ParsePrimitive(AvroType t, object obj) {
    auto props = Props(obj, {"type"});
    if (props.empty()) return static_cast<const AvroNode*>(Primitive(t));
    AvroNode* n = NewNode(t);
    n->props = std::move(props);
    std::string_view logical;
    if (obj["logicalType"].get_string().get(logical) == simdjson::SUCCESS) {
      SetLogicalType(n, logical, obj);
    }
    return static_cast<const AvroNode*>(n);
  }

  // Invalid logical types are ignored (the spec: "implementations should ignore it").
  static void SetLogicalType(AvroNode* n, std::string_view logical, object obj) {
    const AvroType t = n->type;
    bool ok = false;
    if (logical == "decimal" && (t == AvroType::kBytes || t == AvroType::kFixed)) {
      int64_t precision = 0, scale = 0;
      if (obj["precision"].get_int64().get(precision) != simdjson::SUCCESS) return;
      if (obj["scale"].get_int64().get(scale) != simdjson::SUCCESS) scale = 0;
      if (precision <= 0 || scale < 0 || scale > precision || precision > 1000) return;
      n->precision = static_cast<int32_t>(precision);
      n->scale = static_cast<int32_t>(scale);
      ok = true;
    } else if (logical == "uuid") {
      ok = t == AvroType::kString;
    } else if (logical == "date" || logical == "time-millis") {
      ok = t == AvroType::kInt;
    } else if (logical == "time-micros" || logical == "timestamp-millis" ||
               logical == "timestamp-micros" || logical == "local-timestamp-millis" ||
               logical == "local-timestamp-micros") {
      ok = t == AvroType::kLong;
    } else if (logical == "duration") {
      ok = t == AvroType::kFixed && n->size == 12;
    }
    if (ok) n->logical_type = std::string(logical);
  }

  Result<const AvroNode*> ParseUnion(array arr, const std::string& ns, const std::string& path) {
    AvroNode* n = NewNode(AvroType::kUnion);
    std::set<std::string> seen;
    size_t i = 0;
    for (element b : arr) {
      const std::string bpath = fmt::format("{}/{}", path, i++);
      DF_ASSIGN_OR_RETURN(const AvroNode* branch, Parse(b, ns, bpath));
      if (branch->type == AvroType::kUnion) return Error(bpath, "a union may not hold a union");
      std::string key =
          branch->named() ? branch->full_name : std::string(AvroTypeName(branch->type));
      if (!seen.insert(key).second)
        return Error(bpath, fmt::format("duplicate union branch '{}'", key));
      n->branches.push_back(branch);
    }
    return static_cast<const AvroNode*>(n);
  }

  Result<const AvroNode*> ParseContainer(bool is_array, object obj, const std::string& ns,
                                         const std::string& path) {
    AvroNode* n = NewNode(is_array ? AvroType::kArray : AvroType::kMap);
    const char* key = is_array ? "items" : "values";
    element inner;
    if (obj[key].get(inner) != simdjson::SUCCESS)
      return Error(path, fmt::format("{} without \"{}\"", is_array ? "array" : "map", key));
    DF_ASSIGN_OR_RETURN(n->items, Parse(inner, ns, path + "/" + key));
    n->props = Props(obj, {"type", key});
    return static_cast<const AvroNode*>(n);
  }

  // name, namespace, aliases, doc of a named type; registers it.
  Status Name(AvroNode* n, object obj, const std::string& ns, const std::string& path,
              std::string* own_ns) {
    std::string_view name;
    if (obj["name"].get_string().get(name) != simdjson::SUCCESS)
      return Error(path, "a named type without a string \"name\"");
    if (!ValidFullName(name)) return Error(path + "/name", fmt::format("invalid name '{}'", name));
    std::string space = ns;
    std::string_view ns_attr;
    bool has_ns = obj["namespace"].get_string().get(ns_attr) == simdjson::SUCCESS;
    if (has_ns && !ns_attr.empty() && !ValidFullName(ns_attr))
      return Error(path + "/namespace", fmt::format("invalid namespace '{}'", ns_attr));
    if (has_ns) space = std::string(ns_attr);
    if (size_t dot = name.rfind('.'); dot != std::string_view::npos) {
      space = std::string(name.substr(0, dot));
      name = name.substr(dot + 1);
    }
    if (PrimitiveType(name) && space.empty())
      return Error(path + "/name",
                   fmt::format("'{}' is a primitive type and cannot be redefined", name));
    n->name = std::string(name);
    n->full_name = space.empty() ? n->name : space + "." + n->name;
    *own_ns = space;
    std::string_view doc;
    if (obj["doc"].get_string().get(doc) == simdjson::SUCCESS) n->doc = std::string(doc);
    array aliases;
    if (obj["aliases"].get_array().get(aliases) == simdjson::SUCCESS) {
      for (element a : aliases) {
        std::string_view alias;
        if (a.get_string().get(alias) != simdjson::SUCCESS || !ValidFullName(alias))
          return Error(path + "/aliases", "aliases must be valid names");
        n->aliases.push_back(alias.find('.') == std::string_view::npos && !space.empty()
                                 ? space + "." + std::string(alias)
                                 : std::string(alias));
      }
    }
    n->from_reference = is_reference_;
    if (!names_.emplace(n->full_name, n).second)
      return Error(path + "/name", fmt::format("type '{}' is defined twice", n->full_name));
    return Status::OK();
  }

  Result<const AvroNode*> ParseRecord(object obj, const std::string& ns, const std::string& path) {
    AvroNode* n = NewNode(AvroType::kRecord);
    std::string own_ns;
    DF_RETURN_IF_ERROR(Name(n, obj, ns, path, &own_ns));
    array fields;
    if (obj["fields"].get_array().get(fields) != simdjson::SUCCESS)
      return Error(path, fmt::format("record '{}' without a \"fields\" array", n->full_name));
    n->may_be_empty = true;
    size_t i = 0;
    for (element fe : fields) {
      const std::string fpath = fmt::format("{}/fields/{}", path, i);
      object fo;
      if (fe.get_object().get(fo) != simdjson::SUCCESS)
        return Error(fpath, "a field must be an object");
      AvroField f;
      std::string_view fname;
      if (fo["name"].get_string().get(fname) != simdjson::SUCCESS || !ValidName(fname))
        return Error(fpath + "/name", "a field needs a valid \"name\"");
      f.name = std::string(fname);
      element ftype;
      if (fo["type"].get(ftype) != simdjson::SUCCESS)
        return Error(fpath, fmt::format("field '{}' without \"type\"", fname));
      DF_ASSIGN_OR_RETURN(f.type, Parse(ftype, own_ns, fpath + "/type"));
      element def;
      if (fo["default"].get(def) == simdjson::SUCCESS) {
        f.has_default = true;
        f.default_json = Minified(def);
      }
      std::string_view s;
      if (fo["doc"].get_string().get(s) == simdjson::SUCCESS) f.doc = std::string(s);
      if (fo["order"].get(def) == simdjson::SUCCESS) {
        if (def.get_string().get(s) != simdjson::SUCCESS ||
            (s != "ascending" && s != "descending" && s != "ignore"))
          return Error(fpath + "/order",
                       "order must be \"ascending\", \"descending\" or \"ignore\"");
        if (s != "ascending") f.order = std::string(s);
      }
      array aliases;
      if (fo["aliases"].get_array().get(aliases) == simdjson::SUCCESS) {
        for (element a : aliases) {
          if (a.get_string().get(s) != simdjson::SUCCESS || !ValidName(s))
            return Error(fpath + "/aliases", "field aliases must be valid names");
          f.aliases.emplace_back(s);
        }
      }
      f.props = Props(fo, {"name", "type", "default", "doc", "order", "aliases"});
      if (!n->field_index.emplace(f.name, static_cast<int>(n->fields.size())).second)
        return Error(fpath + "/name", fmt::format("duplicate field '{}'", fname));
      // A recursive record is never empty (it could not be finite otherwise).
      n->may_be_empty = n->may_be_empty && f.type != n && f.type->may_be_empty;
      n->fields.push_back(std::move(f));
      ++i;
    }
    for (size_t k = 0; k < n->fields.size(); ++k) {
      if (n->fields[k].has_default) {
        pending_defaults_.push_back({&n->fields[k], path, k});
        where_of_[&n->fields[k]] = where_;
      }
    }
    n->props = Props(obj, {"type", "name", "namespace", "doc", "aliases", "fields"});
    return static_cast<const AvroNode*>(n);
  }

  Result<const AvroNode*> ParseEnum(object obj, const std::string& ns, const std::string& path) {
    AvroNode* n = NewNode(AvroType::kEnum);
    std::string own_ns;
    DF_RETURN_IF_ERROR(Name(n, obj, ns, path, &own_ns));
    array symbols;
    if (obj["symbols"].get_array().get(symbols) != simdjson::SUCCESS)
      return Error(path, fmt::format("enum '{}' without a \"symbols\" array", n->full_name));
    std::set<std::string_view> seen;
    for (element se : symbols) {
      std::string_view s;
      if (se.get_string().get(s) != simdjson::SUCCESS || !ValidName(s))
        return Error(path + "/symbols", "enum symbols must be valid names");
      if (!seen.insert(s).second)
        return Error(path + "/symbols", fmt::format("duplicate enum symbol '{}'", s));
      n->symbols.emplace_back(s);
    }
    element def;
    if (obj["default"].get(def) == simdjson::SUCCESS) {
      std::string_view s;
      if (def.get_string().get(s) != simdjson::SUCCESS || !seen.count(s))
        return Error(path + "/default", "an enum's default must be one of its symbols");
      n->enum_default = std::string(s);
    }
    n->props = Props(obj, {"type", "name", "namespace", "doc", "aliases", "symbols", "default"});
    return static_cast<const AvroNode*>(n);
  }

  Result<const AvroNode*> ParseFixed(object obj, const std::string& ns, const std::string& path) {
    AvroNode* n = NewNode(AvroType::kFixed);
    std::string own_ns;
    DF_RETURN_IF_ERROR(Name(n, obj, ns, path, &own_ns));
    uint64_t size = 0;
    if (obj["size"].get_uint64().get(size) != simdjson::SUCCESS || size > (1u << 30))
      return Error(path,
                   fmt::format("fixed '{}' needs a non-negative integer \"size\"", n->full_name));
    n->size = size;
    n->may_be_empty = size == 0;
    n->props = Props(obj, {"type", "name", "namespace", "doc", "aliases", "size"});
    std::string_view logical;
    if (obj["logicalType"].get_string().get(logical) == simdjson::SUCCESS)
      SetLogicalType(n, logical, obj);
    return static_cast<const AvroNode*>(n);
  }

  struct PendingDefault {
    AvroField* field;
    std::string node_path;
    size_t index;
  };

  AvroSchema* schema_;
  simdjson::dom::parser parser_;
  std::unordered_map<std::string, AvroNode*> names_;
  AvroNode* primitives_[8] = {};
  std::vector<PendingDefault> pending_defaults_;
  std::unordered_map<const AvroField*, std::string> where_of_;
  std::string where_;
  bool is_reference_ = false;
  int depth_ = 0;
};

Result<std::shared_ptr<const AvroSchema>> ParseAvroSchema(
    std::string_view text, const std::vector<ResolvedReference>& references) {
  auto schema = std::make_shared<AvroSchema>();
  AvroSchemaParser parser(schema.get());
  std::set<std::string_view> parsed_texts;
  for (const ResolvedReference& ref : references) {
    // One schema reached through two paths (a diamond) defines its types once.
    if (!parsed_texts.insert(ref.schema).second) continue;
    if (ref.type != SchemaType::kAvro) {
      return Status::InvalidArgument(fmt::format(
          "invalid Avro schema: reference '{}' is a {} schema; an Avro schema can only reference "
          "Avro schemas",
          EscapeControlChars(ref.name), SchemaTypeName(ref.type)));
    }
    auto r = parser.ParseDocument(
        ref.schema, fmt::format(" (reference '{}')", EscapeControlChars(ref.name)), true);
    if (!r.ok()) return r.status();
  }
  DF_ASSIGN_OR_RETURN(schema->root_, parser.ParseDocument(text, "", false));
  DF_RETURN_IF_ERROR(parser.EncodeDefaults());
  schema->canonical_ = CanonicalText(*schema->root_);
  return std::shared_ptr<const AvroSchema>(std::move(schema));
}

}  // namespace dataforge::registry::avro
