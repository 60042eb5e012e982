// Small durable-file helpers shared by the stages.
#pragma once

#include <string>

#include "common/file_system.h"
#include "common/status.h"

namespace dataforge {

// Writes `text` to `path` atomically and durably through `fs`: <path>.tmp, fsync, rename over
// `path`, fsync of the directory. On failure `path` keeps its old content (the temp file is
// removed) and the error names the file, the failed step and errno's text.
Status WriteFileAtomically(FileSystem* fs, const std::string& path, const std::string& text);
inline Status WriteFileAtomically(const std::string& path, const std::string& text) {
  return WriteFileAtomically(FileSystem::Default(), path, text);
}

}  // namespace dataforge
