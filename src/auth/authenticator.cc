// The Authenticator: credential checks (credential_checks.cc) behind a cache of verified
// credentials (credential_cache.h) and a failed-login limit (login_limiter.h).
#include "auth/authenticator.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>

#include <fmt/format.h>

#include "auth/authenticator_impl.h"
#include "auth/credential_cache.h"
#include "auth/credential_checks.h"
#include "auth/login_limiter.h"

namespace dataforge::auth {
namespace {

Principal Anonymous() {
  return Principal{"anonymous", "admin", "none", ""};
}

class CachingAuthenticator final : public Authenticator {
 public:
  CachingAuthenticator(const AuthConfig& config, CredentialStore* store, Clock* clock,
                       AuthenticatorOptions options, CredentialChecks checks)
      : config_(config),
        store_(store),
        clock_(clock),
        options_(std::move(options)),
        checks_(std::move(checks)),
        cache_(options_.revalidate_us),
        limiter_(config.max_failed_logins_per_minute) {
    RefreshUsers(clock_->MonotonicMicros());
  }

  bool Required() override {
    if (config_.required) return true;
    const int64_t now = clock_->MonotonicMicros();
    if (now < next_users_check_us_.load(std::memory_order_acquire)) {
      return users_exist_.load(std::memory_order_relaxed);
    }
    // One thread re-reads the count; the others keep the last answer meanwhile.
    std::unique_lock lock(users_mu_, std::try_to_lock);
    if (lock.owns_lock() && now >= next_users_check_us_.load(std::memory_order_acquire)) {
      RefreshUsers(now);
    }
    return users_exist_.load(std::memory_order_relaxed);
  }

  Result<Principal> AuthenticateHttp(std::string_view authorization,
                                     std::string_view client_address) override {
    if (!Required()) return Anonymous();
    if (authorization.empty()) return Status::Unauthenticated(std::string(kMissingCredentials));
    return Authenticate(CredentialDigest({"http", authorization}), client_address,
                        [&] { return checks_.CheckHttp(authorization); });
  }

  Result<Principal> AuthenticatePassword(std::string_view user, std::string_view password,
                                         std::string_view client_address) override {
    if (!Required()) return Anonymous();
    return Authenticate(CredentialDigest({"password", user, password}), client_address, [&] {
      return checks_.CheckPassword(std::string(user), std::string(password), "password");
    });
  }

 private:
  template <typename FullCheck>
  Result<Principal> Authenticate(const Digest& digest, std::string_view address,
                                 const FullCheck& full_check) {
    int64_t now_us = clock_->MonotonicMicros();
    if (int64_t wait = limiter_.RetryAfterSeconds(address, now_us); wait > 0) {
      return Status::ResourceExhausted(
          fmt::format("too many failed logins from {}; retry in {}s", address, wait));
    }
    CacheEntry entry;
    if (cache_.Lookup(digest, now_us, NowUnix(), &entry) == CredentialCache::State::kFresh) {
      return std::move(entry.principal);
    }
    {
      // A stale key or password: ask the store again, without argon2. One thread at a time, so
      // a popular key going stale costs one store query, not one per waiting request.
      std::lock_guard lock(revalidate_mu_);
      now_us = clock_->MonotonicMicros();
      auto state = cache_.Lookup(digest, now_us, NowUnix(), &entry);
      if (state == CredentialCache::State::kFresh) return std::move(entry.principal);
      if (state == CredentialCache::State::kStale && entry.kind != CacheEntry::Kind::kJwt) {
        auto again = checks_.Revalidate(entry, NowUnix());
        if (!again.ok()) {
          cache_.Erase(digest);
          return Failed(again.status(), address);
        }
        if (again->has_value()) {  // else the stored hash changed: verify in full below
          CacheEntry& e = **again;
          e.checked_us = now_us;
          cache_.Put(digest, e, now_us, NowUnix());
          return e.principal;
        }
      }
    }
    // Not cached: the full check (argon2 for keys and passwords), one at a time, so a burst of
    // requests with one new key runs argon2 once and a login storm cannot exhaust memory.
    std::lock_guard lock(verify_mu_);
    now_us = clock_->MonotonicMicros();
    if (cache_.Lookup(digest, now_us, NowUnix(), &entry) == CredentialCache::State::kFresh) {
      return std::move(entry.principal);
    }
    auto checked = full_check();
    if (!checked.ok()) {
      cache_.Erase(digest);
      return Failed(checked.status(), address);
    }
    checked->checked_us = clock_->MonotonicMicros();
    cache_.Put(digest, *checked, checked->checked_us, NowUnix());
    return checked->principal;
  }

  // Counts a refused credential against the address (not a store outage).
  Status Failed(const Status& s, std::string_view address) {
    if (s.code() == StatusCode::kUnauthenticated) {
      limiter_.RecordFailure(address, clock_->MonotonicMicros());
    }
    return s;
  }

  void RefreshUsers(int64_t now_us) {
    bool exist = false;
    if (store_ != nullptr) {
      auto n = store_->UserCount();
      if (!n.ok()) {
        // Fail closed: with the store unreadable, nobody is let in as anonymous admin.
        spdlog::warn("auth: cannot count users ({}); authentication stays required",
                     n.status().message());
        exist = true;
      } else {
        exist = *n > 0;
      }
    }
    users_exist_.store(exist, std::memory_order_relaxed);
    next_users_check_us_.store(now_us + options_.revalidate_us, std::memory_order_release);
  }

  int64_t NowUnix() const { return clock_->NowMicros() / 1'000'000; }

  const AuthConfig config_;
  CredentialStore* const store_;
  Clock* const clock_;
  const AuthenticatorOptions options_;
  CredentialChecks checks_;
  CredentialCache cache_;
  LoginLimiter limiter_;

  std::mutex users_mu_;  // held by the thread re-reading the user count
  std::atomic<bool> users_exist_{true};
  std::atomic<int64_t> next_users_check_us_{0};

  std::mutex revalidate_mu_;  // serializes revalidations against the store
  std::mutex verify_mu_;      // serializes full checks (argon2)
};

}  // namespace

Result<std::unique_ptr<Authenticator>> CreateAuthenticator(const AuthConfig& config,
                                                           CredentialStore* store,
                                                           const AccessPolicy* policy, Clock* clock,
                                                           AuthenticatorOptions options) {
  if (!options.verify_secret) options.verify_secret = &VerifySecret;
  if (config.jwt.role_claim.empty() || config.jwt.subject_claim.empty()) {
    return Status::ConfigError("auth.jwt.role_claim and auth.jwt.subject_claim must name claims");
  }
  DF_ASSIGN_OR_RETURN(auto jwt, JwtVerifier::Create(config.jwt));
  CredentialChecks checks(store, policy, std::move(jwt), options.verify_secret, clock);
  return std::unique_ptr<Authenticator>(
      new CachingAuthenticator(config, store, clock, std::move(options), std::move(checks)));
}

Result<std::unique_ptr<Authenticator>> Authenticator::Create(const AuthConfig& config,
                                                             CredentialStore* store,
                                                             const AccessPolicy* policy,
                                                             Clock* clock) {
  return CreateAuthenticator(config, store, policy, clock, AuthenticatorOptions{});
}

}  // namespace dataforge::auth
