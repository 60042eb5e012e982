// Base64 (RFC 4648) for credentials: standard alphabet with padding (HTTP Basic) and the URL
// alphabet without padding (JWTs, JWKs). Stateless; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dataforge {

// Standard alphabet with '=' padding to a multiple of 4 ("dXNlcjpwdw=="). nullopt for any other
// character or a bad length.
std::optional<std::string> Base64Decode(std::string_view text);
// URL alphabet ('-', '_'), padding optional. nullopt for any other character or a bad length.
std::optional<std::string> Base64UrlDecode(std::string_view text);

std::string Base64Encode(std::string_view bytes);     // standard, padded
std::string Base64UrlEncode(std::string_view bytes);  // URL alphabet, unpadded

}  // namespace dataforge
