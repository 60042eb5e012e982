#include "log/kafka/kafka_consumer.h"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/clock.h"

namespace dataforge {
namespace {

constexpr int kConsumerRequestTimeoutMs = 10'000;
// A commit refused because the group is rebalancing waits this long for the rebalance to take
// the partitions back (a member learns of a rebalance with its next heartbeat, every second)
// before it is sent again anyway.
constexpr int64_t kRebalanceWaitUs = 2'000'000;
// WakeStalledFetchers: at most one wake-up per this long, each waiting at most this long; after
// a wake-up that brought no record the interval doubles, up to the second librdkafka pauses.
constexpr int64_t kWakeEveryUs = 50'000;
constexpr int64_t kWakeEveryMaxUs = 1'000'000;
constexpr int kWakeTimeoutMs = 100;

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

// Errors that mean the commit belongs to a group generation that is ending or has ended.
bool IsRebalanceError(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS ||
         err == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION ||
         err == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID || err == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID;
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
      // Records reach the store soon after they reach the broker: do not let an idle fetch
      // sit on the broker for librdkafka's default 500 ms.
      {"fetch.wait.max.ms", "10"},
      // A dead member's partitions move to the others after this long.
      {"session.timeout.ms", "10000"},
      {"heartbeat.interval.ms", "1000"},
      // After a fetch error (e.g. the position was deleted by retention: the consumer resets to
      // the oldest offset) the next fetch waits this long. librdkafka's 500 ms let a retention
      // edge that moves, as it does under a steady producer, delete the oldest record before
      // each fetch of it: nothing was read, nothing counted lost, for ever.
      {"fetch.error.backoff.ms", "10"},
  };
  KafkaProperties fixed = {
      {"group.id", group},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "false"},
      // An offset the brokers no longer have: read on from the start and report the jump (see
      // the header); "latest" would skip records without a trace.
      {"auto.offset.reset", "earliest"},
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
    listener_->BeforeRevoke();
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
  rd_kafka_resp_err_t err =
      rd_kafka_committed(rk_.get(), committed.get(), kConsumerRequestTimeoutMs);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    spdlog::warn("kafka: group '{}' committed offsets unavailable ({}); resuming from the store's",
                 group_, KafkaErrorText(err));
  }
  ++assigns_;
  std::map<int32_t, Unsent> unsent = std::exchange(unsent_, {});
  for (int i = 0; i < partitions->cnt; ++i) {
    auto& e = partitions->elems[i];
    int64_t at = RD_KAFKA_OFFSET_INVALID;
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && committed->elems[i].err == 0 &&
        committed->elems[i].offset >= 0) {
      at = committed->elems[i].offset;
    }
    int64_t group_at = at;
    // A commit of ours that the rebalance refused: this member processed up to there.
    int64_t processed = -1;
    if (auto u = unsent.find(e.partition); u != unsent.end()) {
      if (u->second.offset > group_at) processed = u->second.offset;
      unsent.erase(u);
    }
    at = std::max(at, processed);
    auto resume = listener_->ResumeOffset(e.partition);
    if (!resume.ok()) {
      if (callback_error_.ok()) callback_error_ = resume.status();
    } else if (*resume && **resume > at) {
      at = **resume;
    }
    // No position anywhere: the group has read nothing, so offset 0 is next (a start offset
    // above 0 then shows as a LostRange, not as a silent skip).
    e.offset = at >= 0 ? at : 0;
    // Our position is ahead of the group's commit (a commit of ours that a rebalance refused, or
    // our store holding records whose commit did not land before the partition moved away and
    // back): SendCommits sends it with the next commit or at the hand-over, else the group's lag
    // would count records that are done.
    assigned_[e.partition] = at > group_at ? at : -1;
    committed_[e.partition] = group_at;
    confirmed_[e.partition] = group_at;
    expected_[e.partition] = e.offset;
    seen_end_[e.partition] = e.offset;
  }
  spdlog::info("kafka: group '{}' gave this member partitions of '{}': {}", group_, topic_,
               Positions(partitions));
  for (const auto& [p, u] : unsent) {
    spdlog::warn(
        "kafka: group '{}' gave partition {} of '{}' to another member: its failed commit at "
        "offset {} is not sent again; the new owner resumes at the group's commit or its store's "
        "offset",
        group_, p, topic_, u.offset);
  }
  err = rd_kafka_assign(rk_.get(), partitions);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR && callback_error_.ok()) {
    callback_error_ = Status::Unavailable(
        fmt::format("kafka: assigning partitions of '{}': {}", topic_, KafkaErrorText(err)));
  }
}

