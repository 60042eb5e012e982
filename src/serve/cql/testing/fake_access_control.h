// A CqlAccessControl for the endpoint's tests: users and exact grants held in memory, and
// every Audit() call recorded. The real one (cli/cql_access_control.h) is tested end to end
// with the Python driver (tests/python/cql_auth_test.py). Thread-safe.
#pragma once

#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "serve/cql/cql_access.h"

namespace dataforge::cql::testing {

class FakeAccessControl : public CqlAccessControl {
 public:
  struct AuditRecord {
    std::string user, role, peer, action, result;
  };

  // A user whose Authenticate() succeeds with `password`.
  void AddUser(std::string name, std::string password, std::string role) {
    std::lock_guard lock(mu_);
    users_.emplace(std::move(name), std::move(password), std::move(role));
  }
  // `role` holds `permission` on "ks.table", or on "ks" (CREATE KEYSPACE). Role "admin" holds
  // everything without grants.
  void Grant(std::string role, CqlPermission permission, std::string resource) {
    std::lock_guard lock(mu_);
    grants_.emplace(std::move(role), permission, std::move(resource));
  }
  void set_required(bool required) {
    std::lock_guard lock(mu_);
    required_ = required;
  }
  // The next Authenticate() answers this (ResourceExhausted, Unavailable...) whatever it gets.
  void FailNextLogin(Status s) {
    std::lock_guard lock(mu_);
    next_failure_ = std::move(s);
  }
  std::vector<AuditRecord> audit() const {
    std::lock_guard lock(mu_);
    return audit_;
  }
  std::vector<std::string> peers() const {
    std::lock_guard lock(mu_);
    return peers_;
  }

  bool Required() override {
    std::lock_guard lock(mu_);
    return required_;
  }
  Result<CqlUser> Authenticate(std::string_view user, std::string_view password,
                               std::string_view peer) override {
    std::lock_guard lock(mu_);
    peers_.emplace_back(peer);
    if (!next_failure_.ok()) {
      Status s = std::move(next_failure_);
      next_failure_ = Status::OK();
      return s;
    }
    for (const auto& [name, pw, role] : users_) {
      if (name == user && pw == password) return CqlUser{name, role};
    }
    return Status::Unauthenticated("unknown user or wrong password");
  }
  bool Allows(const CqlUser& user, CqlPermission permission, std::string_view keyspace,
              std::string_view table) override {
    if (user.role == "admin") return true;
    std::string resource(keyspace);
    if (!table.empty()) resource += "." + std::string(table);
    std::lock_guard lock(mu_);
    return grants_.count({user.role, permission, resource}) > 0;
  }
  void Audit(const CqlSessionUser& who, std::string_view action, std::string_view result) override {
    std::lock_guard lock(mu_);
    audit_.push_back(
        {who.user.name, who.user.role, who.peer, std::string(action), std::string(result)});
  }

 private:
  mutable std::mutex mu_;
  bool required_ = true;
  Status next_failure_;
  std::set<std::tuple<std::string, std::string, std::string>> users_;
  std::set<std::tuple<std::string, CqlPermission, std::string>> grants_;
  std::vector<AuditRecord> audit_;
  std::vector<std::string> peers_;
};

}  // namespace dataforge::cql::testing
