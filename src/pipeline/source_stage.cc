// The source stage of PipelineImpl (pipeline_impl.h): df-fetch, df-source and ingest tasks.
#include <pthread.h>

#include <algorithm>
#include <deque>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/redact.h"
#include "pipeline/pipeline_impl.h"
#include "source/source_factory.h"

namespace dataforge {

Result<IngestOutcome> PipelineImpl::Ingest(const IngestRequest& request, std::stop_token stop) {
  if (!ingests()) {
    return Status::FailedPrecondition(
        "this process runs --role process: it has no staging to ingest into; run the "
        "scheduler with an ingesting role");
  }
  SourceConfig sc = config_.source;
  DF_RETURN_IF_ERROR(CheckIngestSource(sc));
  if (!request.seed.empty()) sc.seed = request.seed;
  if (request.results_per_page > 0) sc.results_per_page = request.results_per_page;
  std::string url = !request.url.empty()                    ? request.url
                    : !options_.source_url_override.empty() ? options_.source_url_override
                                                            : config_.source.url;
  std::string key = SourceKey(request.name, url);
  if (url.empty() && sc.type == "http") {
    DF_ASSIGN_OR_RETURN(url, BuiltInApiUrl());
  }
  DF_ASSIGN_OR_RETURN(auto source, MakeSource(sc, url, clock_));
  DF_ASSIGN_OR_RETURN(std::string position, staging_->SourcePosition(key));
  DF_RETURN_IF_ERROR(source->Open(position));
  {
    std::lock_guard lock(commit_mu_);
    if (stopping_) return Status::Cancelled("the pipeline is stopping");
    ingests_active_ += 1;
  }
  IngestOutcome out;
  uint64_t lost_before = probes_.processor.lost.load();
  Status s = PumpExtraSource(*source, key, request, stop, &out);
  {
    std::lock_guard lock(commit_mu_);
    ingests_active_ -= 1;
  }
  staged_.Notify();
  DF_RETURN_IF_ERROR(s);
  if (uint64_t lost = probes_.processor.lost.load() - lost_before; lost > 0) {
    return Status::FailedPrecondition(fmt::format(
        "{} log records were lost while this ingest ran: the log deleted them before they "
        "were processed (see the errors logged for each range)",
        lost));
  }
  out.summary = fmt::format(
      "ingested from {}: {} fetched, {} staged, {} dead-lettered; {}", source->Describe(),
      out.fetched, out.staged, out.dead_lettered,
      out.delivered ? (processes() ? "all stored" : "all in the log") : "not yet delivered");
  return out;
}

std::string PipelineImpl::SourceKey(const std::string& name, const std::string& url) {
  return url.empty() ? name : name + " " + Redact(url);
}

Result<std::string> PipelineImpl::BuiltInApiUrl() {
  std::lock_guard lock(mock_mu_);
  if (!mock_) {
    auto mock = std::make_unique<MockApiServer>();
    DF_RETURN_IF_ERROR(mock->Start("127.0.0.1", 0).WithContext("starting the built-in API"));
    mock_ = std::move(mock);
  }
  return fmt::format("http://127.0.0.1:{}/api/", mock_->port());
}

Result<uint64_t> PipelineImpl::CommitBatch(const std::string& key, SourceBatch& batch) {
  std::lock_guard lock(commit_mu_);
  uint64_t before = probes_.source.last_seq;
  DF_ASSIGN_OR_RETURN(uint64_t seq, staging_->Commit(key, batch));
  if (batch.records.empty()) return seq;
  probes_.source.last_seq = std::max<uint64_t>(before, seq);
  if (relay_ && seq > before && seq - before == batch.records.size()) {
    std::vector<OutboxRow> rows;
    rows.reserve(batch.records.size());
    uint64_t next = before + 1;
    for (auto& r : batch.records) {
      rows.push_back({next++, std::move(r.key), std::move(r.raw), r.fetched_at_us});
    }
    relay_->Offer(std::move(rows));
  }
  return seq;
}

Status PipelineImpl::PumpExtraSource(Source& source, const std::string& key,
                                     const IngestRequest& req, std::stop_token stop,
                                     IngestOutcome* out) {
  auto abort = abort_.get_token();
  int64_t deadline = req.duration_us > 0 ? clock_->MonotonicMicros() + req.duration_us : 0;
  uint64_t batches = 0;
  uint64_t my_last_seq = 0;
  std::deque<std::pair<uint64_t, std::string>> unacked;
  auto acknowledge = [&] {
    std::string latest;
    while (!unacked.empty() && unacked.front().first <= probes_.relay.cursor.load()) {
      latest = std::move(unacked.front().second);
      unacked.pop_front();
    }
    if (!latest.empty()) source.Acknowledged(latest);
  };
  while (!stop.stop_requested() && !abort.stop_requested()) {
    if (req.max_records != 0 && out->fetched >= req.max_records) break;
    if (req.max_pages != 0 && batches >= req.max_pages) break;
    if (deadline != 0 && clock_->MonotonicMicros() >= deadline) break;
    acknowledge();
    size_t want = static_cast<size_t>(config_.tuning.batch_records);
    if (req.max_records != 0) {
      want = static_cast<size_t>(std::min<uint64_t>(want, req.max_records - out->fetched));
    }
    auto batch = source.Next(want, stop);
    if (!batch.ok()) {
      if (batch.status().code() == StatusCode::kNotFound) break;  // input exhausted
      if (batch.status().code() == StatusCode::kCancelled) break;
      return batch.status().WithContext("source");
    }
    if (batch->fetched() == 0 && batch->position.empty()) continue;
    DF_ASSIGN_OR_RETURN(uint64_t seq, CommitBatch(key, *batch));
    if (!batch->records.empty()) my_last_seq = seq;
    if (!batch->position.empty()) unacked.emplace_back(my_last_seq, batch->position);
    out->fetched += batch->fetched();
    out->staged += batch->records.size();
    out->dead_lettered += batch->dead_letters.size();
    if (batch->fetched() > 0) batches += 1;
    probes_.source.fetched += batch->fetched();
    probes_.source.staged += batch->records.size();
    probes_.source.dead_lettered += batch->dead_letters.size();
    staged_.Notify();
  }
  if (stop.stop_requested()) return Status::Cancelled("interrupted while pulling");
  // Delivered: in the log and in the upsert view (the committed relay cursor), then through
  // this process's processor.
  while (probes_.relay.committed.load() < my_last_seq) {
    if (stop.stop_requested() || abort.stop_requested()) {
      return Status::Cancelled("interrupted while the relay streamed what was pulled");
    }
    streamed_.WaitPast(streamed_.generation(), kIdleWaitUs, stop);
  }
  acknowledge();
  if (processes()) {
    // By position, not by count: the log's end offsets now lie past every record this ingest
    // appended, so the wait ends once every partition is processed up to them. (Counting
    // records consumed against records relayed ended early when an earlier run had left
    // records in the log: the processor consumed those first.)
    DF_ASSIGN_OR_RETURN(TopicInfo ends, log_->DescribeTopic(config_.log.topic));
    DF_ASSIGN_OR_RETURN(std::string log_id, log_->LogId(config_.log.topic));
    while (true) {
      uint64_t generation = processed_.generation();
      DF_ASSIGN_OR_RETURN(bool done, ProcessedThrough(ends, log_id));
      if (done) break;
      if (stop.stop_requested() || abort.stop_requested()) {
        return Status::Cancelled("interrupted while the processor stored what was pulled");
      }
      processed_.WaitPast(generation, kIdleWaitUs, stop);
    }
  }
  out->delivered = true;
  return Status::OK();
}

Result<bool> PipelineImpl::ProcessedThrough(const TopicInfo& ends, const std::string& log_id) {
  DF_ASSIGN_OR_RETURN(std::vector<int64_t> at, ProcessedPositions(ends, log_id));
  for (size_t i = 0; i < ends.partitions.size(); ++i) {
    if (ends.partitions[i].end_offset > 0 && at[i] < ends.partitions[i].end_offset) return false;
  }
  return true;
}

void PipelineImpl::SourceLoop() {
  auto stop = stop_.get_token();
  if (options_.role == PipelineRole::kAll && log_->Shared()) WaitForAssignment(stop);
  BatchHandoff handoff;
  std::jthread fetch([&] {
    pthread_setname_np(pthread_self(), "df-fetch");
    FetchLoop(stop, &handoff);
    handoff.Finish();
  });
  uint64_t my_last_seq = probes_.source.last_seq.load();
  while (auto batch = handoff.Take(stop)) {
    int64_t t1 = clock_->MonotonicMicros();
    auto seq = CommitBatch(source_key_, *batch);
    int64_t commit_us = clock_->MonotonicMicros() - t1;
    probes_.source.commit_us += static_cast<uint64_t>(commit_us);
    probes_.source.commit_duration_us.Record(commit_us);
    if (!seq.ok()) {
      Fail(seq.status());
      break;
    }
    if (!batch->records.empty()) my_last_seq = *seq;
    if (!batch->position.empty()) {
      std::lock_guard lock(unacknowledged_mu_);
      unacknowledged_.emplace_back(my_last_seq, batch->position);
    }
    probes_.source.fetched += batch->fetched();
    probes_.source.staged += batch->records.size();
    probes_.source.dead_lettered += batch->dead_letters.size();
    probes_.source.batches += 1;
    staged_.Notify();
  }
  handoff.Close();
  fetch.join();
  probes_.source.done = true;
  source_done_ = true;
  staged_.Notify();
}

void PipelineImpl::FetchLoop(std::stop_token stop, BatchHandoff* handoff) {
  uint64_t fetched = 0;
  const uint64_t max = options_.max_records;
  int64_t deadline =
      options_.max_duration_us > 0 ? clock_->MonotonicMicros() + options_.max_duration_us : 0;
  uint64_t batches = 0;
  // Over a shared log the processor may own none of the partitions the source feeds.
  const uint64_t in_flight_bound =
      options_.role == PipelineRole::kAll && processes() && !log_->Shared()
          ? static_cast<uint64_t>(config_.tuning.max_in_flight_batches) *
                static_cast<uint64_t>(config_.tuning.batch_records)
          : 0;
  while (!stop.stop_requested()) {
    if ((max != 0 && fetched >= max) ||
        (options_.max_batches != 0 && batches >= options_.max_batches) ||
        (deadline != 0 && clock_->MonotonicMicros() >= deadline)) {
      source_ended_ = true;
      return;
    }
    AcknowledgeToSource();
    // Backpressure: do not run further ahead of the relay than max_staging_lag.
    while (!stop.stop_requested() &&
           Lag(probes_.source.last_seq.load(), probes_.relay.cursor.load()) >
               config_.tuning.max_staging_lag) {
      streamed_.WaitPast(streamed_.generation(), kIdleWaitUs, stop);
    }
    // Latency: fetch only while few batches are on their way to the store, so that at full
    // speed records wait in no queue longer than that (each stage still overlaps the next).
    while (in_flight_bound > 0 && !stop.stop_requested() &&
           RecordsInFlight(probes_) > in_flight_bound) {
      processed_.WaitPast(processed_.generation(), kIdleWaitUs, stop);
    }
    size_t want = static_cast<size_t>(config_.tuning.batch_records);
    if (max != 0) want = static_cast<size_t>(std::min<uint64_t>(want, max - fetched));
    int64_t t0 = clock_->MonotonicMicros();
    auto batch = source_->Next(want, stop);
    probes_.source.fetch_us += static_cast<uint64_t>(clock_->MonotonicMicros() - t0);
    if (!batch.ok()) {
      if (batch.status().code() == StatusCode::kNotFound) {  // input exhausted
        source_ended_ = true;
        return;
      }
      if (batch.status().code() != StatusCode::kCancelled) {
        Fail(batch.status().WithContext("source"));
      }
      return;
    }
    if (batch->fetched() == 0 && batch->position.empty()) continue;
    if (batch->fetched() > 0) batches += 1;
    fetched += batch->fetched();
    if (!handoff->Put(std::move(*batch), stop)) return;
  }
}

void PipelineImpl::AcknowledgeToSource() {
  uint64_t cursor = probes_.relay.cursor.load();
  std::string latest;
  std::unique_lock lock(unacknowledged_mu_);
  while (!unacknowledged_.empty() && unacknowledged_.front().first <= cursor) {
    latest = std::move(unacknowledged_.front().second);
    unacknowledged_.pop_front();
  }
  lock.unlock();
  if (!latest.empty()) source_->Acknowledged(latest);
}

void PipelineImpl::WaitForAssignment(std::stop_token stop) {
  int64_t deadline = clock_->MonotonicMicros() + kAssignmentWaitUs;
  bool said = false;
  while (!stop.stop_requested() && probes_.processor.partitions.load() == 0 &&
         clock_->MonotonicMicros() < deadline) {
    if (!said) {
      spdlog::info("waiting for consumer group '{}' to assign partitions before fetching",
                   config_.process.group);
      said = true;
    }
    processed_.WaitPast(processed_.generation(), 20'000, stop);
  }
}
}  // namespace dataforge
