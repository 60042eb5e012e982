// Who a request or a CQL connection acts as, once authenticated.
#pragma once

#include <string>

namespace dataforge::auth {

struct Principal {
  std::string name;  // user name, or a JWT's subject; "anonymous" while authentication is off
  std::string role;  // a role of the AccessPolicy ("admin" for anonymous while auth is off)
  // How the principal proved itself: "none" (auth off), "key", "basic", "jwt", "password" (CQL).
  std::string method = "none";
  std::string key_id;  // the API key's id when method == "key" (never the secret)
};

}  // namespace dataforge::auth
