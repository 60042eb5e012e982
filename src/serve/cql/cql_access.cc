#include "serve/cql/cql_access.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <fmt/format.h>

namespace dataforge::cql {
namespace {

// Compares SHA-256 digests so that the time taken depends on neither input's length nor content.
bool SameSecret(std::string_view a, std::string_view b) {
  unsigned char da[SHA256_DIGEST_LENGTH], db[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(a.data()), a.size(), da);
  SHA256(reinterpret_cast<const unsigned char*>(b.data()), b.size(), db);
  return CRYPTO_memcmp(da, db, sizeof da) == 0;
}

}  // namespace

std::string_view CqlPermissionName(CqlPermission permission) {
  switch (permission) {
    case CqlPermission::kSelect:
      return "SELECT";
    case CqlPermission::kModify:
      return "MODIFY";
    case CqlPermission::kCreate:
      return "CREATE";
    case CqlPermission::kAlter:
      return "ALTER";
  }
  return "?";
}

std::string_view PeerHost(std::string_view peer) {
  size_t colon = peer.rfind(':');
  return colon == std::string_view::npos ? peer : peer.substr(0, colon);
}

std::string CqlResourceText(std::string_view keyspace, std::string_view table) {
  if (table.empty()) return fmt::format("<keyspace {}>", keyspace);
  return fmt::format("<table {}.{}>", keyspace, table);
}

std::string UnauthorizedMessage(std::string_view user, CqlPermission permission,
                                std::string_view keyspace, std::string_view table) {
  return fmt::format("User {} has no {} permission on {} or any of its parents", user,
                     CqlPermissionName(permission), CqlResourceText(keyspace, table));
}

StaticCqlAccessControl::StaticCqlAccessControl(std::string user, std::string password,
                                               std::string role)
    : user_(std::move(user)), password_(std::move(password)), role_(std::move(role)) {}

bool StaticCqlAccessControl::Matches(std::string_view user, std::string_view password) const {
  // Both compared, always: the time does not say which one was wrong.
  bool user_ok = SameSecret(user, user_);
  bool password_ok = SameSecret(password, password_);
  return user_ok && password_ok;
}

Result<CqlUser> StaticCqlAccessControl::Authenticate(std::string_view user,
                                                     std::string_view password,
                                                     std::string_view /*peer*/) {
  if (!Matches(user, password)) {
    return Status::Unauthenticated("unknown user or wrong password");
  }
  return CqlUser{user_, role_};
}

}  // namespace dataforge::cql
