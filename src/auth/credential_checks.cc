#include "auth/credential_checks.h"

#include <strings.h>

#include <fmt/format.h>

#include "common/base64.h"
#include "common/escape.h"
#include "common/timestamp.h"

namespace dataforge::auth {
namespace {

Status Bad(std::string what) {
  return Status::Unauthenticated(std::move(what));
}

std::string Time(int64_t unix_s) {
  return FormatTimestampMillis(unix_s * 1000);
}

// A store failure is not a refused credential: 503, not 401, and not a failed login.
Status StoreError(const Status& s) {
  return Status::Unavailable(fmt::format("credential store: {}", s.message()));
}

bool SchemeIs(std::string_view scheme, const char* name) {
  return scheme.size() == std::strlen(name) && strncasecmp(scheme.data(), name, scheme.size()) == 0;
}

// Refuses a revoked or expired key.
Status KeyUsable(const ApiKeyRecord& key, int64_t now_unix) {
  if (key.revoked_unix != 0) {
    return Bad(fmt::format("API key '{}' was revoked at {}", key.key_id, Time(key.revoked_unix)));
  }
  if (key.expires_unix != 0 && now_unix >= key.expires_unix) {
    return Bad(fmt::format("API key '{}' expired at {}", key.key_id, Time(key.expires_unix)));
  }
  return Status::OK();
}

}  // namespace

CredentialChecks::CredentialChecks(CredentialStore* store, const AccessPolicy* policy,
                                   std::unique_ptr<JwtVerifier> jwt, VerifyFn verify, Clock* clock)
    : store_(store),
      policy_(policy),
      jwt_(std::move(jwt)),
      verify_(std::move(verify)),
      clock_(clock) {}

Result<CacheEntry> CredentialChecks::CheckHttp(std::string_view authorization) {
  const size_t space = authorization.find(' ');
  std::string_view scheme = authorization.substr(0, space);
  std::string_view credentials =
      space == std::string_view::npos ? std::string_view() : authorization.substr(space + 1);
  while (!credentials.empty() && credentials.front() == ' ') credentials.remove_prefix(1);
  while (!credentials.empty() && credentials.back() == ' ') credentials.remove_suffix(1);
  if (SchemeIs(scheme, "Bearer")) {
    if (credentials.empty()) return Bad("the Bearer token is empty");
    if (credentials.substr(0, 4) == "dfk_") return CheckKey(std::string(credentials));
    if (JwtVerifier::LooksLikeJwt(credentials)) return CheckJwt(credentials);
    return Bad("the Bearer token is neither an API key (dfk_...) nor a JWT");
  }
  if (SchemeIs(scheme, "Basic")) {
    auto decoded = Base64Decode(credentials);
    const size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) {
      return Bad("malformed Basic credentials (expected base64 of user:password)");
    }
    return CheckPassword(decoded->substr(0, colon), decoded->substr(colon + 1), "basic");
  }
  return Bad(fmt::format("unsupported authorization scheme '{}' (use Bearer or Basic)",
                         EscapeControlChars(scheme.substr(0, 20))));
}

Result<CacheEntry> CredentialChecks::CheckKey(const std::string& text) {
  auto id = ApiKeyId(text);
  if (!id) return Bad("malformed API key (expected dfk_<key id>_<secret>)");
  if (store_ == nullptr) return Bad("API keys are not accepted here (no credential store)");
  auto found = store_->FindKey(*id);
  if (!found.ok()) return StoreError(found.status());
  if (!found->has_value()) return Bad(fmt::format("unknown API key '{}'", *id));
  const ApiKeyRecord& key = **found;
  // The secret first: without it, a caller learns nothing about the key (revoked, expired).
  if (!verify_(key.secret_hash, text)) {
    return Bad(fmt::format("API key '{}' has a wrong secret", *id));
  }
  const int64_t now_unix = NowUnix();
  DF_RETURN_IF_ERROR(KeyUsable(key, now_unix));
  DF_ASSIGN_OR_RETURN(UserRecord user, KeyUser(key));
  CacheEntry e;
  e.kind = CacheEntry::Kind::kKey;
  e.principal = Principal{user.name, user.role, "key", key.key_id};
  e.stored_hash = key.secret_hash;
  e.expires_unix = key.expires_unix;
  return e;
}

