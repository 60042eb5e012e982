#pragma once

namespace dataforge {

// kReadWrite: the one process that runs the stage. kReadOnly: inspection while it runs; never
// blocks or modifies what the writer owns.
enum class OpenMode { kReadWrite, kReadOnly };

}  // namespace dataforge
