#include "store/cassandra/cassandra_url.h"

#include <charconv>
#include <string_view>

#include <fmt/format.h>

#include "common/redact.h"
#include "cql/messages.h"

namespace dataforge {
namespace {

constexpr std::string_view kScheme = "cassandra://";
constexpr const char* kKnownOptions =
    "consistency, local_dc, tls, tls_ca, tls_cert, tls_key, tls_verify_hostname, connections, "
    "max_in_flight, request_timeout_ms, connect_timeout_ms, max_retries";

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t i = s.find(sep, start);
    out.push_back(
        s.substr(start, i == std::string_view::npos ? std::string_view::npos : i - start));
    if (i == std::string_view::npos) return out;
    start = i + 1;
  }
}

bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int v = 0;
    auto [p, ec] = std::from_chars(in.data() + i + 1, in.data() + i + 3, v, 16);
    if (ec != std::errc() || p != in.data() + i + 3) return false;
    out->push_back(static_cast<char>(v));
    i += 2;
  }
  return true;
}

template <typename T>
bool ParseNumber(std::string_view s, T min, T max, T* out) {
  T v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < min || v > max) return false;
  *out = v;
  return true;
}

bool ParseBool(std::string_view s, bool* out) {
  if (s == "1" || s == "true") return *out = true, true;
  if (s == "0" || s == "false") return *out = false, true;
  return false;
}

}  // namespace

bool IsPlainCqlIdentifier(const std::string& name) {
  if (name.empty() || name.size() > 48 || name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

Result<CassandraUrl> ParseCassandraUrl(const std::string& url, const CassandraOptions& defaults) {
  const std::string shown = Redact(url);
  auto fail = [&](const std::string& what) {
    return Status::ConfigError(fmt::format("store url '{}': {}", shown, what));
  };
  if (url.rfind(kScheme, 0) != 0) {
    return fail("not a cassandra:// URL; write cassandra://host[:port][/keyspace]");
  }
  CassandraUrl out;
  out.options = defaults;
  std::string_view rest = std::string_view(url).substr(kScheme.size());
  std::string_view query;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string_view authority = rest;
  if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
    authority = rest.substr(0, slash);
    std::string_view ks = rest.substr(slash + 1);
    if (!ks.empty() && ks.back() == '/') ks.remove_suffix(1);
    out.keyspace = std::string(ks);
    if (!out.keyspace.empty() && !IsPlainCqlIdentifier(out.keyspace)) {
      return fail(
          fmt::format("keyspace '{}' is not a plain CQL name; use lower-case letters, digits and _ "
                      "(starting with a letter, at most 48 characters)",
                      out.keyspace));
    }
  }
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    size_t colon = userinfo.find(':');
    std::string_view user = userinfo.substr(0, colon);
    std::string_view password =
        colon == std::string_view::npos ? std::string_view() : userinfo.substr(colon + 1);
    if (!PercentDecode(user, &out.options.username) ||
        !PercentDecode(password, &out.options.password)) {
      return fail("bad percent-encoding in user:password; write %XX with two hex digits");
    }
    if (out.options.username.empty()) {
      return fail("empty user before '@'; write cassandra://user:password@host or drop the '@'");
    }
  }
  if (authority.empty()) return fail("no host; write cassandra://host[:port]");
  for (std::string_view h : Split(authority, ',')) {
    if (h.empty())
      return fail(fmt::format("empty host in '{}'; separate hosts with one ','", authority));
    std::string host;
    std::string_view port_text;
    if (h.front() == '[') {
      size_t close = h.find(']');
      if (close == std::string_view::npos) {
        return fail(fmt::format("host '{}' has no closing ']'; write [::1]:9042", h));
      }
      host = std::string(h.substr(1, close - 1));
      std::string_view after = h.substr(close + 1);
      if (!after.empty() && after.front() != ':') {
        return fail(fmt::format("host '{}': expected ':port' after ']'", h));
      }
      if (!after.empty()) port_text = after.substr(1);
    } else {
      size_t colon = h.find(':');
      host = std::string(h.substr(0, colon));
      if (colon != std::string_view::npos) {
        port_text = h.substr(colon + 1);
        if (port_text.empty()) {
          return fail(fmt::format("host '{}' has an empty port; write host:9042 or drop ':'", h));
        }
      }
    }
    if (host.empty()) return fail(fmt::format("host '{}' has no name", h));
    int port = 9042;
    if (!port_text.empty() && !ParseNumber<int>(port_text, 1, 65535, &port)) {
      return fail(
          fmt::format("port '{}' of host '{}' is not a number in 1..65535", port_text, host));
    }
    out.hosts.emplace_back(std::move(host), port);
  }
  if (query.empty()) return out;
  for (std::string_view pair : Split(query, '&')) {
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string value;
    if (eq == std::string_view::npos || !PercentDecode(pair.substr(eq + 1), &value)) {
      return fail(fmt::format("option '{}' needs a value; write {}=VALUE", pair, key));
    }
    CassandraOptions& o = out.options;
    bool ok = true;
    std::string expected;
    if (key == "consistency") {
      ok = cql::ParseConsistency(value).has_value();
      expected = "ONE, QUORUM, LOCAL_QUORUM, LOCAL_ONE, ALL, ...";
      if (ok) o.consistency = value;
    } else if (key == "local_dc") {
      o.local_datacenter = value;
    } else if (key == "tls") {
      ok = ParseBool(value, &o.tls);
      expected = "0 or 1";
    } else if (key == "tls_ca") {
      o.tls_ca_file = value;
    } else if (key == "tls_cert") {
      o.tls_cert_file = value;
    } else if (key == "tls_key") {
      o.tls_key_file = value;
    } else if (key == "tls_verify_hostname") {
      ok = ParseBool(value, &o.tls_verify_hostname);
      expected = "0 or 1";
    } else if (key == "connections") {
      ok = ParseNumber<int>(value, 1, 64, &o.connections_per_host);
      expected = "a number in 1..64";
    } else if (key == "max_in_flight") {
      ok = ParseNumber<int>(value, 1, 32768, &o.max_in_flight_per_connection);
      expected = "a number in 1..32768";
    } else if (key == "request_timeout_ms") {
      ok = ParseNumber<int64_t>(value, 1, 3600000, &o.request_timeout_ms);
      expected = "milliseconds in 1..3600000";
    } else if (key == "connect_timeout_ms") {
      ok = ParseNumber<int64_t>(value, 1, 3600000, &o.connect_timeout_ms);
      expected = "milliseconds in 1..3600000";
    } else if (key == "max_retries") {
      ok = ParseNumber<int>(value, 0, 1000, &o.max_retries);
      expected = "a number in 0..1000";
    } else {
      return fail(fmt::format("unknown option '{}'; known options: {}", key, kKnownOptions));
    }
    if (!ok)
      return fail(fmt::format("option {}='{}' is invalid; expected {}", key, value, expected));
  }
  if (!out.options.tls &&
      (!out.options.tls_ca_file.empty() || !out.options.tls_cert_file.empty())) {
    return fail("tls_ca/tls_cert given without tls=1; add tls=1 or drop them");
  }
  return out;
}

}  // namespace dataforge