void KafkaConsumer::Revoke(rd_kafka_topic_partition_list_t* partitions) {
  std::vector<int32_t> revoked;
  for (int i = 0; i < partitions->cnt; ++i) revoked.push_back(partitions->elems[i].partition);
  listener_->BeforeRevoke();  // a batch it is applying is durable and passed to Commit() first
  CommitProcessed(revoked);
  for (int32_t p : revoked) {
    assigned_.erase(p);
    expected_.erase(p);
    seen_end_.erase(p);
  }
  std::erase_if(held_, [&](const Held& h) {
    return std::find(revoked.begin(), revoked.end(), h.range.partition) != revoked.end();
  });
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
  bool any_failed = err != RD_KAFKA_RESP_ERR_NO_ERROR;
  for (int i = 0; i < list->cnt; ++i) {
    const auto& e = list->elems[i];
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && e.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      confirmed_[e.partition] = std::max(confirmed_[e.partition], e.offset);
      committed_[e.partition] = e.offset;
      if (auto u = unsent_.find(e.partition); u != unsent_.end() && u->second.offset <= e.offset) {
        unsent_.erase(u);
      }
    } else {
      any_failed = true;
    }
  }
  if (any_failed) {
    // Revoke runs inside the rebalance: whatever failed waits for its end (RememberFailed).
    for (int i = 0; i < list->cnt; ++i) sent_in_[list->elems[i].partition] = assigns_;
    RememberFailed(err, list.get());
  }
}

void KafkaConsumer::RememberFailed(rd_kafka_resp_err_t err,
                                   const rd_kafka_topic_partition_list_t* offsets) {
  CountKafkaError();  // a commit that failed
  std::vector<std::string> waiting, again, dropped;
  rd_kafka_resp_err_t shown = err;
  int64_t now = Clock::Real()->MonotonicMicros();
  for (int i = 0; i < offsets->cnt; ++i) {
    const auto& e = offsets->elems[i];
    rd_kafka_resp_err_t why = e.err != RD_KAFKA_RESP_ERR_NO_ERROR ? e.err : err;
    if (why == RD_KAFKA_RESP_ERR_NO_ERROR || e.offset < 0) continue;
    if (shown == RD_KAFKA_RESP_ERR_NO_ERROR) shown = why;
    auto c = confirmed_.find(e.partition);
    if (c != confirmed_.end() && c->second >= e.offset) continue;  // a later commit made it
    auto known = unsent_.find(e.partition);
    if (known != unsent_.end() && known->second.offset >= e.offset) continue;  // reported
    std::string name = fmt::format("{}@{}", e.partition, e.offset);
    auto sent = sent_in_.find(e.partition);
    if (sent == sent_in_.end() || sent->second == assigns_) {
      // Sent in the current (or just revoked) assignment: remembered for SendCommits / Assign.
      bool rebalance = IsRebalanceError(why);
      unsent_[e.partition] = {e.offset, rebalance ? now + kRebalanceWaitUs : now};
      (rebalance ? waiting : again).push_back(std::move(name));
    } else if (assigned_.count(e.partition)) {
      // A late answer from an earlier assignment: the current position goes with the next send.
      committed_[e.partition] = -1;
      again.push_back(std::move(name));
    } else {
      dropped.push_back(std::move(name));
    }
  }
  if (!waiting.empty()) {
    spdlog::warn(
        "kafka: group '{}' could not commit partitions {} of '{}': {}; sent again after the "
        "rebalance to this member if it keeps them (not if another member gets them)",
        group_, fmt::join(waiting, ", "), topic_, KafkaErrorText(shown));
  }
  if (!again.empty()) {
    spdlog::warn(
        "kafka: group '{}' could not commit partitions {} of '{}': {}; sent again with the next "
        "poll",
        group_, fmt::join(again, ", "), topic_, KafkaErrorText(shown));
  }
  if (!dropped.empty()) {
    spdlog::warn(
        "kafka: group '{}' could not commit partitions {} of '{}': {}; not sent again, another "
        "member owns them now",
        group_, fmt::join(dropped, ", "), topic_, KafkaErrorText(shown));
  }
}

