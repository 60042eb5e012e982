#include "config/auth_reader.h"

#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "common/redact.h"

namespace dataforge {
namespace {

// Shortest HS256 secret accepted: RFC 7518 3.2 wants a key at least as long as the hash.
constexpr size_t kMinHs256SecretBytes = 32;

int Line(const YAML::Node& n) {
  return n.Mark().line + 1;
}

}  // namespace

Status AuthReader::Read(const YAML::Node& n, AuthConfig* a) {
  if (n.IsNull()) return Status::OK();
  DF_RETURN_IF_ERROR(
      Keys(n, "'auth'", {"required", "audit_log", "max_failed_logins_per_minute", "jwt", "roles"}));
  DF_RETURN_IF_ERROR(Bool(n, "required", &a->required));
  DF_RETURN_IF_ERROR(Str(n, "audit_log", &a->audit_log));
  if (n["audit_log"] && a->audit_log.empty()) {
    return Error(n["audit_log"], "'auth.audit_log' must name a file (relative to the data dir)");
  }
  DF_RETURN_IF_ERROR(
      Num(n, "max_failed_logins_per_minute", 0, 1000000, &a->max_failed_logins_per_minute));
  if (auto j = n["jwt"]) DF_RETURN_IF_ERROR(ReadJwt(j, &a->jwt));
  if (auto roles = n["roles"]) {
    a->roles.clear();
    if (roles.IsNull()) return Status::OK();
    if (!roles.IsMap()) {
      return Error(roles,
                   "'auth.roles' must be a mapping of role name: grants, e.g. "
                   "{analyst: {tables: {\"sales.*\": [read]}}}");
    }
    for (const auto& kv : roles) {
      AuthRoleConfig role;
      DF_RETURN_IF_ERROR(ReadRole(kv.first.as<std::string>(), kv.second, &role));
      role.line = Line(kv.first);
      a->roles.push_back(std::move(role));
    }
  }
  return Status::OK();
}

Status AuthReader::ReadJwt(const YAML::Node& n, JwtConfig* j) {
  if (n.IsNull()) return Status::OK();
  DF_RETURN_IF_ERROR(Keys(n, "'auth.jwt'",
                          {"hs256_secret", "jwks_file", "issuer", "audience", "role_claim",
                           "subject_claim", "leeway_s"}));
  DF_RETURN_IF_ERROR(Str(n, "hs256_secret", &j->hs256_secret));
  if (j->hs256_secret == kRedacted) {
    return Error(n["hs256_secret"],
                 "'auth.jwt.hs256_secret' is the mask `config show` prints; give the secret, "
                 "e.g. hs256_secret: ${DATAFORGE_JWT_SECRET}");
  }
  if (!j->hs256_secret.empty() && j->hs256_secret.size() < kMinHs256SecretBytes) {
    // The secret itself is never quoted.
    return Error(n["hs256_secret"],
                 fmt::format("'auth.jwt.hs256_secret' is {} bytes; HS256 needs at least {} "
                             "(make one with: openssl rand -base64 32)",
                             j->hs256_secret.size(), kMinHs256SecretBytes));
  }
  DF_RETURN_IF_ERROR(Str(n, "jwks_file", &j->jwks_file));
  // Relative to the pipeline file, so the file can move with its keys.
  std::filesystem::path jwks(j->jwks_file);
  std::filesystem::path dir = std::filesystem::path(file_).parent_path();
  if (!j->jwks_file.empty() && jwks.is_relative() && !dir.empty()) {
    j->jwks_file = (dir / jwks).lexically_normal().string();
  }
  DF_RETURN_IF_ERROR(Str(n, "issuer", &j->issuer));
  DF_RETURN_IF_ERROR(Str(n, "audience", &j->audience));
  DF_RETURN_IF_ERROR(Str(n, "role_claim", &j->role_claim));
  DF_RETURN_IF_ERROR(Str(n, "subject_claim", &j->subject_claim));
  if (j->role_claim.empty()) return Error(n, "'auth.jwt.role_claim' must name a claim");
  if (j->subject_claim.empty()) return Error(n, "'auth.jwt.subject_claim' must name a claim");
  DF_RETURN_IF_ERROR(Num<int64_t>(n, "leeway_s", 0, 3600, &j->leeway_s));
  return Status::OK();
}

// NAME: {tables: {"glob": [read, write]}, pipeline: [read], ...}; a list means the glob "*".
Status AuthReader::ReadRole(const std::string& name, const YAML::Node& n, AuthRoleConfig* role) {
  role->name = name;
  if (n.IsNull()) return Status::OK();  // a role that grants nothing
  const std::string where = fmt::format("'auth.roles.{}'", name);
  DF_RETURN_IF_ERROR(
      Keys(n, where, {"tables", "pipeline", "deadletters", "dags", "admin", "subjects"}));
  for (const auto& kv : n) {
    const std::string kind = kv.first.as<std::string>();
    const YAML::Node& grants = kv.second;
    if (grants.IsSequence() || grants.IsScalar()) {
      AuthGrantConfig g;
      g.kind = kind;
      g.line = Line(grants);
      DF_RETURN_IF_ERROR(StrList(n, kind.c_str(), &g.actions));
      role->grants.push_back(std::move(g));
      continue;
    }
    if (!grants.IsMap()) {
      return Error(grants, fmt::format("auth.roles.{}.{} must be a list of actions or a mapping "
                                       "of glob: [actions], e.g. {{\"etl_*\": [read]}}",
                                       name, kind));
    }
    for (const auto& g_kv : grants) {
      AuthGrantConfig g;
      g.kind = kind;
      g.glob = g_kv.first.as<std::string>();
      g.line = Line(g_kv.first);
      DF_RETURN_IF_ERROR(StrList(grants, g.glob.c_str(), &g.actions));
      role->grants.push_back(std::move(g));
    }
  }
  return Status::OK();
}

}  // namespace dataforge
