#include "log/kafka/kafka_consumer.h"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/clock.h"

namespace dataforge {
namespace {

constexpr int kRequestTimeoutMs = 10'000;

KafkaConsumer* Owner(void* opaque) {
  return static_cast<KafkaConsumer*>(static_cast<KafkaErrorReporter*>(opaque)->owner);
}

void RebalanceCallback(rd_kafka_t* /*rk*/, rd_kafka_resp_err_t err,
                       rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  Owner(opaque)->OnRebalance(err, partitions);
}

void CommitCallback(rd_kafka_t* /*rk*/, rd_kafka_resp_err_t err,
                    rd_kafka_topic_partition_list_t* offsets, void* opaque) {
  Owner(opaque)->OnCommit(err, offsets);
}

std::string Positions(const rd_kafka_topic_partition_list_t* list) {
  std::string out;
  for (int i = 0; i < list->cnt; ++i) {
    if (i) out += ", ";
    int64_t o = list->elems[i].offset;
    out += o >= 0 ? fmt::format("{}@{}", list->elems[i].partition, o)
                  : fmt::format("{}@start", list->elems[i].partition);
  }
  return out.empty() ? "none" : out;
}

}  // namespace

Result<std::unique_ptr<LogConsumer>> KafkaConsumer::Create(const KafkaConfig& config,
                                                           const std::string& group,
                                                           const std::string& topic,
                                                           int32_t partitions,
                                                           ConsumerListener* listener) {
  std::unique_ptr<KafkaConsumer> c(new KafkaConsumer(group, topic, partitions, listener));
  c->errors_.owner = c.get();
  KafkaProperties defaults = {
      {"client.id", "dataforge-processor"},
      {"auto.offset.reset", "earliest"},
      // Records reach the store soon after they reach the broker: do not let an idle fetch
      // sit on the broker for librdkafka's default 500 ms.
      {"fetch.wait.max.ms", "10"},
      // A dead member's partitions move to the others after this long.
      {"session.timeout.ms", "10000"},
      {"heartbeat.interval.ms", "1000"},
  };
  KafkaProperties fixed = {
      {"group.id", group},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "false"},
      {"partition.assignment.strategy", "roundrobin"},  // eager: see the header
  };
  DF_ASSIGN_OR_RETURN(
      c->rk_,
      config.Create(RD_KAFKA_CONSUMER, defaults, fixed, &c->errors_, [](rd_kafka_conf_t* conf) {
        rd_kafka_conf_set_rebalance_cb(conf, RebalanceCallback);
        rd_kafka_conf_set_offset_commit_cb(conf, CommitCallback);
      }));
  rd_kafka_poll_set_consumer(c->rk_.get());
  PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t err = rd_kafka_subscribe(c->rk_.get(), list.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable(fmt::format("kafka: subscribing group '{}' to '{}' at {}: {}", group,
                                           topic, config.bootstrap(), KafkaErrorText(err)));
  }
  spdlog::info("kafka: joining consumer group '{}' on topic '{}' at {}", group, topic,
               config.bootstrap());
  return std::unique_ptr<LogConsumer>(std::move(c));
}

KafkaConsumer::~KafkaConsumer() {
  (void)Close();
}

void KafkaConsumer::OnRebalance(rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t* partitions) {
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    Assign(partitions);
  } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    Revoke(partitions);
  } else {
    errors_.Report(err, "rebalance failed");
    std::vector<int32_t> all;
    for (const auto& [p, o] : assigned_) all.push_back(p);
    CommitProcessed(all);
    assigned_.clear();
    rd_kafka_assign(rk_.get(), nullptr);
  }
}

void KafkaConsumer::Assign(rd_kafka_topic_partition_list_t* partitions) {
  // Where each partition resumes: the later of the group's commit and our own store's offset.
  PartitionListPtr committed(rd_kafka_topic_partition_list_copy(partitions));
  rd_kafka_resp_err_t err = rd_kafka_committed(rk_.get(), committed.get(), kRequestTimeoutMs);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    spdlog::warn("kafka: group '{}' committed offsets unavailable ({}); resuming from the store's",
                 group_, KafkaErrorText(err));
  }
  for (int i = 0; i < partitions->cnt; ++i) {
    auto& e = partitions->elems[i];
    int64_t at = RD_KAFKA_OFFSET_INVALID;
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && committed->elems[i].err == 0 &&
        committed->elems[i].offset >= 0) {
      at = committed->elems[i].offset;
    }
    const int64_t group_at = at;
    auto resume = listener_->ResumeOffset(e.partition);
    if (!resume.ok()) {
      if (callback_error_.ok()) callback_error_ = resume.status();
    } else if (*resume && **resume > at) {
      at = **resume;
    }
    e.offset = at >= 0 ? at : RD_KAFKA_OFFSET_BEGINNING;
    // Our store is ahead of the group (its records were stored here, and their commit did not
    // land before the partition moved away and back): that position goes to the group with the
    // next commit (or at the hand-over), else the group's lag would count records that are done.
    assigned_[e.partition] = at > group_at ? at : -1;
    committed_[e.partition] = group_at;
  }
  spdlog::info("kafka: group '{}' gave this member partitions of '{}': {}", group_, topic_,
               Positions(partitions));
  err = rd_kafka_assign(rk_.get(), partitions);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR && callback_error_.ok()) {
    callback_error_ = Status::Unavailable(
        fmt::format("kafka: assigning partitions of '{}': {}", topic_, KafkaErrorText(err)));
  }
}