void KafkaConsumer::OnCommit(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets) {
  if (err == RD_KAFKA_RESP_ERR__NO_OFFSET) return;
  if (!offsets) {
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      spdlog::warn("kafka: group '{}' commit failed: {}", group_, KafkaErrorText(err));
    }
    return;
  }
  bool any_failed = err != RD_KAFKA_RESP_ERR_NO_ERROR;
  for (int i = 0; i < offsets->cnt; ++i) {
    const auto& e = offsets->elems[i];
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && e.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (e.offset >= 0) confirmed_[e.partition] = std::max(confirmed_[e.partition], e.offset);
    } else {
      any_failed = true;
    }
  }
  if (any_failed) RememberFailed(err, offsets);
}

Status KafkaConsumer::Poll(size_t max_records, int64_t timeout_us, std::stop_token stop,
                           std::vector<ConsumedRecord>* out) {
  if (closed_) return Status::InvalidArgument("kafka consumer is closed");
  rd_kafka_t* rk = rk_.get();
  size_t before = out->size();
  int64_t deadline = Clock::Real()->MonotonicMicros() + timeout_us;
  polling_ = out;
  // Ranges the last Poll found after records of their partition come first.
  for (auto& h : held_) {
    listener_->OnRecordsLost(h.range);
    expected_[h.range.partition] = h.range.resume_at;
    if (h.record) {
      expected_[h.range.partition] = h.record->offset + 1;
      out->push_back(std::move(*h.record));
    }
  }
  held_.clear();
  while (out->size() - before < max_records) {
    bool got_any = out->size() > before;
    int64_t left_ms = (deadline - Clock::Real()->MonotonicMicros()) / 1000;
    int wait_ms = got_any ? 0 : static_cast<int>(std::clamp<int64_t>(left_ms, 0, 100));
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 0);
    if (!m) {
      WakeStalledFetchers();
      if (wait_ms > 0) m = rd_kafka_consumer_poll(rk, wait_ms);
    }
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
    errors_.Succeeded();
    if (!assigned_.count(m->partition)) {
      rd_kafka_message_destroy(m);
      continue;
    }
    ConsumedRecord c = ConsumedFromKafka(m);
    rd_kafka_message_destroy(m);
    if (auto lost = CheckOffset(c.partition, c.offset)) {
      bool earlier =
          std::any_of(out->begin() + static_cast<std::ptrdiff_t>(before), out->end(),
                      [&](const ConsumedRecord& r) { return r.partition == c.partition; });
      if (earlier) {  // this Poll returned records before the range: report it next time
        held_.push_back({std::move(*lost), std::move(c)});
        break;
      }
      listener_->OnRecordsLost(*lost);
    }
    expected_[c.partition] = c.offset + 1;
    out->push_back(std::move(c));
  }
  for (auto& [p, end] : seen_end_) {
    int64_t lo = -1, hi = -1;
    if (rd_kafka_get_watermark_offsets(rk, topic_.c_str(), p, &lo, &hi) ==
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      end = std::max(end, hi);
    }
  }
  if (out->size() > before) {
    records_since_wake_ = true;
    wake_every_us_ = kWakeEveryUs;
  }
  polling_ = nullptr;
  SendCommits();  // commits that failed and may be sent again now
  if (errors_.fatal()) {
    char text[512];
    rd_kafka_resp_err_t e = rd_kafka_fatal_error(rk, text, sizeof text);
    return Status::IOError(
        fmt::format("kafka consumer: fatal error {}: {}", KafkaErrorText(e), text));
  }
  if (!callback_error_.ok()) return std::exchange(callback_error_, Status::OK());
  return Status::OK();
}

