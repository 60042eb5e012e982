#include "log/kafka/kafka_log.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "log/kafka/kafka_consumer.h"

namespace dataforge {
namespace {

constexpr int kMetadataTimeoutMs = 10'000;
constexpr int kRequestTimeoutMs = 10'000;
constexpr int kAdminTimeoutMs = 5'000;
constexpr int64_t kFirstWaitWarnUs = 2'000'000;
constexpr int64_t kWaitWarnEveryUs = 5'000'000;

void DeliveryCallback(rd_kafka_t* /*rk*/, const rd_kafka_message_t* msg, void* opaque) {
  if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (opaque) static_cast<KafkaErrorReporter*>(opaque)->Succeeded();
  } else {
    CountKafkaError();
  }
  auto* a = static_cast<KafkaLog::PendingAppend*>(msg->_private);
  if (!a) return;
  a->remaining -= 1;
  if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (a->failed++ == 0) {
      a->first_error = msg->err;
      a->first_failed =
          fmt::format("key '{}' ({} bytes) for {}/{}",
                      msg->key ? std::string(static_cast<const char*>(msg->key), msg->key_len) : "",
                      msg->len, a->topic, msg->partition);
    }
    return;
  }
  auto p = static_cast<size_t>(msg->partition);
  if (p < a->base_offsets.size() && (a->base_offsets[p] < 0 || msg->offset < a->base_offsets[p])) {
    a->base_offsets[p] = msg->offset;
  }
}

int64_t NowUs() {
  return Clock::Real()->MonotonicMicros();
}

}  // namespace

Result<std::unique_ptr<Log>> KafkaLog::Open(const std::string& url, OpenMode mode,
                                            const LogOptions& options) {
  DF_ASSIGN_OR_RETURN(KafkaUrl parsed, ParseKafkaUrl(url));
  KafkaProperties props = options.properties;
  props.insert(props.end(), parsed.properties.begin(), parsed.properties.end());
  std::unique_ptr<KafkaLog> log(
      new KafkaLog(KafkaConfig(parsed.bootstrap, std::move(props)), mode, options));
  DF_RETURN_IF_ERROR(log->Connect());
  return std::unique_ptr<Log>(std::move(log));
}

KafkaLog::~KafkaLog() {
  if (producer_ && !pending_.empty()) {
    // Unacknowledged records go: the relay's cursor never passed them, so they are sent again.
    rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(producer_.get(), 5000);  // serves the purged messages' callbacks
  }
  if (append_rkt_) rd_kafka_topic_destroy(append_rkt_);  // before the producer it belongs to
  producer_.reset();
  pending_.clear();
  std::lock_guard lock(mu_);
  for (auto& [group, rk] : group_readers_) rd_kafka_consumer_close(rk.get());
  if (reader_) rd_kafka_consumer_close(reader_.get());
}

Status KafkaLog::Connect() {
  KafkaProperties defaults = {{"client.id", "dataforge"},
                              {"socket.keepalive.enable", "true"},
                              {"linger.ms", "2"},
                              {"queue.buffering.max.messages", "1000000"},
                              {"queue.buffering.max.kbytes", "1048576"}};
  KafkaProperties fixed;
  if (mode_ == OpenMode::kReadWrite) {
    defaults.emplace_back("acks", "all");
    // Retry until the brokers acknowledge: an outage stalls the relay, it never drops records.
    defaults.emplace_back("message.timeout.ms", "0");
    fixed.emplace_back("enable.idempotence", "true");
  }
  DF_ASSIGN_OR_RETURN(producer_, config_.Create(RD_KAFKA_PRODUCER, defaults, fixed,
                                                &producer_errors_, [](rd_kafka_conf_t* conf) {
                                                  rd_kafka_conf_set_dr_msg_cb(conf,
                                                                              DeliveryCallback);
                                                }));
  auto md = Metadata(kMetadataTimeoutMs);
  if (!md.ok()) return md.status();
  return Status::OK();
}

Result<MetadataPtr> KafkaLog::Metadata(int timeout_ms) {
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(producer_.get(), 1, nullptr, &md, timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::string last = producer_errors_.Last();
    return Status::Unavailable(fmt::format(
        "cannot reach Kafka at {}: {}{}; check the broker list in --log / log.url and that the "
        "brokers are up",
        config_.bootstrap(), KafkaErrorText(err), last.empty() ? "" : " (" + last + ")"));
  }
  return MetadataPtr(md);
}