void KafkaConsumer::Revoke(rd_kafka_topic_partition_list_t* partitions) {
  std::vector<int32_t> revoked;
  for (int i = 0; i < partitions->cnt; ++i) revoked.push_back(partitions->elems[i].partition);
  CommitProcessed(revoked);
  for (int32_t p : revoked) assigned_.erase(p);
  if (polling_) {
    // Records polled but not yet returned belong to the next owner now.
    std::erase_if(*polling_, [&](const ConsumedRecord& c) {
      return std::find(revoked.begin(), revoked.end(), c.partition) != revoked.end();
    });
  }
  spdlog::info("kafka: group '{}' rebalancing: this member gives up partitions {} of '{}'", group_,
               fmt::join(revoked, ", "), topic_);
  rd_kafka_assign(rk_.get(), nullptr);
}

void KafkaConsumer::CommitProcessed(const std::vector<int32_t>& partitions) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (int32_t p : partitions) {
    auto it = assigned_.find(p);
    if (it == assigned_.end() || it->second < 0) continue;
    rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), p)->offset = it->second;
  }
  if (list->cnt == 0) return;
  rd_kafka_resp_err_t err = rd_kafka_commit(rk_.get(), list.get(), 0);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    spdlog::warn(
        "kafka: group '{}' could not commit {} before handing the partitions over ({}); the "
        "next owner re-processes from the previous commit (the store's upsert by key makes that "
        "harmless)",
        group_, Positions(list.get()), KafkaErrorText(err));
  }
}

void KafkaConsumer::OnCommit(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET) return;
  spdlog::warn("kafka: group '{}' commit of {} failed: {} (sent again with the next batch)", group_,
               offsets ? Positions(offsets) : std::string("?"), KafkaErrorText(err));
  if (offsets) {
    for (int i = 0; i < offsets->cnt; ++i) committed_[offsets->elems[i].partition] = -1;
  }
}

Status KafkaConsumer::Poll(size_t max_records, int64_t timeout_us, std::stop_token stop,
                           std::vector<ConsumedRecord>* out) {
  if (closed_) return Status::InvalidArgument("kafka consumer is closed");
  rd_kafka_t* rk = rk_.get();
  size_t before = out->size();
  int64_t deadline = Clock::Real()->MonotonicMicros() + timeout_us;
  polling_ = out;
  while (out->size() - before < max_records) {
    bool got_any = out->size() > before;
    int64_t left_ms = (deadline - Clock::Real()->MonotonicMicros()) / 1000;
    int wait_ms = got_any ? 0 : static_cast<int>(std::clamp<int64_t>(left_ms, 0, 100));
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, wait_ms);
    if (!m) {
      if (got_any || left_ms <= 0 || stop.stop_requested()) break;
      continue;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        errors_.Report(m->err, rd_kafka_message_errstr(m));
      }
      rd_kafka_message_destroy(m);
      if (errors_.fatal()) break;
      continue;
    }
    if (assigned_.count(m->partition)) out->push_back(ConsumedFromKafka(m));
    rd_kafka_message_destroy(m);
  }
  polling_ = nullptr;
  if (errors_.fatal()) {
    char text[512];
    rd_kafka_resp_err_t e = rd_kafka_fatal_error(rk, text, sizeof text);
    return Status::IOError(
        fmt::format("kafka consumer: fatal error {}: {}", KafkaErrorText(e), text));
  }
  if (!callback_error_.ok()) return std::exchange(callback_error_, Status::OK());
  return Status::OK();
}

Status KafkaConsumer::Commit(std::span<const PartitionPosition> positions) {
  for (const auto& pos : positions) {
    auto it = assigned_.find(pos.partition);
    if (it != assigned_.end()) it->second = pos.next_offset;  // else revoked meanwhile
  }
  // Every owned partition whose processed position is not committed yet: this batch's, and
  // any whose earlier commit failed (OnCommit forgets those).
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(assigned_.size())));
  for (const auto& [p, next] : assigned_) {
    if (next < 0 || committed_[p] == next) continue;
    committed_[p] = next;
    rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), p)->offset = next;
  }
  if (list->cnt == 0) return Status::OK();
  rd_kafka_resp_err_t err = rd_kafka_commit(rk_.get(), list.get(), 1);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < list->cnt; ++i) committed_[list->elems[i].partition] = -1;
    spdlog::warn("kafka: group '{}' commit of {} not sent: {}", group_, Positions(list.get()),
                 KafkaErrorText(err));
  }
  return Status::OK();
}

Result<bool> KafkaConsumer::CaughtUp() {
  rd_kafka_t* rk = rk_.get();
  PartitionListPtr list(rd_kafka_topic_partition_list_new(partitions_));
  for (int32_t p = 0; p < partitions_; ++p) {
    rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), p);
  }
  rd_kafka_resp_err_t err = rd_kafka_committed(rk, list.get(), kRequestTimeoutMs);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return false;  // the coordinator is busy: not yet
  for (int32_t p = 0; p < partitions_; ++p) {
    int64_t lo = 0, hi = 0;
    err = rd_kafka_query_watermark_offsets(rk, topic_.c_str(), p, &lo, &hi, kRequestTimeoutMs);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
    int64_t done = list->elems[p].err == 0 ? list->elems[p].offset : -1;
    auto it = assigned_.find(p);
    if (it != assigned_.end()) done = std::max(done, it->second);
    if (hi > std::max(done, lo)) return false;
  }
  return true;
}

std::vector<int32_t> KafkaConsumer::Assignment() {
  std::vector<int32_t> out;
  for (const auto& [p, o] : assigned_) out.push_back(p);
  return out;
}

Status KafkaConsumer::Close() {
  if (closed_ || !rk_) return Status::OK();
  closed_ = true;
  rd_kafka_resp_err_t err = rd_kafka_consumer_close(rk_.get());  // revokes: commits
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable(
        fmt::format("kafka: leaving group '{}': {}", group_, KafkaErrorText(err)));
  }
  return Status::OK();
}

}  // namespace dataforge
