// Hiding secrets in what DataForge prints. Stateless, thread-safe.
#pragma once

#include <string>

namespace dataforge {

// "scheme://user:password@host/..." -> "scheme://user:***@host/..."; other text unchanged.
std::string RedactUrlPassword(const std::string& url);

}  // namespace dataforge
