// dataforge: the thin entry point. Everything lives in the library (src/cli/).
#include "cli/cli.h"
#include "common/allocator.h"

int main(int argc, char** argv) {
  dataforge::TuneAllocator();
  return dataforge::RunCli(argc, argv);
}
