// Deterministic generation of randomuser.me 1.4 responses for the built-in API.
// Stateless functions; thread-safe.
#pragma once

#include <string>
#include <vector>

namespace dataforge::mockapi {

struct MockQuery {
  int results = 1;                // clamped to 1..5000 like randomuser
  std::string seed;               // "" = a random seed, echoed in info.seed
  int page = 1;                   // >= 1
  std::vector<std::string> nats;  // upper-case codes; empty = all
  std::string gender;             // "male", "female" or "" = both
  std::vector<std::string> inc;   // top-level fields to include (empty = all)
  std::vector<std::string> exc;   // top-level fields to exclude
};

// Parses randomuser query parameters leniently, as the real API does: junk is ignored.
MockQuery ParseMockQuery(const std::string& results, const std::string& seed,
                         const std::string& page, const std::string& nat, const std::string& gender,
                         const std::string& inc, const std::string& exc);

// The whole response body: {"results":[...],"info":{"seed","results","page","version":"1.4"}}.
// The same query always gives byte-identical output; users differ across pages and indexes,
// and login.uuid is unique per (seed, page, index).
std::string GenerateResponse(const MockQuery& query);

}  // namespace dataforge::mockapi
