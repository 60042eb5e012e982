#include "cli/cli.h"

namespace dataforge {

int RunCli(int, char**) { return 0; }

}  // namespace dataforge
