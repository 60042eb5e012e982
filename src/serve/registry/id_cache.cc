#include "serve/registry/id_cache.h"

namespace dataforge::serve_registry {

std::shared_ptr<const IdCache::Entry> IdCache::Get(int64_t id) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  auto it = slots_.find(id);
  if (it == slots_.end()) return nullptr;
  if (it->second.expires <= now) {
    slots_.erase(it);
    return nullptr;
  }
  return it->second.entry;
}

void IdCache::Put(int64_t id, std::shared_ptr<const Entry> entry, uint64_t generation) {
  const auto expires = std::chrono::steady_clock::now() + ttl_;
  std::lock_guard lock(mu_);
  if (generation != generation_) return;  // a write of this process came in between
  if (slots_.size() >= max_entries_) slots_.clear();
  slots_[id] = Slot{std::move(entry), expires};
}

uint64_t IdCache::Generation() {
  std::lock_guard lock(mu_);
  return generation_;
}

void IdCache::Invalidate() {
  std::lock_guard lock(mu_);
  ++generation_;
  slots_.clear();
}

}  // namespace dataforge::serve_registry
