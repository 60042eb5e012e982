// dataforge: the thin entry point. Everything lives in the library (src/cli/).
#include "cli/cli.h"

int main(int argc, char** argv) {
  return dataforge::RunCli(argc, argv);
}