void KafkaConsumer::WakeStalledFetchers() {
  rd_kafka_t* rk = rk_.get();
  int64_t now = Clock::Real()->MonotonicMicros();
  if (assigned_.empty() || now - last_wake_us_ < wake_every_us_) return;
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(assigned_.size())));
  bool behind = false;
  for (const auto& [p, processed] : assigned_) {
    int64_t lo = -1, hi = -1;  // as of the last fetch response: no request
    auto next = expected_.find(p);
    if (next != expected_.end() &&
        rd_kafka_get_watermark_offsets(rk, topic_.c_str(), p, &lo, &hi) ==
            RD_KAFKA_RESP_ERR_NO_ERROR &&
        hi > next->second) {
      behind = true;
    }
    rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), p)->offset =
        RD_KAFKA_OFFSET_END;  // as a timestamp: the latest offset
  }
  if (!behind) return;
  // The last wake-up brought nothing: what is past our position may never come (a transaction's
  // control record at the end of a partition counts in its high watermark).
  if (last_wake_us_ != 0 && !records_since_wake_) {
    wake_every_us_ = std::min(wake_every_us_ * 2, kWakeEveryMaxUs);
  }
  records_since_wake_ = false;
  last_wake_us_ = now;
  // One ListOffsets request per partition leader; the answer is not needed, the request wakes
  // the leader's broker thread, which then decides again whether to fetch.
  (void)rd_kafka_offsets_for_times(rk, list.get(), kWakeTimeoutMs);
}

std::optional<LostRange> KafkaConsumer::CheckOffset(int32_t partition, int64_t offset) {
  auto it = expected_.find(partition);
  if (it == expected_.end() || offset == it->second) return std::nullopt;
  LostRange r;
  r.partition = partition;
  r.expected = it->second;
  r.resume_at = offset;
  if (offset > r.expected) {
    int64_t lo = -1, hi = -1;
    if (rd_kafka_query_watermark_offsets(rk_.get(), topic_.c_str(), partition, &lo, &hi,
                                         kConsumerRequestTimeoutMs) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      lo = -1;  // unknown: the jump is not explained by a hole, so count it
    }
    if (lo >= 0 && lo <= r.expected) return std::nullopt;  // a compacted topic's hole
    r.cause = LostRange::Cause::kDeleted;
    r.records = static_cast<uint64_t>(offset - r.expected);
    r.why = "by the brokers (the topic's retention.ms or retention.bytes, or DeleteRecords)";
  } else {
    r.cause = LostRange::Cause::kOffsetsWentBack;
    int64_t end = seen_end_[partition];
    r.records = end > r.expected ? static_cast<uint64_t>(end - r.expected) : 0;
    r.why = "the topic was deleted and created again, or the partition lost its tail";
    seen_end_[partition] = offset + 1;
  }
  return r;
}

void KafkaConsumer::Seek(int32_t partition, int64_t offset) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), partition)->offset = offset;
  rd_kafka_error_t* error =
      rd_kafka_seek_partitions(rk_.get(), list.get(), kConsumerRequestTimeoutMs);
  if (error) {
    spdlog::warn("kafka: moving the consumer of {}/{} to offset {}: {}", topic_, partition, offset,
                 rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
  }
}

