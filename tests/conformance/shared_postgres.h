// One throwaway PostgreSQL server (integration/pg_server.h: a free port, its own directory) for
// the whole conformance binary, started on first use and stopped when the binary exits; each
// test gets a database of its own.
#pragma once

#include <string>

namespace dataforge::testing {

// postgresql://... of a new, empty database on the shared server.
std::string FreshPostgresDatabase();

}  // namespace dataforge::testing