Result<int32_t> KafkaLog::PartitionCount(const std::string& topic, bool refresh) {
  if (!refresh) {
    std::lock_guard lock(mu_);
    auto it = partition_counts_.find(topic);
    if (it != partition_counts_.end()) return it->second;
  }
  DF_ASSIGN_OR_RETURN(MetadataPtr md, Metadata(kMetadataTimeoutMs));
  for (int i = 0; i < md->topic_cnt; ++i) {
    const auto& t = md->topics[i];
    if (topic != t.topic) continue;
    if (t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || t.partition_cnt == 0) break;
    std::lock_guard lock(mu_);
    partition_counts_[topic] = t.partition_cnt;
    return t.partition_cnt;
  }
  return Status::NotFound(fmt::format("no topic '{}' in Kafka at {}", topic, config_.bootstrap()));
}

Status KafkaLog::CreateWithAdminApi(const std::string& topic, int32_t partitions) {
  char err[512];
  int rf = options_.replication_factor > 0 ? options_.replication_factor : -1;
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), partitions, rf, err, sizeof err);
  if (!nt) return Status::InvalidArgument(fmt::format("topic '{}': {}", topic, err));
  rd_kafka_AdminOptions_t* opts =
      rd_kafka_AdminOptions_new(producer_.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_request_timeout(opts, kAdminTimeoutMs, err, sizeof err);
  rd_kafka_queue_t* q = rd_kafka_queue_new(producer_.get());
  rd_kafka_CreateTopics(producer_.get(), &nt, 1, opts, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, kAdminTimeoutMs + 5000);
  Status s;
  if (!ev) {
    s = Status::Unavailable(
        fmt::format("creating topic '{}' in Kafka at {}: no answer", topic, config_.bootstrap()));
  } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_resp_err_t e = rd_kafka_event_error(ev);
    // No CreateTopics API, or no controller that answers it (librdkafka's mock cluster): the
    // caller falls back to auto-creation.
    bool unsupported = e == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE ||
                       e == RD_KAFKA_RESP_ERR__TIMED_OUT || e == RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE;
    s = Status(unsupported ? StatusCode::kNotFound : StatusCode::kUnavailable,
               fmt::format("creating topic '{}': {}", topic, rd_kafka_event_error_string(ev)));
  } else {
    size_t cnt = 0;
    const rd_kafka_topic_result_t** res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
    for (size_t i = 0; i < cnt; ++i) {
      rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR || e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) continue;
      s = Status::InvalidArgument(fmt::format(
          "creating topic '{}' with {} partitions (replication {}) in Kafka at {}: {}", topic,
          partitions, rf > 0 ? std::to_string(rf) : "the cluster default", config_.bootstrap(),
          rd_kafka_topic_result_error_string(res[i]) ? rd_kafka_topic_result_error_string(res[i])
                                                     : KafkaErrorText(e)));
    }
  }
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(q);
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_NewTopic_destroy(nt);
  return s;
}

Status KafkaLog::CreateTopic(const std::string& topic, int32_t partitions) {
  auto count = PartitionCount(topic, /*refresh=*/true);
  std::string how = "has";
  if (!count.ok() && count.status().code() == StatusCode::kNotFound) {
    if (mode_ != OpenMode::kReadWrite) return count.status();
    Status s = CreateWithAdminApi(topic, partitions);
    if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
    if (!s.ok()) {
      // A cluster without the CreateTopics API: ask for the topic, which auto-creates it on
      // brokers that allow that, with the brokers' default partition count.
      spdlog::info("kafka: {} ({}); relying on the brokers' topic auto-creation", s.message(),
                   config_.bootstrap());
      rd_kafka_topic_t* rkt = rd_kafka_topic_new(producer_.get(), topic.c_str(), nullptr);
      const rd_kafka_metadata_t* md = nullptr;
      if (rd_kafka_metadata(producer_.get(), 0, rkt, &md, kMetadataTimeoutMs) ==
          RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_metadata_destroy(md);
      }
      rd_kafka_topic_destroy(rkt);
      how = "was auto-created with";
    }
    // New topics take a moment to appear in every broker's metadata.
    for (int i = 0; i < 100; ++i) {
      count = PartitionCount(topic, true);
      if (count.ok() || count.status().code() != StatusCode::kNotFound) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!count.ok() && count.status().code() == StatusCode::kNotFound) {
      return Status::Unavailable(fmt::format(
          "topic '{}' could not be created in Kafka at {} (the brokers neither created it nor "
          "auto-created it); create it with {} partitions and run again",
          topic, config_.bootstrap(), partitions));
    }
  }
  if (!count.ok()) return count.status();
  if (*count != partitions) {
    return Status::InvalidArgument(
        fmt::format("topic '{}' {} {} partitions in Kafka at {}, the pipeline file says {}: set "
                    "log.partitions: {} (or use another log.topic)",
                    topic, how, *count, config_.bootstrap(), partitions, *count));
  }
  return Status::OK();
}

