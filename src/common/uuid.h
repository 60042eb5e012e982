// UUID text: "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (lower-case hex).
#pragma once

#include <string>

#include "common/status.h"

namespace dataforge {

// Formats 16 bytes as UUID text (no version bits are set here).
std::string FormatUuid(const unsigned char bytes[16]);

// A random (version 4) UUID from OpenSSL's CSPRNG.
Result<std::string> RandomUuid();

}  // namespace dataforge
