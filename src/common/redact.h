// Hiding secrets in what DataForge prints: the one place that decides what is secret and how it
// is masked. Every output path goes through Redact(): the log sink (MakeRedactingSink in
// cli/), the one-line errors (ReportError), `config show`, `status` and the descriptions of
// backends. Thread-safe: Redact() may run on any thread while RegisterSecret() runs on another.
#pragma once

#include <string>
#include <string_view>

namespace dataforge {

// The mask that replaces every secret.
inline constexpr std::string_view kRedacted = "***";

// Returns `text` with every secret in it replaced by "***":
//  - the password of a URL anywhere in the text: "postgresql://u:pw@h/db" ->
//    "postgresql://u:***@h/db" (also cassandra://, kafka://, http://, ...);
//  - the value of every parameter whose name IsSecretName(), in a URL query or a libpq
//    conninfo: "kafka://h:9092?sasl.password=pw&acks=all" -> "...?sasl.password=***&acks=all",
//    "host=h password='a b'" -> "host=h password=***";
//  - every value given to RegisterSecret() (e.g. a password that came from ${PGPASSWORD}),
//    wherever it appears; one made only of letters, digits and '_' where it is a word of its
//    own (not inside a longer word: the password "secret" leaves the key "hs256_secret" alone).
// Everything else is unchanged.
std::string Redact(std::string_view text);

// True for the name of a parameter or property whose value is secret: it contains "password",
// "passwd", "secret", "token" or "credential", or names key material or an API key
// ("ssl.key.pem", "ssl.keystore.key", "sasl.oauthbearer.config", "api_key", ...). Case-insensitive.
bool IsSecretName(std::string_view name);

// Remembers `value` as a secret for every later Redact() in this process. Values shorter than
// 4 characters are ignored (masking them would garble ordinary text).
void RegisterSecret(std::string_view value);

// Registers the password of every URL and the value of every secret-named parameter in `text`
// (a URL or a conninfo string), so that they stay masked where they appear alone.
void RegisterSecretsIn(std::string_view text);

}  // namespace dataforge
