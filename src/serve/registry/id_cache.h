// GET /schemas/ids/{id}'s answers, kept briefly: Confluent's deserializers ask for an id on every
// cache miss of theirs, and reading it from the staging database (a transaction under the
// SQLite store's one connection, or a round trip to PostgreSQL) is the route's whole cost.
//
// An entry is the answer's body and the subjects holding the id (for the access check), valid
// for `ttl` after it was read and until this process writes to the registry (Invalidate, called
// by every route that registers or deletes). So a change this server makes shows at once; one
// another process makes (a `run` registering through the pipeline, another server on the same
// PostgreSQL permanently deleting a version) shows within `ttl`, as Confluent's followers lag
// their leader. A schema's text never changes under its id; only whether some version still
// holds it does.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace dataforge::serve_registry {

class IdCache {
 public:
  struct Entry {
    std::string body;                   // GET /schemas/ids/{id}'s JSON
    std::string schema;                 // the raw text (GET /schemas/ids/{id}/schema)
    std::vector<std::string> subjects;  // holding the id, soft-deleted versions included
  };

  explicit IdCache(std::chrono::milliseconds ttl = std::chrono::milliseconds(1000),
                   size_t max_entries = 10000)
      : ttl_(ttl), max_entries_(max_entries) {}

  // Null when absent or expired.
  std::shared_ptr<const Entry> Get(int64_t id);
  // `generation`: Generation() read before the registry was; an entry read across a write of
  // this process is not kept.
  void Put(int64_t id, std::shared_ptr<const Entry> entry, uint64_t generation);
  uint64_t Generation();
  void Invalidate();

 private:
  struct Slot {
    std::shared_ptr<const Entry> entry;
    std::chrono::steady_clock::time_point expires;
  };
  const std::chrono::milliseconds ttl_;
  const size_t max_entries_;
  std::mutex mu_;
  uint64_t generation_ = 0;                  // guarded by mu_
  std::unordered_map<int64_t, Slot> slots_;  // guarded by mu_
};

}  // namespace dataforge::serve_registry
