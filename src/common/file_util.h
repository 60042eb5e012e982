// Small durable-file helpers shared by the stages.
#pragma once

#include <string>

#include "common/status.h"

namespace dataforge {

// Writes `text` to `path` atomically and durably: temp file, fsync, rename, fsync of the
// directory. On failure `path` keeps its old content; the error names the file and errno.
Status WriteFileAtomically(const std::string& path, const std::string& text);

}  // namespace dataforge
