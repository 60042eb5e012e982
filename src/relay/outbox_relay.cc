#include "relay/outbox_relay.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/record.h"
#include "registry/wire_format.h"

namespace dataforge {

OutboxRelay::OutboxRelay(Staging* staging, Log* log, std::string topic, int32_t partitions,
                         size_t batch_records, RelayProbe* probe, Clock* clock,
                         int64_t cursor_interval_us, std::string origin)
    : staging_(staging),
      log_(log),
      topic_(std::move(topic)),
      partitions_(partitions),
      batch_records_(batch_records),
      probe_(probe),
      clock_(clock),
      cursor_interval_us_(cursor_interval_us),
      origin_(std::move(origin)),
      by_partition_(partitions) {}

void OutboxRelay::SetEncoding(RelayEncoding encoding) {
  encoding_ = std::move(encoding);
}

bool OutboxRelay::Encode(OutboxRow& row, std::string* value) {
  value->clear();
  registry::AppendWireHeader(encoding_->schema_id, value);
  Status s = encoding_->codec->Encode(row.raw, value);
  if (s.ok()) return true;
  // Only rows above the committed cursor: the letters of those at or below it were committed.
  if (row.seq > committed_cursor_) {
    DeadLetter d;
    d.stage = "relay";
    d.reason = fmt::format("log.format: the record does not match schema id {} of subject '{}': {}",
                           encoding_->schema_id, encoding_->subject, s.message());
    d.location = fmt::format("outbox seq {}", row.seq);
    d.payload = std::move(row.raw);
    d.at_us = clock_->NowMicros();
    d.key = std::move(row.key);
    pending_dead_.emplace_back(row.seq, std::move(d));
  }
  return false;
}

Status OutboxRelay::Recover() {
  DF_ASSIGN_OR_RETURN(auto counters, staging_->Counters());
  uint64_t committed = counters.relay_cursor;
  // The log is the truth: a row is in the log iff its seq is at or below the last seq of its
  // partition (rows reach a partition in seq order). Restart from the lowest such position so
  // that rows lost from the log (a torn, truncated tail) are streamed again, and skip the rows
  // a partition already holds (appended before a crash, cursor not yet committed).
  last_seq_in_log_.assign(partitions_, 0);
  DF_ASSIGN_OR_RETURN(auto info, log_->DescribeTopic(topic_));
  uint64_t start = committed;
  for (int32_t p = 0; p < partitions_; ++p) {
    DF_ASSIGN_OR_RETURN(auto last, log_->ReadLast(topic_, p));
    if (last && OriginOf(last->record) != origin_) {
      last_seq_in_log_[p] = committed;  // another producer's record: nothing to learn from it
    } else if (last) {
      last_seq_in_log_[p] = OutboxSeqOf(last->record);
    } else {
      bool retained_away =
          p < static_cast<int32_t>(info.partitions.size()) && info.partitions[p].end_offset > 0;
      last_seq_in_log_[p] = retained_away ? committed : 0;
    }
    start = std::min(start, last_seq_in_log_[p]);
  }
  cursor_ = start;
  acked_cursor_ = start;
  in_flight_.clear();
  in_flight_bytes_ = 0;
  {
    std::lock_guard lock(offered_mu_);
    offered_.clear();
  }
  pending_dead_.clear();
  committed_cursor_ = committed;
  committed_now_ = committed;
  probe_->committed = committed;
  probe_->cursor = cursor_;
  return Status::OK();
}

void OutboxRelay::Offer(std::vector<OutboxRow> rows) {
  if (rows.empty()) return;
  std::lock_guard lock(offered_mu_);
  if (offered_.size() + rows.size() > kMaxOfferedBatches * batch_records_) return;
  // Behind a dropped offer: keep what waits (RunOnce() takes it, then reads the gap from the
  // staging); offers are taken again once the queue is empty.
  if (!offered_.empty() && offered_.back().seq + 1 != rows.front().seq) return;
  for (auto& r : rows) offered_.push_back(std::move(r));
}

void OutboxRelay::TakeOffered() {
  std::lock_guard lock(offered_mu_);
  while (!offered_.empty() && offered_.front().seq <= cursor_) offered_.pop_front();
  if (offered_.empty() || offered_.front().seq != cursor_ + 1) return;
  size_t n = std::min(offered_.size(), batch_records_);
  for (size_t i = 0; i < n; ++i) {
    rows_.push_back(std::move(offered_.front()));
    offered_.pop_front();
  }
}

Result<size_t> OutboxRelay::RunOnce() {
  rows_.clear();
  TakeOffered();
  if (rows_.empty()) DF_RETURN_IF_ERROR(staging_->ReadOutbox(cursor_, batch_records_, &rows_));
  if (rows_.empty()) return size_t{0};
  for (auto& v : by_partition_) v.clear();
  uint64_t streamed = 0;
  uint64_t restreamed = 0;
  for (auto& row : rows_) {
    LogRecord rec;
    if (encoding_ && !IsBroadcastKey(row.key)) {
      if (!Encode(row, &encoded_)) continue;  // a dead letter, committed with the cursor
      rec.value = encoded_;
    } else {
      rec.value = std::move(row.raw);
    }
    // The streamed counter already holds rows at or below the committed cursor.
    if (row.seq > committed_cursor_) ++streamed;
    rec.key = std::move(row.key);
    rec.timestamp_us = row.fetched_at_us;
    rec.headers.reserve(origin_.empty() ? 1 : 2);
    rec.headers.emplace_back("seq", std::to_string(row.seq));
    if (!origin_.empty()) rec.headers.emplace_back("origin", origin_);
    // A broadcast (common/record.h) goes to every partition; the rest to their key's.
    int32_t first = 0, last = partitions_ - 1;
    if (!IsBroadcastKey(rec.key)) {
      DF_ASSIGN_OR_RETURN(first, log_->PartitionFor(topic_, rec.key));
      last = first;
    }
    bool resent = false;
    for (int32_t p = first; p <= last; ++p) {
      if (!last_seq_in_log_.empty() && row.seq <= last_seq_in_log_[p]) continue;  // in the log
      resent = true;
      by_partition_[p].push_back(p == last ? std::move(rec) : rec);
    }
    if (resent && row.seq <= committed_cursor_) ++restreamed;  // acknowledged, lost from the log
  }
  int64_t append_started = clock_->MonotonicMicros();
  size_t appended = 0;
  uint64_t bytes = 0;
  for (const auto& v : by_partition_) {
    appended += v.size();
    for (const LogRecord& r : v) bytes += r.value.size();
  }
  // A batch of refused (or skipped) rows only appends nothing; its ticket orders it all the same.
  auto ticket = log_->StartAppend(topic_, by_partition_);
  if (!ticket.ok()) {
    return ticket.status().WithContext(
        fmt::format("relay: appending {} records to {}", rows_.size(), topic_));
  }
  if (restreamed > 0) {
    spdlog::warn(
        "relay: streaming {} rows again that the log had lost (a truncated tail), up to "
        "seq {}",
        restreamed, rows_.back().seq);
  }
  uint64_t last = rows_.back().seq;
  cursor_ = last;
  in_flight_.push_back({*ticket, last, streamed, appended, append_started, bytes});
  in_flight_bytes_ += bytes;
  DF_RETURN_IF_ERROR(Reap(0));
  while (in_flight_.size() > kMaxInFlight ||
         (in_flight_.size() > 1 && in_flight_bytes_ > kMaxInFlightBytes)) {
    DF_RETURN_IF_ERROR(Reap(100'000));
  }
  if (clock_->MonotonicMicros() - last_cursor_commit_us_ >= cursor_interval_us_) {
    DF_RETURN_IF_ERROR(CommitAcknowledged());
  }
  if (!last_seq_in_log_.empty()) {
    bool done = true;
    for (uint64_t s : last_seq_in_log_) done &= s <= cursor_;
    if (done) last_seq_in_log_.clear();  // past the crash window: no more checks needed
  }
  probe_->batches += 1;
  return rows_.size();
}

Status OutboxRelay::Reap(int64_t timeout_us) {
  auto acked = log_->Acknowledged(timeout_us);
  if (!acked.ok()) return acked.status().WithContext(fmt::format("relay: appending to {}", topic_));
  while (!in_flight_.empty() && in_flight_.front().ticket <= *acked) {
    const InFlight& f = in_flight_.front();
    acked_cursor_ = f.last_seq;
    pending_streamed_ += f.streamed;
    probe_->streamed += f.streamed;  // in the log; the staging counter follows at the commit
    probe_->relayed += f.rows;
    probe_->append_duration_us.Record(clock_->MonotonicMicros() - f.started_us);
    in_flight_bytes_ -= f.bytes;
    in_flight_.pop_front();
  }
  probe_->cursor = acked_cursor_;
  return Status::OK();
}

Status OutboxRelay::CommitAcknowledged(bool complete_view) {
  if (acked_cursor_ != committed_now_ || pending_streamed_ != 0) {
    // The refused rows the acknowledged prefix passes, in the cursor's transaction.
    committing_dead_.clear();
    for (auto& [seq, letter] : pending_dead_) {
      if (seq > acked_cursor_) break;
      committing_dead_.push_back(letter);
    }
    DF_RETURN_IF_ERROR(
        staging_->CommitRelayCursor(acked_cursor_, pending_streamed_, committing_dead_));
    if (!committing_dead_.empty()) {
      spdlog::warn("relay: {} row(s) dead-lettered, the first ({}): {}", committing_dead_.size(),
                   committing_dead_.front().location, committing_dead_.front().reason);
    }
    pending_dead_.erase(pending_dead_.begin(), pending_dead_.begin() + committing_dead_.size());
    probe_->dead_lettered += committing_dead_.size();
    committed_now_ = acked_cursor_;
    pending_streamed_ = 0;
    last_cursor_commit_us_ = clock_->MonotonicMicros();
  }
  if (complete_view && view_complete_at_ != committed_now_) {
    DF_RETURN_IF_ERROR(staging_->CompleteView());
    view_complete_at_ = committed_now_;
  }
  probe_->committed = committed_now_;  // after the view: an ingest waiting on it reads the view
  return Status::OK();
}

Status OutboxRelay::CommitProgress(bool now) {
  DF_RETURN_IF_ERROR(Reap(0));
  if (!now && clock_->MonotonicMicros() - last_cursor_commit_us_ < cursor_interval_us_) {
    return Status::OK();
  }
  return CommitAcknowledged(/*complete_view=*/now);
}

Status OutboxRelay::FlushCursor() {
  while (!in_flight_.empty()) DF_RETURN_IF_ERROR(Reap(100'000));
  return CommitAcknowledged(/*complete_view=*/true);
}

}  // namespace dataforge
