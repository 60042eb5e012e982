#include "auth/credential_cache.h"

#include <openssl/evp.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>

namespace dataforge::auth {
namespace {

// Fetched once: an implicit fetch per digest would take OpenSSL's provider lock per request.
const EVP_MD* Sha256() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) std::abort();  // OpenSSL without SHA-256: a broken installation
  return md;
}

struct CtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

}  // namespace

Digest CredentialDigest(std::initializer_list<std::string_view> parts) {
  thread_local std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
  Digest out{};
  unsigned int len = 0;
  bool ok = ctx && EVP_DigestInit_ex(ctx.get(), Sha256(), nullptr) == 1;
  for (std::string_view p : parts) {
    uint64_t n = p.size();
    ok = ok && EVP_DigestUpdate(ctx.get(), &n, sizeof n) == 1 &&
         EVP_DigestUpdate(ctx.get(), p.data(), p.size()) == 1;
  }
  ok = ok && EVP_DigestFinal_ex(ctx.get(), out.data(), &len) == 1;
  if (!ok || len != out.size()) std::abort();  // cannot happen with a working OpenSSL
  return out;
}

bool CredentialCache::Fresh(const CacheEntry& e, int64_t now_us, int64_t now_unix) const {
  if (e.expires_unix != 0 && now_unix >= e.expires_unix) return false;
  return e.kind == CacheEntry::Kind::kJwt || now_us - e.checked_us < max_age_us_;
}

CredentialCache::State CredentialCache::Lookup(const Digest& key, int64_t now_us, int64_t now_unix,
                                               CacheEntry* out) const {
  std::shared_lock lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return State::kMiss;
  if (Fresh(it->second, now_us, now_unix)) {
    out->principal = it->second.principal;
    return State::kFresh;
  }
  *out = it->second;
  return State::kStale;
}

void CredentialCache::Put(const Digest& key, CacheEntry entry, int64_t now_us, int64_t now_unix) {
  std::unique_lock lock(mu_);
  if (entries_.size() >= kMaxEntries && !entries_.count(key)) {
    std::erase_if(entries_, [&](const auto& kv) { return !Fresh(kv.second, now_us, now_unix); });
    if (entries_.size() >= kMaxEntries) entries_.clear();
  }
  entries_.insert_or_assign(key, std::move(entry));
}

void CredentialCache::Erase(const Digest& key) {
  std::unique_lock lock(mu_);
  entries_.erase(key);
}

size_t CredentialCache::size() const {
  std::shared_lock lock(mu_);
  return entries_.size();
}

}  // namespace dataforge::auth
