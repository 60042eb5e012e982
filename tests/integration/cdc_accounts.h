// The `accounts(id, note)` table the postgres_cdc integration tests capture, seen from both ends:
// the store's rows and the PostgreSQL table's, each as sorted "id|note" lines so a test can
// compare them with one EXPECT_EQ; and the wait for the pipeline's replication stream.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "integration/pg_server.h"
#include "integration/subprocess.h"

namespace dataforge::testing {

// Every row of the data dir's store table as "id|note", sorted (`dataforge table scan` with
// `extra` flags, e.g. a --store URL). A failing scan fails the test.
std::vector<std::string> StoreRows(const std::string& data, const std::vector<std::string>& extra);

// Every row of public.accounts as "id|note", sorted.
std::vector<std::string> TableRows(PostgresServer& pg);

// Returns once slot dataforge_accounts is streaming: held by a walsender past 'startup' (not
// one still creating the slot or a run still copying the initial snapshot). Fails the test
// with `child`'s stderr after 15 s.
void WaitForSlot(PostgresServer& pg, ChildProcess& child);

// Polls `status` (each call takes ~0.5 s under ASan) until the data dir's store counts `n`
// records stored; fails the test with `child`'s stderr if it is not exactly `n` after 120 s.
void WaitForStored(const std::string& data, const std::vector<std::string>& extra, int64_t n,
                   ChildProcess& child);

}  // namespace dataforge::testing
