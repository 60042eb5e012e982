// UUID text: "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (lower-case hex).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace dataforge {

// Formats 16 bytes as UUID text (no version bits are set here).
std::string FormatUuid(const unsigned char bytes[16]);

// True for 8-4-4-4-12 hex digits with dashes (either case): what a uuid column takes.
bool IsUuidText(std::string_view s);

// A random (version 4) UUID from OpenSSL's CSPRNG.
Result<std::string> RandomUuid();

}  // namespace dataforge