Result<std::vector<std::string>> KafkaLog::ListTopics() {
  DF_ASSIGN_OR_RETURN(MetadataPtr md, Metadata(kMetadataTimeoutMs));
  std::vector<std::string> names;
  for (int i = 0; i < md->topic_cnt; ++i) {
    std::string name = md->topics[i].topic;
    if (name.rfind("__", 0) == 0) continue;  // internal topics
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::pair<int64_t, int64_t>> KafkaLog::Watermarks(const std::string& topic,
                                                         int32_t partition) {
  int64_t lo = 0, hi = 0;
  rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
      producer_.get(), topic.c_str(), partition, &lo, &hi, kRequestTimeoutMs);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable(fmt::format("kafka: offsets of {}/{} at {}: {}", topic, partition,
                                           config_.bootstrap(), KafkaErrorText(err)));
  }
  return std::pair<int64_t, int64_t>{lo, hi};
}

Result<TopicInfo> KafkaLog::DescribeTopic(const std::string& topic) {
  DF_ASSIGN_OR_RETURN(int32_t n, PartitionCount(topic, true));
  // Every partition's start and end in two ListOffsets rounds (librdkafka sends one request per
  // leader broker and waits for them together), not two round trips per partition in turn.
  auto list_offsets = [&](int64_t which) -> Result<PartitionListPtr> {
    PartitionListPtr list(rd_kafka_topic_partition_list_new(n));
    for (int32_t p = 0; p < n; ++p) {
      rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = which;
    }
    rd_kafka_resp_err_t err =
        rd_kafka_offsets_for_times(producer_.get(), list.get(), kRequestTimeoutMs);
    for (int i = 0; err == RD_KAFKA_RESP_ERR_NO_ERROR && i < list->cnt; ++i) {
      err = list->elems[i].err;
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::Unavailable(fmt::format("kafka: offsets of {} at {}: {}", topic,
                                             config_.bootstrap(), KafkaErrorText(err)));
    }
    return list;
  };
  DF_ASSIGN_OR_RETURN(PartitionListPtr starts, list_offsets(RD_KAFKA_OFFSET_BEGINNING));
  DF_ASSIGN_OR_RETURN(PartitionListPtr ends, list_offsets(RD_KAFKA_OFFSET_END));
  TopicInfo info;
  info.name = topic;
  for (int32_t p = 0; p < n; ++p) {
    PartitionInfo pi;
    pi.partition = p;
    pi.start_offset = starts->elems[p].offset;
    pi.end_offset = ends->elems[p].offset;
    info.partitions.push_back(pi);
  }
  return info;
}

// librdkafka 2.0.2 (Debian 12) does not expose Kafka's topic id (KIP-516): the identity is the
// topic's first record, which a topic made again does not share (docs/kafka.md).
Result<std::string> KafkaLog::LogId(const std::string& topic) {
  DF_RETURN_IF_ERROR(PartitionCount(topic, false).status());
  {
    std::lock_guard lock(mu_);
    if (first_record_gone_.count(topic) > 0) return std::string();
  }
  DF_ASSIGN_OR_RETURN(auto marks, Watermarks(topic, 0));
  if (marks.first > 0) {  // deleted by retention: it never comes back (asked once)
    std::lock_guard lock(mu_);
    first_record_gone_.insert(topic);
    return std::string();
  }
  if (marks.second == 0) return std::string();  // not there yet
  std::vector<ConsumedRecord> first;
  DF_RETURN_IF_ERROR(Read(topic, 0, 0, 1, &first));
  if (first.empty() || first[0].offset != 0) return std::string();
  const LogRecord& r = first[0].record;
  uint64_t h = 14695981039346656037ull;  // FNV-1a over key, NUL, value
  auto mix = [&h](std::string_view bytes) {
    for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  };
  mix(r.key);
  mix(std::string_view("\0", 1));
  mix(r.value);
  return fmt::format("kafka:{}:{:016x}", r.timestamp_us / 1000, h);
}

