#include "integration/serve_process.h"

#include <signal.h>

#include <gtest/gtest.h>

#include <regex>

#include <fmt/format.h>

namespace dataforge::testing {

ServeProcess::ServeProcess(const std::vector<std::string>& args,
                           const std::vector<std::string>& env) {
  process_.emplace(StartDataforge(args, env));
  static const std::regex ready(R"(serve: listening on (https?)://([^ ]+):(\d+) \((.*)\)\n)");
  std::smatch m;
  bool up = WaitFor(
      [&] {
        std::string out = process_->Stdout();
        return std::regex_search(out, m, ready) ||
               process_->Stderr().find("dataforge: ") != std::string::npos;
      },
      // Ends as soon as the line is printed; the bound is for a sanitizer build on a loaded
      // 2-core CI machine, where opening a pipeline once took over 30 s.
      120);
  std::string out = process_->Stdout();
  EXPECT_TRUE(up && std::regex_search(out, m, ready)) << out << process_->Stderr();
  if (std::regex_search(out, m, ready)) {
    scheme_ = m[1];
    port_ = std::stoi(m[3]);
    details_ = m[4];
  }
}

ServeProcess::~ServeProcess() {
  if (process_) {
    process_->Signal(SIGKILL);
    process_->Wait(10000);
  }
}

std::string ServeProcess::Url(const std::string& path) const {
  return fmt::format("{}://127.0.0.1:{}{}", scheme_, port_, path);
}

ProcessResult ServeProcess::Stop() {
  process_->Signal(SIGTERM);
  auto r = process_->Wait(30000);
  process_.reset();
  return r;
}

CurlResult Curl(std::vector<std::string> args, const std::string& url) {
  TempDir tmp;
  std::vector<std::string> argv{"/usr/bin/curl", "-sS", "-o",          tmp.Sub("body"), "-D",
                                tmp.Sub("head"), "-w",  "%{http_code}"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(url);
  auto r = ChildProcess::Start(argv).Wait(60000);
  CurlResult out;
  out.status = r.out.empty() ? 0 : std::stoi(r.out);
  out.body = ReadFile(tmp.Sub("body"));
  out.headers = ReadFile(tmp.Sub("head"));
  out.err = r.err;
  return out;
}

}  // namespace dataforge::testing
