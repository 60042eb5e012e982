// `dataforge health [--url URL] [--timeout-ms N] [--ca-cert FILE]`: GET a DataForge HTTP
// endpoint's /health and exit 0 when it answers 200 {"status":"ok"}, 1 (with one line saying
// why) otherwise, 2 for a bad URL. The container image's HEALTHCHECK and the compose stack's
// healthchecks run it, so the image needs no shell and no curl (docs/deploy.md).
#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <httplib.h>

#include "cli/commands.h"
#include "cli/option_checks.h"

namespace dataforge {
namespace {

constexpr char kDefaultUrl[] = "http://127.0.0.1:8080/health";
constexpr char kHealthyBody[] = R"({"status":"ok"})";

struct HealthUrl {
  bool https = false;
  std::string host;  // without the brackets of an IPv6 literal
  int port = 0;
  std::string path;
};

// http[s]://HOST[:PORT][/PATH]; no path means /health.
Result<HealthUrl> ParseHealthUrl(const std::string& url) {
  auto bad = [&](const std::string& why) {
    return Status::ConfigError(
        fmt::format("health --url '{}': {} (want http[s]://HOST[:PORT][/PATH])", url, why));
  };
  HealthUrl u;
  std::string rest;
  if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    u.https = true;
    rest = url.substr(8);
  } else {
    return bad("not an http:// or https:// URL");
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return bad("a space or control char");
  }
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  u.path = slash == std::string::npos ? "/health" : rest.substr(slash);
  if (authority.find('@') != std::string::npos) return bad("user info is not supported");
  std::string port_text;
  if (!authority.empty() && authority[0] == '[') {  // [::1]:8080
    size_t close = authority.find(']');
    if (close == std::string::npos) return bad("an IPv6 address without its ']'");
    u.host = authority.substr(1, close - 1);
    std::string after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("text after the IPv6 address's ']'");
      port_text = after.substr(1);
      if (port_text.empty()) return bad("an empty port");
    }
  } else {
    size_t colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    if (colon != std::string::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return bad("an empty port");
    }
  }
  if (u.host.empty()) return bad("no host");
  u.port = u.https ? 443 : 80;
  if (!port_text.empty()) {
    if (port_text.size() > 5 || port_text.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port_text) < 1 || std::stoi(port_text) > 65535) {
      return bad(fmt::format("port '{}' is not a number from 1 to 65535", port_text));
    }
    u.port = std::stoi(port_text);
  }
  return u;
}

// Why a connection to host:port failed, found by trying once more with a plain blocking
// connect (cpp-httplib reports only "Connection"): "connection refused", "cannot resolve ...".
std::string WhyNoConnection(const HealthUrl& u, int timeout_ms) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(u.host.c_str(), std::to_string(u.port).c_str(), &hints, &found);
  if (rc != 0) return fmt::format("cannot resolve host '{}' ({})", u.host, gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(found, &freeaddrinfo);
  int fd = socket(found->ai_family, found->ai_socktype, found->ai_protocol);
  if (fd < 0) return fmt::format("cannot connect (socket: {})", std::strerror(errno));
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  int connected = connect(fd, found->ai_addr, found->ai_addrlen);
  int err = errno;
  close(fd);
  if (connected == 0) return "cannot connect (a second attempt succeeded: a flapping server?)";
  if (err == EINPROGRESS || err == EAGAIN || err == ETIMEDOUT) {
    return fmt::format("cannot connect within {} ms", timeout_ms);
  }
  std::string why = std::strerror(err);
  if (!why.empty()) why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
  return why;
}

// The body as one short line for an error message.
std::string Shown(const std::string& body) {
  std::string out;
  for (char c : body.substr(0, 200)) {
    out += static_cast<unsigned char>(c) < ' ' ? ' ' : c;
  }
  return body.size() > 200 ? out + "..." : out;
}

