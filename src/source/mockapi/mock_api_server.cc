#include "source/mockapi/mock_api_server.h"

#include <httplib.h>

#include <fmt/format.h>

#include "source/mockapi/user_generator.h"

namespace dataforge {

MockApiServer::MockApiServer() : server_(std::make_unique<httplib::Server>()) {}

MockApiServer::~MockApiServer() {
  Stop();
}

void MockApiServer::SetFaults(const MockApiFaults& faults) {
  std::lock_guard lock(faults_mu_);
  faults_ = faults;
}

Status MockApiServer::Start(const std::string& host, int port) {
  auto handler = [this](const httplib::Request& req, httplib::Response& res) {
    served_.fetch_add(1);
    MockApiFaults f;
    {
      std::lock_guard lock(faults_mu_);
      f = faults_;
      if (faults_.fail_500 > 0)
        --faults_.fail_500;
      else if (faults_.fail_429 > 0)
        --faults_.fail_429;
      else if (faults_.malformed > 0)
        --faults_.malformed;
    }
    if (f.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(f.delay_ms));
    if (f.fail_500 > 0) {
      res.status = 500;
      res.set_content("mock-api: injected server error", "text/plain");
      return;
    }
    if (f.fail_429 > 0) {
      res.status = 429;
      res.set_header("Retry-After", std::to_string(f.retry_after_s));
      res.set_content("mock-api: injected rate limit", "text/plain");
      return;
    }
    if (f.malformed > 0) {
      res.set_content("{\"results\": [ this is not json", "application/json");
      return;
    }
    auto q = mockapi::ParseMockQuery(req.get_param_value("results"), req.get_param_value("seed"),
                                     req.get_param_value("page"), req.get_param_value("nat"),
                                     req.get_param_value("gender"), req.get_param_value("inc"),
                                     req.get_param_value("exc"));
    // What set_content does, without copying the body.
    res.body = mockapi::GenerateResponse(q);
    res.set_header("Content-Type", "application/json; charset=utf-8");
  };
  server_->Get("/api", handler);
  server_->Get("/api/", handler);
  server_->Get("/api/1.4/", handler);
  server_->Get("/api/1.4", handler);
  server_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (res.status == 404) {
      res.set_content(fmt::format("{{\"error\":\"no such endpoint: {}; use /api/\"}}", req.path),
                      "application/json");
    }
  });
  server_->set_keep_alive_max_count(100000);
  if (port == 0) {
    port_ = server_->bind_to_any_port(host.c_str());
  } else {
    port_ = server_->bind_to_port(host.c_str(), port) ? port : -1;
  }
  if (port_ <= 0) {
    return Status::Unavailable(fmt::format(
        "mock-api: cannot listen on {}:{} (in use, or not an address of this machine); try "
        "another --port",
        host, port));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // Stop() before the listen loop runs would be lost (and join would hang): wait for it.
  for (int i = 0; i < 5000 && !server_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return Status::OK();
}

void MockApiServer::Stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

}  // namespace dataforge
