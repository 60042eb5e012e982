// Where the build under test is, for test code: DATAFORGE_BIN, DATAFORGE_SOURCE_DIR,
// DATAFORGE_FIXTURES_DIR, KAFKA_MOCK_CLUSTER_BIN and IO_FAULT_PRELOAD name these variables
// (df_test_paths() in the top CMakeLists.txt force-includes this header and defines the macros).
// Their values are in test_paths.cc, which CMake generates in the build dir, not in -D flags: a
// test's compile command is then the same in every checkout, and ccache (scripts/test.sh) reuses
// its object across CI's fresh clones instead of compiling every test file again.
#pragma once

namespace dataforge::test_paths {

extern const char* const kDataforgeBin;         // the dataforge binary of this build
extern const char* const kSourceDir;            // the repository root
extern const char* const kFixturesDir;          // ../shared/fixtures/randomuser
extern const char* const kKafkaMockClusterBin;  // tests/tools/kafka_mock_cluster
extern const char* const kIoFaultPreload;       // tests/tools/io_fault_preload.cc's library

}  // namespace dataforge::test_paths
