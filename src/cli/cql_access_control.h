// The CQL endpoint's users and roles as the CLI sets them up: the same users, roles and audit
// log as the REST API (src/auth: the credential store in the data dir's staging database, the
// pipeline file's `auth:` section), adapted to the endpoint's seam (serve/cql/cql_access.h).
//
// Permissions map onto the `tables` resource of the roles ("keyspace.table" globs):
//   SELECT on <table ks.t>     read  on tables "ks.t"
//   MODIFY on <table ks.t>     write on tables "ks.t"
//   CREATE on <table ks.t>     write on tables "ks.t"
//   CREATE on <keyspace ks>    write on tables "ks.*"  (a grant of exactly "ks.*" or wider)
// Authentication is on as soon as one user exists or `auth.required` is true (re-checked at
// each connection's STARTUP); failed logins are limited per client address like HTTP's. The
// role is looked up again at most once a second, so a removed user or a changed role takes
// effect within a second on open connections too.
//
// `--username U --password P` (cql-serve; `run --cql-username` with DATAFORGE_CQL_PASSWORD)
// add one more user with role admin, known to this process only: with it, authentication is
// always on. Its password is compared in constant time; a wrong one counts as a failed login.
#pragma once

#include <memory>
#include <string>

#include "cli/cql_endpoint.h"
#include "common/clock.h"
#include "common/status.h"
#include "config/pipeline_config.h"
#include "serve/cql/cql_access.h"

namespace dataforge {

// ConfigError for a bad `auth:` section; the credential store's or the audit log's error when
// it cannot be opened. The credential store is opened read-only (a data dir without users has
// none). `clock` (the role re-check, the failed-login limit, the audit log's times) must
// outlive the result.
Result<std::unique_ptr<cql::CqlAccessControl>> OpenCqlAccessControl(const CqlEndpointFlags& flags,
                                                                    const PipelineConfig& config,
                                                                    const std::string& data_dir,
                                                                    Clock* clock = Clock::Real());

}  // namespace dataforge
