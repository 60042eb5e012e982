#include "rest/served_data_dir.h"

#include <gtest/gtest.h>

#include "cli/read_only_backends.h"
#include "integration/cli_helpers.h"
#include "integration/subprocess.h"
#include "metrics/build_info_collector.h"
#include "serve/rest/metrics_api.h"
#include "serve/rest/openapi.h"
#include "serve/rest/pipeline_api.h"
#include "serve/rest/tables_api.h"
#include "serve/rest/whoami_api.h"

namespace dataforge::testing {

ServedDataDir::ServedDataDir(std::string config_path, std::string data_dir) {
  ctx_.config_path = std::move(config_path);
  ctx_.data_dir = std::move(data_dir);
}

ServedDataDir::~ServedDataDir() = default;

void ServedDataDir::Open() {
  auto config = LoadConfig(ctx_);
  ASSERT_TRUE(config.ok()) << config.status().message();
  config_ = *config;
  auto store = OpenStoreForReading(ctx_, config_);
  ASSERT_TRUE(store.ok()) << store.status().message();
  store_ = std::move(store).value();
  auto pipeline = ServedPipeline::Open(ctx_, config_, store_.get());
  ASSERT_TRUE(pipeline.ok()) << pipeline.status().message();
  pipeline_ = std::move(pipeline).value();
  // As cli/http_endpoint.cc registers them.
  rest::RegisterTablesApi(&router_, store_.get());
  rest::RegisterPipelineApi(&router_, pipeline_->backends());
  rest::RegisterOpenApi(&router_);
  metrics_.Add(std::make_shared<metrics::BuildInfoCollector>("test"));
  rest::RegisterMetricsApi(&router_, &metrics_, /*open=*/false);  // off loopback: pipeline read
  rest::RegisterWhoAmI(&router_, &config_);
}

http::ApiResponse ServedDataDir::Call(const std::string& method, const std::string& target,
                                      const std::string& body) const {
  return CallAs(nullptr, auth::Principal{"anonymous", "admin", "none", ""}, method, target, body);
}

http::ApiResponse ServedDataDir::CallAs(const auth::AccessPolicy* policy,
                                        const auth::Principal& principal, const std::string& method,
                                        const std::string& target, const std::string& body) const {
  size_t q = target.find('?');
  std::string path = target.substr(0, q);
  auto match = router_.Find(method, path);
  if (!match.ok()) return http::ErrorFromStatus(match.status());
  if (!match->route) {
    return match->path_known ? http::ErrorResponse(405, "method_not_allowed", path)
                             : http::ErrorResponse(404, "not_found", path);
  }
  http::ApiRequest req;
  req.method = method;
  req.path = path;
  req.path_params = match->params;
  req.body = body;
  req.client_address = "127.0.0.1";
  req.policy = policy;
  req.principal = principal;
  if (q != std::string::npos) {
    std::string query = target.substr(q + 1);
    size_t pos = 0;
    while (pos <= query.size()) {
      size_t amp = query.find('&', pos);
      std::string part =
          query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
      size_t eq = part.find('=');
      if (!part.empty()) {
        req.query.emplace_back(part.substr(0, eq),
                               eq == std::string::npos ? "" : part.substr(eq + 1));
      }
      if (amp == std::string::npos) break;
      pos = amp + 1;
    }
  }
  return match->route->handler(req);
}

std::string ServedDataDir::Cli(std::vector<std::string> args) const {
  if (!ctx_.config_path.empty()) {
    args.push_back("--config");
    args.push_back(ctx_.config_path);
  }
  args.push_back("--data-dir");
  args.push_back(ctx_.data_dir);
  auto r = RunDataforge(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

std::string ErrorMessage(const http::ApiResponse& r) {
  std::string m = JsonField(r.body, "error.message");
  return m;
}

}  // namespace dataforge::testing