Status CheckHealth(const std::string& url_text, int timeout_ms, const std::string& ca_cert) {
  DF_ASSIGN_OR_RETURN(HealthUrl u, ParseHealthUrl(url_text));
  if (!ca_cert.empty() && !u.https) {
    return Status::ConfigError(
        fmt::format("health --ca-cert applies to https:// URLs only, not '{}'", url_text));
  }
  std::unique_ptr<httplib::ClientImpl> client;
  if (u.https) {
    auto ssl = std::make_unique<httplib::SSLClient>(u.host, u.port);
    if (!ca_cert.empty()) ssl->set_ca_cert_path(ca_cert.c_str());
    ssl->enable_server_certificate_verification(true);
    client = std::move(ssl);
  } else {
    client = std::make_unique<httplib::ClientImpl>(u.host, u.port);
  }
  auto timeout = std::chrono::milliseconds(timeout_ms);
  client->set_connection_timeout(timeout);
  client->set_read_timeout(timeout);
  client->set_write_timeout(timeout);
  client->set_keep_alive(false);
  auto start = std::chrono::steady_clock::now();
  httplib::Result res = client->Get(u.path);
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  auto fail = [&](const std::string& why) {
    return Status::Unavailable(fmt::format("health: {}: {}", url_text, why));
  };
  if (!res) {
    switch (res.error()) {
      case httplib::Error::Connection:
        return fail(WhyNoConnection(u, timeout_ms));
      case httplib::Error::ConnectionTimeout:
        return fail(fmt::format("cannot connect within {} ms", timeout_ms));
      case httplib::Error::Read:
      case httplib::Error::Write:
        // A read that timed out took the whole timeout (less a truncated millisecond).
        if (elapsed + std::chrono::milliseconds(1) >= timeout)
          return fail(fmt::format("no answer within {} ms", timeout_ms));
        return fail("the connection closed before an answer");
      case httplib::Error::SSLConnection:
        return fail("the TLS handshake failed (is it an http:// server?)");
      case httplib::Error::SSLLoadingCerts:
        return fail(ca_cert.empty() ? "cannot load the system CA certificates"
                                    : fmt::format("cannot load --ca-cert {}", ca_cert));
      case httplib::Error::SSLServerVerification:
        return fail(
            "the server's certificate is not trusted (give its CA with --ca-cert FILE) or does "
            "not name the host");
      default:
        return fail(fmt::format("request failed ({})", httplib::to_string(res.error())));
    }
  }
  std::string body = res->body;
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r' || body.back() == ' ')) {
    body.pop_back();
  }
  if (res->status != 200) {
    return fail(fmt::format("HTTP {} (want 200): {}", res->status, Shown(body)));
  }
  if (body != kHealthyBody) {
    return fail(fmt::format("HTTP 200 but the body is '{}' (want {})", Shown(body), kHealthyBody));
  }
  return Status::OK();
}

}  // namespace

void AddHealthCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "health",
      "Check a DataForge HTTP endpoint (`serve`, `run --http-port`): GET its /health and exit 0 "
      "when it answers 200 {\"status\":\"ok\"}, 1 with one line saying why not (refused, no "
      "answer in time, another status or body), 2 for a bad URL. The container image's "
      "HEALTHCHECK; needs no shell and no curl.");
  auto url = std::make_shared<std::string>(kDefaultUrl);
  auto timeout_ms = std::make_shared<int>(2000);
  auto ca_cert = std::make_shared<std::string>();
  cmd->add_option("--url", *url, "http[s]://HOST[:PORT][/PATH] to GET (no path: /health)")
      ->capture_default_str();
  cmd->add_option("--timeout-ms", *timeout_ms,
                  "Give up connecting, sending or waiting for the answer after this long")
      ->capture_default_str()
      ->check(WholeNumber(1, 600000));
  cmd->add_option("--ca-cert", *ca_cert,
                  "For https://: trust this PEM CA (e.g. serve's own --tls-cert) instead of the "
                  "system's CA certificates")
      ->check(CLI::ExistingFile);
  cmd->callback([url, timeout_ms, ca_cert, exit_code] {
    Status s = CheckHealth(*url, *timeout_ms, *ca_cert);
    if (!s.ok()) {
      *exit_code = ReportError(s);
      return;
    }
    fmt::print("health: {}: ok\n", *url);
    std::fflush(stdout);
    *exit_code = 0;
  });
}

}  // namespace dataforge
