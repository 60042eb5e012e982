#include "common/redact.h"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <vector>

namespace dataforge {
namespace {

std::mutex& SecretsMutex() {
  static std::mutex m;
  return m;
}

// Registered secrets, longest first (so a secret that contains another is masked whole).
std::vector<std::string>& Secrets() {
  static std::vector<std::string> s;
  return s;
}

bool IsSpace(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
}

// Where the authority of a URL whose "//" ends at `begin` ends: at the path, query, fragment,
// whitespace or a quote around the URL.
size_t AuthorityEnd(const std::string& s, size_t begin) {
  size_t i = begin;
  while (i < s.size() && s[i] != '/' && s[i] != '?' && s[i] != '#' && !IsSpace(s[i]) &&
         s[i] != '\'' && s[i] != '"' && s[i] != '<' && s[i] != '>')
    ++i;
  return i;
}

bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

// A secret made only of word characters is masked where it stands as a word of its own, not
// inside a longer word: a PostgreSQL password "secret" must not turn the key `hs256_secret`
// into `hs256_***` (config show's output would no longer read back).
void MaskRegistered(std::string& s) {
  std::lock_guard<std::mutex> lock(SecretsMutex());
  for (const std::string& secret : Secrets()) {
    const bool word = std::all_of(secret.begin(), secret.end(), IsWordChar);
    for (size_t at = s.find(secret); at != std::string::npos;) {
      size_t end = at + secret.size();
      if (word && ((at > 0 && IsWordChar(s[at - 1])) || (end < s.size() && IsWordChar(s[end])))) {
        at = s.find(secret, at + 1);
        continue;
      }
      s.replace(at, secret.size(), kRedacted);
      at = s.find(secret, at + kRedacted.size());
    }
  }
}

// "scheme://user:password@host" -> "scheme://user:***@host", everywhere in `s`.
void MaskUrlPasswords(std::string& s, std::vector<std::string>* found = nullptr) {
  for (size_t p = s.find("://"); p != std::string::npos; p = s.find("://", p + 3)) {
    size_t begin = p + 3;
    size_t end = AuthorityEnd(s, begin);
    size_t at = s.rfind('@', end == 0 ? 0 : end - 1);
    if (at == std::string::npos || at < begin) continue;
    size_t colon = s.find(':', begin);
    if (colon == std::string::npos || colon > at) continue;
    if (found) found->push_back(s.substr(colon + 1, at - colon - 1));
    s.replace(colon + 1, at - colon - 1, kRedacted);
  }
}

// "NAME=VALUE" with a secret NAME -> "NAME=***", everywhere in `s`. VALUE ends at '&',
// whitespace or a quote; a quoted VALUE ('...' or "...") ends at its closing quote.
void MaskSecretParameters(std::string& s, std::vector<std::string>* found = nullptr) {
  for (size_t eq = s.find('='); eq != std::string::npos; eq = s.find('=', eq + 1)) {
    size_t name_begin = eq;
    while (name_begin > 0 && IsNameChar(s[name_begin - 1])) --name_begin;
    if (name_begin == eq || !IsSecretName(std::string_view(s).substr(name_begin, eq - name_begin)))
      continue;
    size_t v = eq + 1;
    size_t end = v;
    if (v < s.size() && (s[v] == '\'' || s[v] == '"')) {
      size_t close = s.find(s[v], v + 1);
      end = close == std::string::npos ? s.size() : close + 1;
    } else {
      while (end < s.size() && s[end] != '&' && !IsSpace(s[end]) && s[end] != '\'' && s[end] != '"')
        ++end;
    }
    if (end == v || std::string_view(s).substr(v, end - v) == kRedacted) continue;
    if (found) found->push_back(s.substr(v, end - v));
    s.replace(v, end - v, kRedacted);
  }
}

}  // namespace

bool IsSecretName(std::string_view name) {
  std::string n(name);
  std::transform(n.begin(), n.end(), n.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto has = [&n](std::string_view part) { return n.find(part) != std::string::npos; };
  auto ends = [&n](std::string_view tail) {
    return n.size() >= tail.size() && n.compare(n.size() - tail.size(), tail.size(), tail) == 0;
  };
  if (has("password") || has("passwd") || has("secret") || has("token") || has("credential"))
    return true;
  if (has("private") || (has("key") && ends(".pem")) || ends("keystore.key")) return true;
  if (n == "sasl.oauthbearer.config" || n == "ssl_key") return true;
  return has("apikey") || has("api_key") || has("api.key") || has("access_key") || has("accesskey");
}

std::string Redact(std::string_view text) {
  std::string s(text);
  MaskRegistered(s);
  MaskUrlPasswords(s);
  MaskSecretParameters(s);
  return s;
}

void RegisterSecret(std::string_view value) {
  if (value.size() < 4 || value == kRedacted) return;
  std::lock_guard<std::mutex> lock(SecretsMutex());
  auto& secrets = Secrets();
  if (std::find(secrets.begin(), secrets.end(), value) != secrets.end()) return;
  secrets.emplace_back(value);
  std::stable_sort(secrets.begin(), secrets.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

void RegisterSecretsIn(std::string_view text) {
  std::string s(text);
  std::vector<std::string> found;
  MaskUrlPasswords(s, &found);
  MaskSecretParameters(s, &found);
  for (const std::string& secret : found) {
    RegisterSecret(secret);
    // A percent-encoded password is used (and may be echoed by a library) decoded.
    if (secret.find('%') != std::string::npos) {
      std::string decoded;
      for (size_t i = 0; i < secret.size(); ++i) {
        if (secret[i] == '%' && i + 2 < secret.size() &&
            std::isxdigit(static_cast<unsigned char>(secret[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(secret[i + 2]))) {
          decoded += static_cast<char>(std::stoi(secret.substr(i + 1, 2), nullptr, 16));
          i += 2;
        } else {
          decoded += secret[i];
        }
      }
      RegisterSecret(decoded);
    }
    // A quoted conninfo value: the quotes are not part of the secret.
    if (secret.size() >= 2 && (secret.front() == '\'' || secret.front() == '"'))
      RegisterSecret(std::string_view(secret).substr(1, secret.size() - 2));
  }
}

}  // namespace dataforge
