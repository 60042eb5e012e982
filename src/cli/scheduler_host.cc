#include "cli/scheduler_host.h"

#include <pthread.h>
#include <unistd.h>

#include <random>

#include <fmt/format.h>

#include "pipeline/data_dir.h"

namespace dataforge {

Result<std::string> SchedulerOwnerPrefix(const std::string& data_dir) {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  DF_ASSIGN_OR_RETURN(std::string id, DataDirId(data_dir));
  return fmt::format("{}:{}:", host, id);
}

Result<std::unique_ptr<SchedulerHost>> SchedulerHost::Open(const PipelineConfig& config,
                                                           const std::string& data_dir,
                                                           TaskEnvironment* env, Clock* clock) {
  std::unique_ptr<SchedulerHost> h(new SchedulerHost());
  DF_ASSIGN_OR_RETURN(h->store_,
                      OpenRunStore(ResolveUrls(config, data_dir).staging, OpenMode::kReadWrite));
  DF_ASSIGN_OR_RETURN(std::string prefix, SchedulerOwnerPrefix(data_dir));
  std::random_device rd;
  std::string owner = fmt::format("{}{}:{:08x}", prefix, ::getpid(), rd());
  h->scheduler_ = std::make_unique<Scheduler>(config.dags, config.scheduler, h->store_.get(), env,
                                              clock, owner, prefix);
  DF_RETURN_IF_ERROR(h->scheduler_->Start());
  return h;
}

SchedulerHost::~SchedulerHost() {
  Stop();
}

Status SchedulerHost::Start() {
  thread_ = std::jthread([this](std::stop_token stop) {
    pthread_setname_np(pthread_self(), "df-scheduler");
    result_ = scheduler_->Run(stop);
  });
  return Status::OK();
}

void SchedulerHost::Stop() {
  std::lock_guard lock(stop_mu_);
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
  if (scheduler_) scheduler_->Shutdown();
}

}  // namespace dataforge
