// ApiRequest::Allowed, in a file of its own: it is the router library's only call into
// auth::AccessPolicy, so a binary that never calls it links without the auth library's code.
#include "auth/access_policy.h"
#include "serve/http/api.h"

namespace dataforge::http {

bool ApiRequest::Allowed(auth::ResourceKind kind, std::string_view name,
                         auth::Action action) const {
  return policy == nullptr || policy->Allows(principal, kind, name, action);
}

}  // namespace dataforge::http
