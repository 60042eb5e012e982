#include "log/kafka/kafka_client.h"

#include <algorithm>
#include <functional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/client_counters.h"
#include "common/clock.h"

namespace dataforge {
namespace {

constexpr int64_t kWarnEveryUs = 5'000'000;

// Properties DataForge sets itself because a guarantee depends on them.
constexpr const char* kManagedProperties[] = {
    "bootstrap.servers",   // the URL's host list
    "group.id",            // process.group in the pipeline file
    "enable.auto.commit",  // offsets are committed after the store write
    "enable.auto.offset.store",
    "enable.partition.eof",
};

std::string Decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

void LogCallback(const rd_kafka_t* /*rk*/, int level, const char* fac, const char* buf) {
  // librdkafka's own log (syslog levels): debug detail, broker errors come through error_cb.
  if (level <= 3) {
    spdlog::debug("librdkafka error [{}]: {}", fac, buf);
  } else {
    spdlog::debug("librdkafka [{}]: {}", fac, buf);
  }
}

void ErrorCallback(rd_kafka_t* /*rk*/, int err, const char* reason, void* opaque) {
  static_cast<KafkaErrorReporter*>(opaque)->Report(static_cast<rd_kafka_resp_err_t>(err), reason);
}

}  // namespace

Result<KafkaUrl> ParseKafkaUrl(const std::string& url) {
  const std::string scheme = "kafka://";
  auto usage = [&](const std::string& why) {
    return Status::ConfigError(fmt::format(
        "log url '{}': {}; expected kafka://host:port[,host:port...][?property=value&...]", url,
        why));
  };
  if (url.rfind(scheme, 0) != 0) return usage("not a kafka:// url");
  std::string rest = url.substr(scheme.size());
  KafkaUrl out;
  auto q = rest.find('?');
  out.bootstrap = rest.substr(0, q);
  while (!out.bootstrap.empty() && out.bootstrap.back() == '/') out.bootstrap.pop_back();
  if (out.bootstrap.empty()) return usage("no broker address");
  size_t start = 0;
  while (start <= out.bootstrap.size()) {
    size_t end = out.bootstrap.find(',', start);
    if (end == std::string::npos) end = out.bootstrap.size();
    std::string hp = out.bootstrap.substr(start, end - start);
    auto colon = hp.rfind(':');
    if (hp.empty() || colon == std::string::npos || colon == 0 || colon + 1 == hp.size() ||
        hp.find_first_not_of("0123456789", colon + 1) != std::string::npos) {
      return usage(fmt::format("broker '{}' is not host:port", hp));
    }
    start = end + 1;
  }
  if (q != std::string::npos) {
    std::string query = rest.substr(q + 1);
    size_t pos = 0;
    while (pos < query.size()) {
      size_t amp = query.find('&', pos);
      if (amp == std::string::npos) amp = query.size();
      std::string kv = query.substr(pos, amp - pos);
      pos = amp + 1;
      if (kv.empty()) continue;
      auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        return usage(fmt::format("query part '{}' is not property=value", kv));
      }
      out.properties.emplace_back(Decode(kv.substr(0, eq)), Decode(kv.substr(eq + 1)));
    }
  }
  return out;
}

void CountKafkaError() {
  ClientCounters::Get().Error(ClientBackend::kKafka);
}

void KafkaErrorReporter::CountReconnect() {
  ClientCounters::Get().Reconnect(ClientBackend::kKafka);
}

void KafkaErrorReporter::Report(rd_kafka_resp_err_t err, const char* reason) {
  CountKafkaError();
  if (err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    disconnected_ = true;
  }
  std::string text = reason ? reason : KafkaErrorText(err);
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    fatal_ = true;
    spdlog::error("kafka {}: fatal error: {}", what_, text);
  }
  int64_t now = Clock::Real()->MonotonicMicros();
  std::lock_guard lock(mu_);
  last_ = text;
  // Broker connection errors repeat every retry: warn once per kind every few seconds.
  std::string kind = KafkaErrorText(err);
  if (kind != last_warned_ || now - last_warn_us_ >= kWarnEveryUs) {
    last_warned_ = kind;
    last_warn_us_ = now;
    spdlog::warn("kafka {}: {}", what_, text);
  }
}

std::string KafkaErrorReporter::Last() {
  std::lock_guard lock(mu_);
  return last_;
}

Result<RdKafkaPtr> KafkaConfig::Create(rd_kafka_type_t type, const KafkaProperties& defaults,
                                       const KafkaProperties& fixed, KafkaErrorReporter* reporter,
                                       const std::function<void(rd_kafka_conf_t*)>& setup) const {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  auto set = [&](const std::string& k, const std::string& v, bool from_user) -> Status {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      return Status::ConfigError(
          fmt::format("{}kafka property '{}' = '{}': {} (see librdkafka's CONFIGURATION.md)",
                      from_user ? "log.properties: " : "", k, v, err));
    }
    return Status::OK();
  };
  Status s = set("bootstrap.servers", bootstrap_, false);
  for (const auto& [k, v] : defaults) {
    if (s.ok()) s = set(k, v, false);
  }
  for (const auto& [k, v] : user_) {
    if (!s.ok()) break;
    if (std::find(std::begin(kManagedProperties), std::end(kManagedProperties), k) !=
        std::end(kManagedProperties)) {
      s = Status::ConfigError(fmt::format(
          "log.properties: '{}' is set by DataForge (broker list from the url, group from "
          "process.group, offsets committed after the store write); remove it",
          k));
      break;
    }
    s = set(k, v, true);
  }
  for (const auto& [k, v] : fixed) {
    if (s.ok()) s = set(k, v, false);
  }
  if (!s.ok()) {
    rd_kafka_conf_destroy(conf);
    return s;
  }
  rd_kafka_conf_set_log_cb(conf, LogCallback);
  rd_kafka_conf_set_error_cb(conf, ErrorCallback);
  rd_kafka_conf_set_opaque(conf, reporter);
  if (setup) setup(conf);
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return Status::ConfigError(fmt::format("kafka {} for {}: {}",
                                           type == RD_KAFKA_PRODUCER ? "producer" : "consumer",
                                           bootstrap_, err));
  }
  return RdKafkaPtr(rk);
}

std::string KafkaErrorText(rd_kafka_resp_err_t err) {
  return fmt::format("{} ({})", rd_kafka_err2str(err), rd_kafka_err2name(err));
}

ConsumedRecord ConsumedFromKafka(const rd_kafka_message_t* m) {
  ConsumedRecord c;
  c.partition = m->partition;
  c.offset = m->offset;
  if (m->key) c.record.key.assign(static_cast<const char*>(m->key), m->key_len);
  if (m->payload) c.record.value.assign(static_cast<const char*>(m->payload), m->len);
  c.record.tombstone = m->payload == nullptr;
  rd_kafka_timestamp_type_t type;
  int64_t ms = rd_kafka_message_timestamp(m, &type);
  c.record.timestamp_us = ms >= 0 ? ms * 1000 : 0;
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR && headers) {
    c.record.headers.reserve(rd_kafka_header_cnt(headers));
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    for (size_t i = 0;
         rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      c.record.headers.emplace_back(
          name, value ? std::string(static_cast<const char*>(value), size) : std::string());
    }
  }
  return c;
}

bool KafkaRetriable(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__NODE_UPDATE:
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
    case RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED:
      return true;
    default:
      return false;
  }
}

}  // namespace dataforge
