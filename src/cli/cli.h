#pragma once

namespace dataforge {

// Parses the command line and runs one command. Returns the process exit code:
// 0 success, 1 runtime failure, 2 usage or configuration error.
int RunCli(int argc, char** argv);

}  // namespace dataforge
