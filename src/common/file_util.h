// Small durable-file helpers shared by the stages.
#pragma once

#include <string>

#include "common/file_system.h"
#include "common/status.h"

namespace dataforge {

// Writes `text` to `path` atomically and durably through `fs`: <path>.tmp, fsync, rename over
// `path`, fsync of the directory. The error names the file, the failed step and errno's text.
// On failure before the rename `path` keeps its old content and the temp file is removed; if
// only the directory sync fails, `path` holds the new content, which a power cut may undo.
Status WriteFileAtomically(FileSystem* fs, const std::string& path, const std::string& text);
inline Status WriteFileAtomically(const std::string& path, const std::string& text) {
  return WriteFileAtomically(FileSystem::Default(), path, text);
}

// An IOError saying what to do when the process's working directory no longer exists (deleted
// or unmounted under the shell that started it): every relative path needs it. OK otherwise.
Status CheckWorkingDirectory();

}  // namespace dataforge
