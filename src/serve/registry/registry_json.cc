#include "serve/registry/registry_json.h"

#include <simdjson.h>

#include <cctype>
#include <limits>

#include <fmt/format.h>

#include "common/json_writer.h"
#include "registry/registry_error.h"

namespace dataforge::serve_registry {
namespace {

using registry::RegistryStatus;

// Confluent's REST layer answers a body it cannot map with 400, error_code 400.
constexpr int kBadRequest = 400;

Status BadBody(std::string_view what) {
  return RegistryStatus(kBadRequest, fmt::format("the request body {}", what));
}

Result<simdjson::dom::object> ParseObject(simdjson::dom::parser& parser, std::string_view body,
                                          std::string_view example) {
  simdjson::dom::element doc;
  if (auto err = parser.parse(body.data(), body.size()).get(doc)) {
    return BadBody(fmt::format("is not valid JSON ({}); send an object like {}",
                               simdjson::error_message(err), example));
  }
  simdjson::dom::object obj;
  if (doc.get(obj) != simdjson::SUCCESS) {
    return BadBody(fmt::format("must be a JSON object like {}", example));
  }
  return obj;
}

// A string field; nullopt when absent or null; 400 for another type.
Result<std::optional<std::string>> OptString(simdjson::dom::object obj, std::string_view key) {
  simdjson::dom::element e;
  if (obj[key].get(e) != simdjson::SUCCESS || e.is_null()) return std::optional<std::string>();
  std::string_view s;
  if (e.get(s) != simdjson::SUCCESS) {
    return BadBody(fmt::format("field \"{}\" must be a string", key));
  }
  return std::optional<std::string>(std::string(s));
}

Result<std::optional<int64_t>> OptInt(simdjson::dom::object obj, std::string_view key, int64_t min,
                                      int64_t max) {
  simdjson::dom::element e;
  if (obj[key].get(e) != simdjson::SUCCESS || e.is_null()) return std::optional<int64_t>();
  int64_t v = 0;
  if (e.get(v) != simdjson::SUCCESS || v < min || v > max) {
    return BadBody(fmt::format("field \"{}\" must be a whole number from {} to {}", key, min, max));
  }
  return std::optional<int64_t>(v);
}

Result<std::vector<registry::SchemaReference>> References(simdjson::dom::object obj) {
  std::vector<registry::SchemaReference> out;
  simdjson::dom::element e;
  if (obj["references"].get(e) != simdjson::SUCCESS || e.is_null()) return out;
  simdjson::dom::array refs;
  if (e.get(refs) != simdjson::SUCCESS) {
    return BadBody("field \"references\" must be a list of {\"name\",\"subject\",\"version\"}");
  }
  for (simdjson::dom::element r : refs) {
    simdjson::dom::object ro;
    if (r.get(ro) != simdjson::SUCCESS) {
      return BadBody("each of \"references\" must be an object {\"name\",\"subject\",\"version\"}");
    }
    registry::SchemaReference ref;
    DF_ASSIGN_OR_RETURN(auto name, OptString(ro, "name"));
    DF_ASSIGN_OR_RETURN(auto subject, OptString(ro, "subject"));
    DF_ASSIGN_OR_RETURN(auto version,
                        OptInt(ro, "version", -1, std::numeric_limits<int32_t>::max()));
    ref.name = name.value_or("");
    ref.subject = subject.value_or("");
    ref.version = static_cast<int32_t>(version.value_or(0));
    out.push_back(std::move(ref));
  }
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

void AppendSchemaFields(JsonObjectWriter* w, const registry::SchemaText& s) {
  if (s.type != registry::SchemaType::kAvro) {
    w->String("schemaType", registry::SchemaTypeName(s.type));
  }
  if (!s.references.empty()) {
    std::string refs = "[";
    for (size_t i = 0; i < s.references.size(); ++i) {
      const auto& r = s.references[i];
      JsonObjectWriter o;
      o.String("name", r.name).String("subject", r.subject).Int("version", r.version);
      if (i > 0) refs += ',';
      refs += o.Finish();
    }
    w->Raw("references", refs + "]");
  }
}

}  // namespace

Result<SchemaRequest> ParseSchemaRequest(std::string_view body) {
  simdjson::dom::parser parser;
  DF_ASSIGN_OR_RETURN(simdjson::dom::object obj,
                      ParseObject(parser, body, R"({"schema": "...", "schemaType": "JSON"})"));
  SchemaRequest req;
  DF_ASSIGN_OR_RETURN(auto schema, OptString(obj, "schema"));
  if (!schema || schema->empty()) return RegistryStatus(registry::kInvalidSchema, "Empty schema");
  req.schema.schema = std::move(*schema);
  DF_ASSIGN_OR_RETURN(auto type, OptString(obj, "schemaType"));
  if (type) {
    auto parsed = registry::ParseSchemaType(*type);
    if (!parsed) {
      return RegistryStatus(registry::kInvalidSchema,
                            fmt::format("Invalid schema type {} (this registry serves AVRO and "
                                        "JSON)",
                                        *type));
    }
    req.schema.type = *parsed;
  }
  DF_ASSIGN_OR_RETURN(req.schema.references, References(obj));
  DF_ASSIGN_OR_RETURN(auto id, OptInt(obj, "id", 1, std::numeric_limits<int32_t>::max()));
  req.id = id;
  DF_ASSIGN_OR_RETURN(auto version, OptInt(obj, "version", 1, std::numeric_limits<int32_t>::max()));
  if (version) req.version = static_cast<int32_t>(*version);
  return req;
}

Result<registry::Compatibility> ParseConfigRequest(std::string_view body) {
  simdjson::dom::parser parser;
  DF_ASSIGN_OR_RETURN(simdjson::dom::object obj,
                      ParseObject(parser, body, R"({"compatibility": "FULL"})"));
  DF_ASSIGN_OR_RETURN(auto level, OptString(obj, "compatibility"));
  if (!level) {
    DF_ASSIGN_OR_RETURN(level, OptString(obj, "compatibilityLevel"));
  }
  auto parsed = level ? registry::ParseCompatibility(*level) : std::nullopt;
  if (!parsed) {
    return RegistryStatus(registry::kInvalidCompatibilityLevel,
                          fmt::format("Invalid compatibility level. Valid values are none, "
                                      "backward, forward, full, backward_transitive, "
                                      "forward_transitive, and full_transitive (got {})",
                                      level ? "'" + *level + "'" : std::string("none")));
  }
  return *parsed;
}

Result<registry::Mode> ParseModeRequest(std::string_view body) {
  simdjson::dom::parser parser;
  DF_ASSIGN_OR_RETURN(simdjson::dom::object obj,
                      ParseObject(parser, body, R"({"mode": "READONLY"})"));
  DF_ASSIGN_OR_RETURN(auto mode, OptString(obj, "mode"));
  auto parsed = mode ? registry::ParseMode(*mode) : std::nullopt;
  if (!parsed) {
    return RegistryStatus(registry::kInvalidMode,
                          fmt::format("Invalid mode. Valid values are READWRITE, READONLY and "
                                      "IMPORT (got {})",
                                      mode ? "'" + *mode + "'" : std::string("none")));
  }
  return *parsed;
}

std::string SubjectVersionJson(const registry::SubjectVersion& v) {
  JsonObjectWriter w;
  w.String("subject", v.subject).Int("version", v.version).Int("id", v.id);
  AppendSchemaFields(&w, v.schema);
  w.String("schema", v.schema.schema);
  if (v.deleted) w.Bool("deleted", true);
  return w.Finish();
}

std::string SchemaRecordJson(const registry::SchemaRecord& r) {
  JsonObjectWriter w;
  AppendSchemaFields(&w, r.schema);
  w.String("schema", r.schema.schema);
  return w.Finish();
}

std::string StringArrayJson(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    AppendJsonString(&out, items[i]);
  }
  return out + "]";
}

http::ApiResponse RegistryJson(std::string body, int status) {
  http::ApiResponse r = http::JsonResponse(std::move(body), status);
  r.content_type = std::string(kContentType);
  return r;
}

http::ApiResponse RegistryErrorResponse(const Status& status) {
  registry::RegistryError e = registry::RegistryErrorOf(status);
  JsonObjectWriter w;
  w.Int("error_code", e.error_code).String("message", e.message);
  return RegistryJson(w.Finish(), e.http_status);
}

http::ApiResponse RegistryServerError(int status, std::string_view /*code*/,
                                      std::string_view message) {
  int error_code = status == 401   ? registry::kUnauthorized
                   : status == 403 ? registry::kForbidden
                                   : status;
  JsonObjectWriter w;
  w.Int("error_code", error_code).String("message", message);
  return RegistryJson(w.Finish(), status);
}

bool BoolParam(const http::ApiRequest& req, std::string_view name) {
  const std::string* v = req.Query(name);
  return v != nullptr && EqualsIgnoreCase(*v, "true");
}

}  // namespace dataforge::serve_registry