Result<int32_t> KafkaLog::PartitionFor(const std::string& topic, const std::string& key) {
  DF_ASSIGN_OR_RETURN(int32_t n, PartitionCount(topic, false));
  // The Java client's default: murmur2 of the key bytes, positive, modulo the partition count.
  return rd_kafka_msg_partitioner_murmur2(nullptr, key.data(), key.size(), n, nullptr, nullptr);
}

Result<int64_t> KafkaLog::Append(const std::string& topic, int32_t partition,
                                 std::span<const LogRecord> records) {
  DF_ASSIGN_OR_RETURN(int32_t n, PartitionCount(topic, false));
  if (partition < 0 || partition >= n) {
    return Status::InvalidArgument(
        fmt::format("topic '{}' has no partition {} (it has {})", topic, partition, n));
  }
  std::vector<std::vector<LogRecord>> by_partition(n);
  by_partition[partition].assign(records.begin(), records.end());
  DF_RETURN_IF_ERROR(AppendAll(topic, by_partition));
  return last_base_offsets_[partition];
}

Status KafkaLog::AppendAll(const std::string& topic,
                           std::span<const std::vector<LogRecord>> by_partition) {
  DF_ASSIGN_OR_RETURN(uint64_t ticket, StartAppend(topic, by_partition));
  while (true) {
    DF_ASSIGN_OR_RETURN(uint64_t acked, Acknowledged(100'000));
    if (acked >= ticket) return Status::OK();
  }
}

Result<uint64_t> KafkaLog::StartAppend(const std::string& topic,
                                       std::span<const std::vector<LogRecord>> by_partition) {
  if (mode_ != OpenMode::kReadWrite) return Status::InvalidArgument("the log is open read-only");
  rd_kafka_t* rk = producer_.get();
  if (!append_rkt_ || append_topic_ != topic) {
    // The topic handle, kept: producing by name looks the topic up (a lock and a list search)
    // for every record.
    if (append_rkt_) rd_kafka_topic_destroy(append_rkt_);
    append_rkt_ = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
    append_topic_ = topic;
    if (!append_rkt_) {
      return Status::Unavailable(
          fmt::format("kafka: topic '{}': {}", topic, KafkaErrorText(rd_kafka_last_error())));
    }
  }
  auto a = std::make_unique<PendingAppend>();
  a->ticket = ++next_ticket_;
  a->topic = topic;
  a->base_offsets.assign(by_partition.size(), -1);
  a->started_us = NowUs();
  size_t value_bytes = 0;
  for (const auto& v : by_partition) {
    a->records += v.size();
    for (const LogRecord& r : v) value_bytes += r.value.size();
  }
  a->remaining = a->records;
  // One buffer for the batch's values instead of a copy per record in librdkafka (a 1 kB
  // record is one allocation less, and librdkafka's own allocation per record stays small).
  // Reserved up front: the pointers handed to librdkafka never move.
  a->values.reserve(value_bytes);
  PendingAppend* raw = a.get();
  pending_.push_back(std::move(a));
  for (size_t p = 0; p < by_partition.size(); ++p) {
    for (const LogRecord& r : by_partition[p]) {
      char* value = raw->values.data() + raw->values.size();
      raw->values.append(r.value);
      while (true) {
        rd_kafka_headers_t* headers = nullptr;
        if (!r.headers.empty()) {
          headers = rd_kafka_headers_new(r.headers.size());
          for (const auto& [k, v] : r.headers) {
            rd_kafka_header_add(headers, k.data(), static_cast<ssize_t>(k.size()), v.data(),
                                static_cast<ssize_t>(v.size()));
          }
        }
        rd_kafka_resp_err_t err = rd_kafka_producev(
            rk, RD_KAFKA_V_RKT(append_rkt_), RD_KAFKA_V_PARTITION(static_cast<int32_t>(p)),
            RD_KAFKA_V_KEY(r.key.data(), r.key.size()),
            RD_KAFKA_V_VALUE(r.tombstone ? nullptr : value, r.tombstone ? 0 : r.value.size()),
            RD_KAFKA_V_MSGFLAGS(0), RD_KAFKA_V_TIMESTAMP(r.timestamp_us / 1000),
            RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(raw), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
        if (headers) rd_kafka_headers_destroy(headers);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
          if (interrupted_) return Status::Cancelled("kafka: stopped while the queue was full");
          rd_kafka_poll(rk, 10);
          continue;
        }
        // Not handed over: the records before it in this append still count.
        CountKafkaError();
        raw->remaining -= 1;
        if (raw->failed++ == 0) {
          raw->first_error = err;
          raw->first_failed =
              fmt::format("key '{}' ({} bytes) for {}/{}", r.key, r.value.size(), topic, p);
        }
        break;
      }
    }
  }
  rd_kafka_poll(rk, 0);
  return raw->ticket;
}

Result<uint64_t> KafkaLog::Acknowledged(int64_t timeout_us) {
  rd_kafka_t* rk = producer_.get();
  int64_t deadline = NowUs() + timeout_us;
  rd_kafka_poll(rk, 0);
  while (true) {
    while (!pending_.empty() && pending_.front()->remaining == 0) {
      const PendingAppend& a = *pending_.front();
      if (a.failed > 0) {
        return Status::IOError(fmt::format(
            "kafka: the brokers at {} did not take {} of {} records ({}): {}; the records "
            "before it are in Kafka, a restart sends the rest",
            config_.bootstrap(), a.failed, a.records, a.first_failed,
            KafkaErrorText(a.first_error)));
      }
      acked_ticket_ = a.ticket;
      last_base_offsets_ = a.base_offsets;
      pending_.pop_front();
    }
    int64_t now = NowUs();
    if (pending_.empty()) {
      if (warned_) {
        spdlog::info("kafka: the brokers at {} acknowledge again", config_.bootstrap());
        warned_ = false;
      }
      return acked_ticket_;
    }
    const PendingAppend& oldest = *pending_.front();
    if (now - oldest.started_us >= kFirstWaitWarnUs && now >= next_wait_warning_us_) {
      size_t waiting = 0;
      for (const auto& a : pending_) waiting += a->remaining;
      std::string last = producer_errors_.Last();
      spdlog::warn(
          "kafka: waiting for the brokers at {} to acknowledge {} records of '{}' ({:.0f} s "
          "so far{}{})",
          config_.bootstrap(), waiting, oldest.topic,
          static_cast<double>(now - oldest.started_us) / 1e6,
          last.empty() ? "" : "; last error: ", last);
      warned_ = true;
      next_wait_warning_us_ = now + kWaitWarnEveryUs;
    }
    if (producer_errors_.fatal()) {
      char text[512];
      rd_kafka_resp_err_t e = rd_kafka_fatal_error(rk, text, sizeof text);
      return Status::IOError(
          fmt::format("kafka producer: fatal error {}: {}", KafkaErrorText(e), text));
    }
    if (interrupted_) return Status::Cancelled("kafka: stopped while waiting for the brokers");
    if (now >= deadline) return acked_ticket_;
    rd_kafka_poll(rk, static_cast<int>(std::clamp<int64_t>((deadline - now) / 1000, 1, 10)));
  }
}

Status KafkaLog::Read(const std::string& topic, int32_t partition, int64_t offset,
                      size_t max_records, std::vector<ConsumedRecord>* out) {
  DF_ASSIGN_OR_RETURN(auto marks, Watermarks(topic, partition));
  auto [lo, hi] = marks;
  offset = std::max(offset, lo);
  if (offset >= hi || max_records == 0) return Status::OK();
  size_t want = std::min<size_t>(max_records, static_cast<size_t>(hi - offset));
  std::lock_guard lock(mu_);
  if (!reader_) {
    DF_ASSIGN_OR_RETURN(reader_, config_.Create(RD_KAFKA_CONSUMER,
                                                {{"client.id", "dataforge-reader"},
                                                 {"auto.offset.reset", "earliest"}},
                                                {{"group.id", "dataforge-reader"},
                                                 {"enable.auto.commit", "false"},
                                                 {"enable.auto.offset.store", "false"},
                                                 {"enable.partition.eof", "true"}},
                                                &reader_errors_));
  }
  rd_kafka_t* rk = reader_.get();
  PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = offset;
  rd_kafka_resp_err_t err = rd_kafka_assign(rk, list.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable(
        fmt::format("kafka: reading {}/{}: {}", topic, partition, KafkaErrorText(err)));
  }
  size_t got = 0;
  int64_t deadline = NowUs() + kRequestTimeoutMs * 1000;
  Status s;
  while (got < want && NowUs() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      rd_kafka_message_destroy(m);
      break;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (!KafkaRetriable(m->err)) {
        s = Status::IOError(fmt::format("kafka: reading {}/{}@{}: {}", topic, partition, offset,
                                        KafkaErrorText(m->err)));
        rd_kafka_message_destroy(m);
        break;
      }
      rd_kafka_message_destroy(m);
      continue;
    }
    if (m->partition == partition && m->offset >= offset) {
      out->push_back(ConsumedFromKafka(m));
      ++got;
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_assign(rk, nullptr);
  if (s.ok() && got == 0) {
    return Status::Unavailable(
        fmt::format("kafka: no records of {}/{} from offset {} arrived in {} s (end offset {})",
                    topic, partition, offset, kRequestTimeoutMs / 1000, hi));
  }
  return s;
}

Result<int64_t> KafkaLog::OffsetForTime(const std::string& topic, int32_t partition,
                                        int64_t timestamp_us) {
  DF_ASSIGN_OR_RETURN(int32_t n, PartitionCount(topic, false));
  if (partition < 0 || partition >= n) {
    return Status::InvalidArgument(
        fmt::format("topic '{}' has no partition {} (it has {})", topic, partition, n));
  }
  DF_ASSIGN_OR_RETURN(auto marks, Watermarks(topic, partition));
  auto [lo, hi] = marks;
  if (hi <= lo) return hi;
  // Kafka keeps milliseconds; a negative time is one of ListOffsets' special values.
  int64_t ms = timestamp_us <= 0 ? 0 : (timestamp_us + 999) / 1000;
  PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = ms;
  rd_kafka_resp_err_t err =
      rd_kafka_offsets_for_times(producer_.get(), list.get(), kRequestTimeoutMs);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) err = list->elems[0].err;
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable(fmt::format("kafka: offset for time {} ms of {}/{} at {}: {}", ms,
                                           topic, partition, config_.bootstrap(),
                                           KafkaErrorText(err)));
  }
  int64_t offset = list->elems[0].offset;
  if (offset >= 0) return std::clamp(offset, lo, hi);
  // -1: no record at or after the time, says the broker. Unless its last record is (a broker
  // without a time index): then search by reading.
  DF_ASSIGN_OR_RETURN(auto last, ReadLast(topic, partition));
  if (!last || last->record.timestamp_us < ms * 1000) return hi;
  return SearchByReading(topic, partition, lo, hi, ms * 1000);
}

Result<int64_t> KafkaLog::SearchByReading(const std::string& topic, int32_t partition, int64_t lo,
                                          int64_t hi, int64_t timestamp_us) {
  // Invariant: every offset below `lo` is earlier than the time; the answer is <= `hi`.
  int64_t end = hi;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    std::vector<ConsumedRecord> out;
    DF_RETURN_IF_ERROR(Read(topic, partition, mid, 1, &out));
    if (out.empty())
      return Status::Unavailable(fmt::format(
          "kafka: no record of {}/{} at offset {} to seek by time", topic, partition, mid));
    const ConsumedRecord& c = out.front();  // at mid, or later when mid was deleted
    if (c.record.timestamp_us >= timestamp_us) {
      hi = mid;  // offsets between mid and c.offset (deleted) read as c
    } else {
      lo = c.offset + 1;
    }
  }
  return std::min(lo, end);
}

