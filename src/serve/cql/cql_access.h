// Who may use the CQL endpoint and what each user may do: the seam between the endpoint
// (serve/cql) and whatever keeps users and roles (the CLI adapts src/auth to it: cli/
// cql_endpoint.cc). The endpoint depends on this interface only.
//
// Authentication (cql_connection.cc): when Required() says so at a connection's STARTUP, the
// server answers AUTHENTICATE org.apache.cassandra.auth.PasswordAuthenticator and checks the
// SASL PLAIN AUTH_RESPONSE with Authenticate():
//   OK                  AUTH_SUCCESS; the connection acts as the returned user until it closes
//   Unauthenticated     ERROR Bad_credentials (0x0100) "Provided username U and/or password are
//                       incorrect" (Cassandra's text; which of the two was wrong is not said)
//   ResourceExhausted   ERROR Bad_credentials with the status's message (too many failed logins
//                       from this address; it says when to retry)
//   anything else       ERROR Server_error (0x0000) with the status's message
// When authentication is off, connections are READY at STARTUP and no statement is checked;
// once Required() turns true (a user was added), such a connection's statements get ERROR
// Unauthorized "authentication was turned on after this connection was opened ...": it must
// reconnect with credentials.
//
// Authorization (cql_engine.cc), for an authenticated connection, before anything runs:
//   SELECT                         SELECT on <table ks.t>; system keyspaces (system,
//                                  system_schema, ...) are readable by every authenticated user,
//                                  because drivers read them on connect
//   INSERT, UPDATE, DELETE, BATCH  MODIFY on each table written (a BATCH is checked whole first)
//   CREATE TABLE ks.t              CREATE on <table ks.t>
//   CREATE KEYSPACE ks             CREATE on <keyspace ks> (every table of ks)
//   USE, PREPARE                   nothing (EXECUTE checks the prepared statement)
// A refusal is ERROR Unauthorized (0x2100) with Cassandra's text naming the user, the missing
// permission and the resource: "User alice has no MODIFY permission on <table ks.users> or any
// of its parents". Every write and schema change of an authenticated connection (allowed or
// not) is passed to Audit() once its outcome is known.
//
// Thread-safety: implementations are called from every connection's reader thread and from
// the engine's workers at once; they must be safe for concurrent use.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace dataforge::cql {

enum class CqlPermission { kSelect, kModify, kCreate, kAlter };

// "SELECT", "MODIFY", "CREATE", "ALTER": Cassandra's names.
std::string_view CqlPermissionName(CqlPermission permission);

// Who a connection acts as once authenticated.
struct CqlUser {
  std::string name;
  std::string role;
};

// The identity a request runs as: the user, and the client's address for the audit log.
struct CqlSessionUser {
  CqlUser user;
  std::string peer;  // the client's IP address, without the port: "127.0.0.1", "::1"
};

class CqlAccessControl {
 public:
  virtual ~CqlAccessControl() = default;

  // Whether a new connection must authenticate (asked once per STARTUP).
  virtual bool Required() = 0;

  // Checks a user and password (SASL PLAIN) from `peer` (the client's IP address, without the
  // port: the failed-login limit is per address). Errors: see the table above. Never echoes
  // the password.
  virtual Result<CqlUser> Authenticate(std::string_view user, std::string_view password,
                                       std::string_view peer) = 0;

  // Whether `user` holds `permission` on table `keyspace`.`table`, or on every table of
  // `keyspace` when `table` is empty (CREATE KEYSPACE).
  virtual bool Allows(const CqlUser& user, CqlPermission permission, std::string_view keyspace,
                      std::string_view table) = 0;

  // Records a write or schema change: `action` "CQL INSERT INTO ks.t", `result` "ok" or the
  // CQL error's name ("Unauthorized", "Invalid", ...). Must not fail the request.
  virtual void Audit(const CqlSessionUser& who, std::string_view action,
                     std::string_view result) = 0;
};

// The address part of "host:port" ("127.0.0.1:5000" -> "127.0.0.1", "::1:5000" -> "::1").
std::string_view PeerHost(std::string_view peer);

// Cassandra's resource text: "<table ks.t>", or "<keyspace ks>" when `table` is empty.
std::string CqlResourceText(std::string_view keyspace, std::string_view table);

// "User alice has no MODIFY permission on <table ks.users> or any of its parents".
std::string UnauthorizedMessage(std::string_view user, CqlPermission permission,
                                std::string_view keyspace, std::string_view table);

// One user with a fixed password and every permission (`cql-serve --username/--password`).
// Authentication is always required; the password is compared in constant time. Audit() does
// nothing. Thread-safe (immutable).
class StaticCqlAccessControl : public CqlAccessControl {
 public:
  StaticCqlAccessControl(std::string user, std::string password, std::string role = "admin");

  bool Required() override { return true; }
  Result<CqlUser> Authenticate(std::string_view user, std::string_view password,
                               std::string_view peer) override;
  bool Allows(const CqlUser&, CqlPermission, std::string_view, std::string_view) override {
    return true;
  }
  void Audit(const CqlSessionUser&, std::string_view, std::string_view) override {}

  // Whether `user` and `password` are this user's (constant-time in the password).
  bool Matches(std::string_view user, std::string_view password) const;
  const std::string& user() const { return user_; }
  const std::string& role() const { return role_; }

 private:
  const std::string user_;
  const std::string password_;
  const std::string role_;
};

}  // namespace dataforge::cql
