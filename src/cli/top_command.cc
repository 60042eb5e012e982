// `dataforge top`: the pipeline's overview in the terminal (like `vector top`), redrawn in place
// every --interval until q or Ctrl-C. Its source is a data dir, opened read-only as `status`
// opens it, whose REST routes (serve/rest/pipeline_api.h) are called in-process; or a running
// server (--url, --api-key) whose same routes are called with libcurl. top_view.h draws.
#include <curl/curl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/read_only_backends.h"
#include "cli/signal_waiter.h"
#include "cli/top_view.h"
#include "common/clock.h"
#include "serve/http/api.h"
#include "serve/rest/pipeline_api.h"

namespace dataforge {
namespace {

struct TopOptions {
  std::string url;
  std::string api_key;
  double interval_s = 2;
  bool once = false;
};

// A data dir's stages, read-only, behind the pipeline routes.
class LocalApi {
 public:
  static Result<std::unique_ptr<LocalApi>> Open(const CliContext& ctx) {
    auto api = std::unique_ptr<LocalApi>(new LocalApi());
    DF_ASSIGN_OR_RETURN(api->config_, LoadConfig(ctx));
    const PipelineConfig& c = api->config_;
    // As `status` opens them: a role's data dir has only its own stages.
    auto staging = OpenStagingForReading(ctx, c);
    auto store = OpenStoreForReading(ctx, c);
    if (!staging.ok() && !store.ok()) return staging.status();
    if (!staging.ok() && staging.status().code() != StatusCode::kNotFound) {
      return staging.status();
    }
    if (staging.ok()) api->staging_ = std::move(staging).value();
    if (store.ok()) api->store_ = std::move(store).value();
    DF_ASSIGN_OR_RETURN(api->log_, OpenLogForReading(ctx, c));
    DF_ASSIGN_OR_RETURN(api->runs_, OpenRunStoreForReading(ctx, c));
    rest::PipelineApiBackends b;
    b.config = &api->config_;
    b.log = api->log_.get();
    b.staging = api->staging_.get();
    b.store = api->store_.get();
    b.runs = api->runs_.get();
    rest::RegisterPipelineApi(&api->router_, b);
    return api;
  }

  // "/v1/runs?limit=100": the route's answer, as the server would give it without auth.
  Result<std::string> Get(const std::string& target) {
    size_t q = target.find('?');
    std::string path = target.substr(0, q);
    DF_ASSIGN_OR_RETURN(auto match, router_.Find("GET", path));
    if (!match.route) return Status::Internal(fmt::format("top: no route GET {}", path));
    http::ApiRequest req;
    req.method = "GET";
    req.path = path;
    req.path_params = match.params;
    req.principal = auth::Principal{"top", "admin", "none", ""};
    if (q != std::string::npos) {
      std::string query = target.substr(q + 1);
      size_t pos = 0;
      while (pos < query.size()) {
        size_t amp = std::min(query.find('&', pos), query.size());
        std::string part = query.substr(pos, amp - pos);
        size_t eq = part.find('=');
        req.query.emplace_back(part.substr(0, eq),
                               eq == std::string::npos ? "" : part.substr(eq + 1));
        pos = amp + 1;
      }
    }
    http::ApiResponse r = match.route->handler(req);
    if (r.status != 200) return Status::Unavailable(ErrorText(r.body, r.status));
    return r.body;
  }

  // The error envelope's message, or the status.
  static std::string ErrorText(const std::string& body, int status) {
    size_t at = body.find("\"message\":\"");
    if (at == std::string::npos) return fmt::format("HTTP {}", status);
    std::string message = body.substr(at + 11);
    return message.substr(0, message.rfind("\"}"));
  }

 private:
  LocalApi() = default;
  PipelineConfig config_;
  std::unique_ptr<Staging> staging_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Log> log_;
  std::unique_ptr<RunStore> runs_;
  http::ApiRouter router_;
};

// A running server's routes over HTTP, with libcurl.
class RemoteApi {
 public:
  RemoteApi(std::string url, const std::string& api_key) : url_(std::move(url)) {
    while (!url_.empty() && url_.back() == '/') url_.pop_back();
    curl_ = curl_easy_init();
    if (!api_key.empty()) {
      headers_ = curl_slist_append(headers_, ("Authorization: Bearer " + api_key).c_str());
    }
  }
  ~RemoteApi() {
    curl_slist_free_all(headers_);
    if (curl_) curl_easy_cleanup(curl_);
  }
  RemoteApi(const RemoteApi&) = delete;
  RemoteApi& operator=(const RemoteApi&) = delete;

  Result<std::string> Get(const std::string& target) {
    if (!curl_) return Status::Internal("top: libcurl did not start");
    std::string body;
    std::string url = url_ + target;
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(
        curl_, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t n, void* out) -> size_t {
          static_cast<std::string*>(out)->append(data, size * n);
          return size * n;
        });
    CURLcode rc = curl_easy_perform(curl_);
    if (rc != CURLE_OK) {
      return Status::Unavailable(
          fmt::format("cannot reach the server at {}: {} (is `dataforge serve` or `run "
                      "--http-port` running there?)",
                      url_, curl_easy_strerror(rc)));
    }
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
      std::string hint = status == 401 ? " (give --api-key KEY: see `dataforge keys create`)" : "";
      return Status::Unavailable(fmt::format("GET {} answered {}: {}{}", url, status,
                                             LocalApi::ErrorText(body, static_cast<int>(status)),
                                             hint));
    }
    return body;
  }