Result<UserRecord> CredentialChecks::KeyUser(const ApiKeyRecord& key) {
  auto user = store_->FindUser(key.user);
  if (!user.ok()) return StoreError(user.status());
  if (!user->has_value()) {
    return Bad(fmt::format("the user '{}' of API key '{}' no longer exists", key.user, key.key_id));
  }
  return **user;
}

Result<CacheEntry> CredentialChecks::CheckPassword(const std::string& name,
                                                   const std::string& password,
                                                   const char* method) {
  if (store_ == nullptr) return Bad(std::string(kWrongPassword));
  auto user = store_->FindUser(name);
  if (!user.ok()) return StoreError(user.status());
  if (!user->has_value() || (*user)->password_hash.empty()) {
    DummyVerify(password);
    return Bad(std::string(kWrongPassword));
  }
  if (!verify_((*user)->password_hash, password)) return Bad(std::string(kWrongPassword));
  CacheEntry e;
  e.kind = CacheEntry::Kind::kPassword;
  e.principal = Principal{(*user)->name, (*user)->role, method, ""};
  e.stored_hash = (*user)->password_hash;
  return e;
}

Result<CacheEntry> CredentialChecks::CheckJwt(std::string_view token) {
  if (!jwt_ || !jwt_->enabled()) {
    return Bad("JWTs are not accepted here (auth.jwt has no hs256_secret or jwks_file)");
  }
  DF_ASSIGN_OR_RETURN(VerifiedToken t, jwt_->Verify(token, NowUnix()));
  const std::string* role = nullptr;
  for (const std::string& r : t.roles) {
    if (policy_ == nullptr || policy_->HasRole(r)) {
      role = &r;
      break;
    }
  }
  if (role == nullptr) {
    return Bad(
        fmt::format("the token's role '{}' is not a role of this server (built-in or "
                    "auth.roles)",
                    EscapeControlChars(t.roles.front().substr(0, 64))));
  }
  CacheEntry e;
  e.kind = CacheEntry::Kind::kJwt;
  e.principal = Principal{t.subject, *role, "jwt", ""};
  e.expires_unix = t.expires_unix + jwt_->leeway_s();
  return e;
}

Result<std::optional<CacheEntry>> CredentialChecks::Revalidate(const CacheEntry& entry,
                                                               int64_t now_unix) {
  CacheEntry e = entry;
  if (entry.kind == CacheEntry::Kind::kKey) {
    auto found = store_->FindKey(entry.principal.key_id);
    if (!found.ok()) return StoreError(found.status());
    if (!found->has_value()) {
      return Bad(fmt::format("API key '{}' no longer exists", entry.principal.key_id));
    }
    const ApiKeyRecord& key = **found;
    if (key.secret_hash != entry.stored_hash) return std::optional<CacheEntry>();
    DF_RETURN_IF_ERROR(KeyUsable(key, now_unix));
    DF_ASSIGN_OR_RETURN(UserRecord user, KeyUser(key));
    e.principal.name = user.name;
    e.principal.role = user.role;
    e.expires_unix = key.expires_unix;
    return std::optional<CacheEntry>(std::move(e));
  }
  if (entry.kind == CacheEntry::Kind::kPassword) {
    auto user = store_->FindUser(entry.principal.name);
    if (!user.ok()) return StoreError(user.status());
    if (!user->has_value()) return Bad(std::string(kWrongPassword));
    if ((*user)->password_hash != entry.stored_hash) return std::optional<CacheEntry>();
    e.principal.role = (*user)->role;
    return std::optional<CacheEntry>(std::move(e));
  }
  return std::optional<CacheEntry>();  // a JWT: verify it again
}

void CredentialChecks::DummyVerify(const std::string& password) {
  std::call_once(*dummy_once_, [this] {
    auto hash = HashSecret("dataforge: a password no user has");
    if (hash.ok()) dummy_hash_ = *hash;
  });
  if (!dummy_hash_.empty()) (void)verify_(dummy_hash_, password);
}

}  // namespace dataforge::auth
