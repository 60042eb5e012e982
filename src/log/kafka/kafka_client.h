// librdkafka handles as DataForge uses them: configuration from a kafka:// URL and the pipeline
// file, librdkafka's log routed to spdlog, broker errors reported once per kind and remembered
// for "waiting for ..." messages.
//
// URL: kafka://host:port[,host:port...][?property=value&...]. Properties from the URL's query and
// from the pipeline file (log.properties) are passed to librdkafka as they are, over DataForge's
// defaults; the few that DataForge's guarantees depend on are refused (see kManagedProperties in
// kafka_client.cc).
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "log/log.h"

namespace dataforge {

using KafkaProperties = std::vector<std::pair<std::string, std::string>>;

struct KafkaUrl {
  std::string bootstrap;       // "host:port,host:port"
  KafkaProperties properties;  // from the query string
};

// Parses "kafka://..."; errors are ConfigErrors that show the expected form.
Result<KafkaUrl> ParseKafkaUrl(const std::string& url);

struct RdKafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using RdKafkaPtr = std::unique_ptr<rd_kafka_t, RdKafkaDeleter>;

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* m) const { rd_kafka_metadata_destroy(m); }
};
using MetadataPtr = std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter>;

// Broker errors seen by one handle. error_cb runs on librdkafka's threads or inside poll calls.
// Each Report() counts one kafka error in ClientCounters (common/client_counters.h); a broker
// transport error (TRANSPORT, ALL_BROKERS_DOWN) marks the handle disconnected, and the next
// Succeeded() (a delivered or consumed message) counts one kafka reconnect.
// Thread-safe.
class KafkaErrorReporter {
 public:
  explicit KafkaErrorReporter(std::string what) : what_(std::move(what)) {}
  void Report(rd_kafka_resp_err_t err, const char* reason);
  // The handle talked to a broker successfully: a reconnect if a transport error came before.
  void Succeeded() {
    if (disconnected_.load(std::memory_order_relaxed) && disconnected_.exchange(false)) {
      CountReconnect();
    }
  }
  std::string Last();
  bool fatal() const { return fatal_; }
  // What the handle belongs to, for callbacks that share the handle's opaque pointer.
  void* owner = nullptr;

 private:
  std::string what_;
  std::mutex mu_;
  std::string last_;          // guarded by mu_
  int64_t last_warn_us_ = 0;  // guarded by mu_
  std::string last_warned_;   // guarded by mu_
  std::atomic<bool> fatal_{false};
  std::atomic<bool> disconnected_{false};
  static void CountReconnect();
};

// Counts one kafka client error (a failed produce, commit or read call) in ClientCounters.
void CountKafkaError();

// The broker list and the user's properties, from which each librdkafka handle is created.
class KafkaConfig {
 public:
  // `user` are the URL's and the pipeline file's properties (later ones win).
  KafkaConfig(std::string bootstrap, KafkaProperties user)
      : bootstrap_(std::move(bootstrap)), user_(std::move(user)) {}

  // Creates a handle: DataForge's `defaults`, then the user's properties, then `fixed` (which
  // the user may not override). `reporter` and `opaque`/callbacks are installed by `setup`.
  Result<RdKafkaPtr> Create(rd_kafka_type_t type, const KafkaProperties& defaults,
                            const KafkaProperties& fixed, KafkaErrorReporter* reporter,
                            const std::function<void(rd_kafka_conf_t*)>& setup = {}) const;

  const std::string& bootstrap() const { return bootstrap_; }

 private:
  std::string bootstrap_;
  KafkaProperties user_;
};

// "Local: Broker transport failure" style text for an error code.
std::string KafkaErrorText(rd_kafka_resp_err_t err);

// The record of a consumed message (key, value, headers, timestamp in microseconds).
ConsumedRecord ConsumedFromKafka(const rd_kafka_message_t* m);

// True for errors that go away by themselves (broker down, leader change, time-outs).
bool KafkaRetriable(rd_kafka_resp_err_t err);

}  // namespace dataforge