Result<std::optional<ConsumedRecord>> KafkaLog::ReadLast(const std::string& topic,
                                                         int32_t partition) {
  DF_ASSIGN_OR_RETURN(auto marks, Watermarks(topic, partition));
  auto [lo, hi] = marks;
  if (hi <= lo) return std::optional<ConsumedRecord>();
  std::vector<ConsumedRecord> out;
  DF_RETURN_IF_ERROR(Read(topic, partition, hi - 1, 1, &out));
  if (out.empty()) return std::optional<ConsumedRecord>();
  return std::optional<ConsumedRecord>(std::move(out.back()));
}

bool KafkaLog::WaitForData(const std::string& topic, int32_t partition, int64_t offset,
                           int64_t timeout_us, std::stop_token stop) {
  int64_t deadline = NowUs() + timeout_us;
  while (true) {
    int64_t lo = 0, hi = 0;
    if (rd_kafka_query_watermark_offsets(producer_.get(), topic.c_str(), partition, &lo, &hi,
                                         kRequestTimeoutMs) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        hi > offset) {
      return true;
    }
    if (stop.stop_requested() || NowUs() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Result<rd_kafka_t*> KafkaLog::GroupReader(const std::string& group) {
  // REQUIRES: mu_ held.
  auto it = group_readers_.find(group);
  if (it != group_readers_.end()) return it->second.get();
  DF_ASSIGN_OR_RETURN(RdKafkaPtr rk,
                      config_.Create(RD_KAFKA_CONSUMER, {{"client.id", "dataforge-inspect"}},
                                     {{"group.id", group},
                                      {"enable.auto.commit", "false"},
                                      {"enable.auto.offset.store", "false"}},
                                     &reader_errors_));
  rd_kafka_t* raw = rk.get();
  group_readers_[group] = std::move(rk);
  return raw;
}

Status KafkaLog::CommitGroupOffset(const std::string& group, const std::string& topic,
                                   int32_t partition, int64_t next_offset) {
  std::lock_guard lock(mu_);
  DF_ASSIGN_OR_RETURN(rd_kafka_t * rk, GroupReader(group));
  PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = next_offset;
  rd_kafka_resp_err_t err = rd_kafka_commit(rk, list.get(), 0);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) err = list->elems[0].err;
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    CountKafkaError();
    return Status::Unavailable(fmt::format("kafka: committing group '{}' offset {} for {}/{}: {}",
                                           group, next_offset, topic, partition,
                                           KafkaErrorText(err)));
  }
  return Status::OK();
}

Result<std::optional<int64_t>> KafkaLog::GroupOffset(const std::string& group,
                                                     const std::string& topic, int32_t partition) {
  DF_ASSIGN_OR_RETURN(auto offsets, CommittedOffsets(group, topic, {partition}));
  return offsets[0];
}

Result<std::vector<std::optional<int64_t>>> KafkaLog::GroupOffsets(const std::string& group,
                                                                   const std::string& topic,
                                                                   int32_t partitions) {
  std::vector<int32_t> all(partitions > 0 ? partitions : 0);
  for (int32_t p = 0; p < partitions; ++p) all[p] = p;
  return CommittedOffsets(group, topic, all);
}

Result<std::vector<std::optional<int64_t>>> KafkaLog::CommittedOffsets(
    const std::string& group, const std::string& topic, const std::vector<int32_t>& partitions) {
  std::lock_guard lock(mu_);
  DF_ASSIGN_OR_RETURN(rd_kafka_t * rk, GroupReader(group));
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (int32_t p : partitions) rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p);
  rd_kafka_resp_err_t err = rd_kafka_committed(rk, list.get(), kRequestTimeoutMs);
  for (int i = 0; err == RD_KAFKA_RESP_ERR_NO_ERROR && i < list->cnt; ++i) err = list->elems[i].err;
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::string where =
        partitions.size() == 1
            ? fmt::format("offset of group '{}' for {}/{}", group, topic, partitions[0])
            : fmt::format("offsets of group '{}' for {}", group, topic);
    return Status::Unavailable(fmt::format("kafka: committed {}: {}", where, KafkaErrorText(err)));
  }
  std::vector<std::optional<int64_t>> out;
  out.reserve(partitions.size());
  for (int i = 0; i < list->cnt; ++i) {
    int64_t o = list->elems[i].offset;
    out.push_back(o >= 0 ? std::optional<int64_t>(o) : std::optional<int64_t>());
  }
  return out;
}

Result<std::unique_ptr<LogConsumer>> KafkaLog::Subscribe(const std::string& group,
                                                         const std::string& topic,
                                                         ConsumerListener* listener) {
  DF_ASSIGN_OR_RETURN(int32_t n, PartitionCount(topic, true));
  return KafkaConsumer::Create(config_, group, topic, n, listener);
}

}  // namespace dataforge