 private:
  std::string url_;
  CURL* curl_ = nullptr;
  curl_slist* headers_ = nullptr;
};

// Raw keys on the terminal's stdin (no echo, no line buffering; Ctrl-C stays a signal), the
// alternate screen and a hidden cursor; all restored by the destructor.
class TerminalScreen {
 public:
  TerminalScreen() {
    keys_ = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_) == 0;
    if (keys_) {
      termios raw = saved_;
      raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
      raw.c_cc[VMIN] = 0;
      raw.c_cc[VTIME] = 0;
      tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    }
    std::fputs("\033[?1049h\033[?25l", stdout);
  }
  ~TerminalScreen() {
    std::fputs("\033[?25h\033[?1049l", stdout);
    std::fflush(stdout);
    if (keys_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  bool keys() const { return keys_; }

 private:
  termios saved_{};
  bool keys_ = false;
};

Status RunTop(const CliContext& ctx, const TopOptions& o) {
  std::unique_ptr<LocalApi> local;
  std::unique_ptr<RemoteApi> remote;
  std::string source;
  TopGet get;
  if (!o.url.empty()) {
    if (o.url.rfind("http://", 0) != 0 && o.url.rfind("https://", 0) != 0) {
      return Status::ConfigError(
          fmt::format("--url '{}': expected http://HOST:PORT or https://HOST:PORT", o.url));
    }
    remote = std::make_unique<RemoteApi>(o.url, o.api_key);
    get = [&](const std::string& t) { return remote->Get(t); };
    source = fmt::format("server {}", o.url);
  } else {
    DF_ASSIGN_OR_RETURN(local, LocalApi::Open(ctx));
    get = [&](const std::string& t) { return local->Get(t); };
    source = fmt::format("data dir {}", ctx.data_dir);
  }
  TopModel model(get);
  Clock* clock = Clock::Real();
  DF_RETURN_IF_ERROR(model.Refresh(clock->MonotonicMicros()));
  if (o.once || !isatty(STDOUT_FILENO)) {
    fmt::print("{}", model.Render("dataforge top: " + source));
    return Status::OK();
  }

  sigset_t signals = StopSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC);
  if (signal_fd < 0) return Status::IOError("top: signalfd failed");
  TerminalScreen screen;
  std::string problem;
  auto title = [&] {
    std::string t =
        fmt::format("dataforge top: {}   every {:g} s   q to quit", source, o.interval_s);
    if (!problem.empty()) t += "\n  (last refresh failed: " + problem + ")";
    return t;
  };
  const int interval_ms = static_cast<int>(o.interval_s * 1000);
  bool quit = false;
  while (!quit) {
    std::string frame = "\033[H\033[2J" + model.Render(title());
    std::fwrite(frame.data(), 1, frame.size(), stdout);
    std::fflush(stdout);
    int64_t until = clock->MonotonicMicros() + interval_ms * 1000LL;
    while (!quit) {
      int64_t left_ms = (until - clock->MonotonicMicros()) / 1000;
      if (left_ms <= 0) break;
      pollfd fds[2] = {{signal_fd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
      int n = poll(fds, screen.keys() ? 2 : 1, static_cast<int>(left_ms));
      if (n <= 0) continue;
      if (fds[0].revents & POLLIN) quit = true;
      if (screen.keys() && (fds[1].revents & POLLIN)) {
        char c = 0;
        if (read(STDIN_FILENO, &c, 1) == 1 && (c == 'q' || c == 'Q')) quit = true;
      }
    }
    if (quit) break;
    Status s = model.Refresh(clock->MonotonicMicros());
    problem = s.ok() ? "" : std::string(s.message());
  }
  close(signal_fd);
  return Status::OK();
}

}  // namespace

void AddTopCommand(CLI::App& app, CliContext& ctx, int* exit_code) {
  auto o = std::make_shared<TopOptions>();
  auto* cmd = app.add_subcommand(
      "top",
      "The pipeline at a glance, redrawn in place (q or Ctrl-C to quit): each stage's total, "
      "rate and lag, the balance check, partitions with lag, DAG runs by state and the latest "
      "dead letters. Reads the data dir (read-only, as `status` does) or a running server "
      "(--url). With --once, or when stdout is not a terminal, prints one screen and exits");
  auto* url =
      cmd->add_option("--url", o->url,
                      "A running `dataforge serve` or `run --http-port`: http://HOST:PORT (instead "
                      "of the data dir)");
  cmd->add_option("--api-key", o->api_key,
                  "API key for --url (`dataforge keys create USER`), sent as a bearer token")
      ->needs(url);
  cmd->add_option("--interval", o->interval_s, "Seconds between refreshes")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->add_flag("--once", o->once, "Print one screen and exit");
  cmd->callback([&ctx, exit_code, o] {
    Status s = RunTop(ctx, *o);
    *exit_code = s.ok() ? 0 : ReportError(s);
  });
}

}  // namespace dataforge