Status KafkaConsumer::Commit(std::span<const PartitionPosition> positions) {
  for (const auto& pos : positions) {
    auto it = assigned_.find(pos.partition);
    if (it != assigned_.end()) it->second = pos.next_offset;  // else revoked meanwhile
  }
  SendCommits();
  return Status::OK();
}

void KafkaConsumer::SendCommits() {
  if (closed_ || assigned_.empty()) return;
  int64_t now = Clock::Real()->MonotonicMicros();
  std::erase_if(unsent_, [&](const auto& entry) {
    const auto& [p, u] = entry;
    if (!assigned_.count(p) || now < u.retry_at_us) return false;
    committed_[p] = -1;  // assigned_[p] >= u.offset: the position is sent below
    return true;
  });
  // Every owned partition whose processed position is not committed yet: this batch's, and
  // any whose earlier commit failed (RememberFailed forgets those), unless that one waits for
  // a rebalance to end.
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(assigned_.size())));
  for (const auto& [p, next] : assigned_) {
    if (next < 0 || committed_[p] == next || unsent_.count(p)) continue;
    committed_[p] = next;
    sent_in_[p] = assigns_;
    rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), p)->offset = next;
  }
  if (list->cnt == 0) return;
  rd_kafka_resp_err_t err = rd_kafka_commit(rk_.get(), list.get(), 1);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    CountKafkaError();
    for (int i = 0; i < list->cnt; ++i) committed_[list->elems[i].partition] = -1;
    spdlog::warn("kafka: group '{}' commit of {} not sent: {}", group_, Positions(list.get()),
                 KafkaErrorText(err));
  }
}

Result<bool> KafkaConsumer::CaughtUp() {
  rd_kafka_t* rk = rk_.get();
  PartitionListPtr list(rd_kafka_topic_partition_list_new(partitions_));
  for (int32_t p = 0; p < partitions_; ++p) {
    rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), p);
  }
  rd_kafka_resp_err_t err = rd_kafka_committed(rk, list.get(), kConsumerRequestTimeoutMs);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return false;  // the coordinator is busy: not yet
  for (int32_t p = 0; p < partitions_; ++p) {
    int64_t lo = 0, hi = 0;
    err = rd_kafka_query_watermark_offsets(rk, topic_.c_str(), p, &lo, &hi,
                                           kConsumerRequestTimeoutMs);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
    int64_t done = list->elems[p].err == 0 ? list->elems[p].offset : -1;
    auto it = assigned_.find(p);
    if (it != assigned_.end()) done = std::max(done, it->second);
    done = std::max<int64_t>(done, 0);
    auto next = expected_.find(p);
    if (next != expected_.end()) {
      seen_end_[p] = std::max(seen_end_[p], hi);
      bool held = std::any_of(held_.begin(), held_.end(),
                              [&](const Held& h) { return h.range.partition == p; });
      if (next->second < lo && lo == hi && !held) {
        // Nothing left to read shows the deletion: report it with the next Poll.
        LostRange r;
        r.partition = p;
        r.expected = next->second;
        r.resume_at = lo;
        r.records = static_cast<uint64_t>(lo - next->second);
        r.why = "by the brokers (the topic's retention.ms or retention.bytes, or DeleteRecords)";
        held_.push_back({std::move(r), std::nullopt});
        Seek(p, lo);
      }
    }
    // Below the start or past the end: a LostRange is still to be reported and committed.
    if (done != hi) return false;
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
  if (!unsent_.empty()) {
    std::vector<std::string> names;
    for (const auto& [p, u] : unsent_) names.push_back(fmt::format("{}@{}", p, u.offset));
    spdlog::warn(
        "kafka: group '{}' left with the commits of partitions {} of '{}' not made; their next "
        "owner re-processes from the group's commit or its store's offset",
        group_, fmt::join(names, ", "), topic_);
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable(
        fmt::format("kafka: leaving group '{}': {}", group_, KafkaErrorText(err)));
  }
  return Status::OK();
}

}  // namespace dataforge
