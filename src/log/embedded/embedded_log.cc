#include "log/embedded/embedded_log.h"

#include <thread>

#include <algorithm>
#include <sstream>

#include <fmt/format.h>

#include "common/file_util.h"
#include "common/uuid.h"
#include "log/embedded/embedded_consumer.h"

namespace dataforge {
namespace {

bool ValidName(const std::string& s) {
  if (s.empty() || s.size() > 200 || s == "." || s == "..") return false;
  for (char c : s) {
    if (!isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') return false;
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<Log>> EmbeddedLog::Open(const std::string& dir, OpenMode mode,
                                               const LogOptions& options) {
  std::unique_ptr<EmbeddedLog> log(new EmbeddedLog(dir, mode, options));
  FileSystem* fs = log->fs_;
  if (mode == OpenMode::kReadWrite) {
    DF_RETURN_IF_ERROR(fs->CreateDirs(dir + "/topics"));
    DF_RETURN_IF_ERROR(fs->CreateDirs(dir + "/groups"));
    std::string holder;
    auto lock = fs->LockFile(dir + "/LOCK", &holder);
    if (!lock.ok() && lock.status().code() == StatusCode::kUnavailable) {
      return Status::Unavailable(fmt::format(
          "log directory {} is locked by another dataforge process (pid {}); stop it or use "
          "another --data-dir",
          dir, holder.empty() ? "unknown" : holder));
    }
    if (!lock.ok()) return lock.status();
    log->lock_ = std::move(lock).value();
  } else if (!fs->FileExists(dir + "/topics")) {
    return Status::NotFound(fmt::format("no log at {} (run `dataforge run` first)", dir));
  }
  return std::unique_ptr<Log>(std::move(log));
}

EmbeddedLog::~EmbeddedLog() = default;  // lock_ releases the flock

Result<EmbeddedLog::Topic*> EmbeddedLog::LoadTopicLocked(const std::string& topic) {
  auto it = topics_.find(topic);
  if (it != topics_.end()) return it->second.get();
  std::string tdir = dir_ + "/topics/" + topic;
  auto meta = ReadFileToString(fs_, tdir + "/meta");
  if (!meta.ok() && meta.status().code() == StatusCode::kNotFound) {
    return Status::NotFound(fmt::format("no topic '{}' in the log at {}", topic, dir_));
  }
  if (!meta.ok()) return meta.status();
  std::string line = meta->substr(0, meta->find('\n'));
  int32_t n = 0;
  if (line.rfind("partitions=", 0) != 0 || (n = std::atoi(line.c_str() + 11)) <= 0) {
    return Status::Corruption(
        fmt::format("{}/meta: expected 'partitions=N', found '{}'", tdir, line));
  }
  auto t = std::make_unique<Topic>();
  for (int32_t p = 0; p < n; ++p) {
    DF_ASSIGN_OR_RETURN(auto part,
                        PartitionLog::Open(tdir + "/" + std::to_string(p), p, mode_, options_));
    t->partitions.push_back(std::move(part));
  }
  Topic* raw = t.get();
  topics_[topic] = std::move(t);
  return raw;
}

Status EmbeddedLog::CreateTopic(const std::string& topic, int32_t partitions) {
  if (!ValidName(topic)) {
    return Status::InvalidArgument(
        fmt::format("topic name '{}' is not valid: use letters, digits, '.', '_' and '-'", topic));
  }
  std::lock_guard lock(topics_mu_);
  auto existing = LoadTopicLocked(topic);
  if (existing.ok()) {
    int32_t have = static_cast<int32_t>((*existing)->partitions.size());
    if (have != partitions) {
      return Status::InvalidArgument(fmt::format(
          "topic '{}' exists with {} partitions, the pipeline asks for {}; keep {} or use a new "
          "topic name or data dir",
          topic, have, partitions, have));
    }
    return Status::OK();
  }
  if (existing.status().code() != StatusCode::kNotFound) return existing.status();
  if (mode_ != OpenMode::kReadWrite) return Status::InvalidArgument("the log is open read-only");
  std::string tdir = dir_ + "/topics/" + topic;
  DF_RETURN_IF_ERROR(fs_->CreateDirs(tdir));
  DF_ASSIGN_OR_RETURN(std::string id, RandomUuid());
  DF_RETURN_IF_ERROR(WriteFileAtomically(fs_, tdir + "/id", id + "\n"));
  DF_RETURN_IF_ERROR(
      WriteFileAtomically(fs_, tdir + "/meta", fmt::format("partitions={}\n", partitions)));
  return LoadTopicLocked(topic).status();
}

Result<std::string> EmbeddedLog::LogId(const std::string& topic) {
  std::lock_guard lock(topics_mu_);
  DF_RETURN_IF_ERROR(LoadTopicLocked(topic).status());
  std::string path = dir_ + "/topics/" + topic + "/id";
  auto text = ReadFileToString(fs_, path);
  if (text.ok()) {
    std::string id = text->substr(0, text->find('\n'));
    if (id.empty()) return Status::Corruption(fmt::format("{}: empty topic identity", path));
    return id;
  }
  if (text.status().code() != StatusCode::kNotFound) return text.status();
  // A topic made before identities existed: it gets one now, once; a reader waits for that.
  if (mode_ != OpenMode::kReadWrite) return std::string();
  DF_ASSIGN_OR_RETURN(std::string id, RandomUuid());
  DF_RETURN_IF_ERROR(WriteFileAtomically(fs_, path, id + "\n"));
  return id;
}

Result<std::vector<std::string>> EmbeddedLog::ListTopics() {
  std::vector<std::string> out;
  auto names = fs_->ListDir(dir_ + "/topics");
  if (!names.ok() && names.status().code() != StatusCode::kNotFound) return names.status();
  if (names.ok()) {
    for (auto& name : *names) {
      if (fs_->FileExists(dir_ + "/topics/" + name + "/meta")) out.push_back(std::move(name));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<EmbeddedLog::Topic*> EmbeddedLog::GetTopic(const std::string& topic) {
  std::lock_guard lock(topics_mu_);
  return LoadTopicLocked(topic);
}

Result<PartitionLog*> EmbeddedLog::GetPartition(const std::string& topic, int32_t partition) {
  DF_ASSIGN_OR_RETURN(Topic * t, GetTopic(topic));
  if (partition < 0 || partition >= static_cast<int32_t>(t->partitions.size())) {
    return Status::InvalidArgument(fmt::format("topic '{}' has no partition {} (it has {})", topic,
                                               partition, t->partitions.size()));
  }
  return t->partitions[partition].get();
}

Result<TopicInfo> EmbeddedLog::DescribeTopic(const std::string& topic) {
  DF_ASSIGN_OR_RETURN(Topic * t, GetTopic(topic));
  TopicInfo info;
  info.name = topic;
  for (auto& p : t->partitions) info.partitions.push_back(p->Info());
  return info;
}

Result<int32_t> EmbeddedLog::PartitionFor(const std::string& topic, const std::string& key) {
  DF_ASSIGN_OR_RETURN(Topic * t, GetTopic(topic));
  uint32_t h = 2166136261u;  // FNV-1a: stable across processes, platforms and restarts
  for (unsigned char c : key) h = (h ^ c) * 16777619u;
  return static_cast<int32_t>(h % t->partitions.size());
}

Result<int64_t> EmbeddedLog::Append(const std::string& topic, int32_t partition,
                                    std::span<const LogRecord> records) {
  DF_ASSIGN_OR_RETURN(PartitionLog * p, GetPartition(topic, partition));
  auto base = p->Append(records);
  if (base.ok()) {
    {
      std::lock_guard lock(append_mu_);
      ++append_generation_;
    }
    append_cv_.notify_all();
  }
  return base;
}

Status EmbeddedLog::AppendAll(const std::string& topic,
                              std::span<const std::vector<LogRecord>> by_partition) {
  std::vector<PartitionLog*> written;
  Status status;
  for (size_t p = 0; p < by_partition.size() && status.ok(); ++p) {
    if (by_partition[p].empty()) continue;
    auto part = GetPartition(topic, static_cast<int32_t>(p));
    if (!part.ok()) {
      status = part.status();
      break;
    }
    auto base = (*part)->Write(by_partition[p]);
    if (base.ok()) {
      written.push_back(*part);
    } else {
      status = base.status();
    }
  }
  std::vector<Status> committed(written.size());
  {
    std::vector<std::jthread> syncs;
    for (size_t i = 1; i < written.size(); ++i) {
      syncs.emplace_back([&, i] { committed[i] = written[i]->Commit(); });
    }
    if (!written.empty()) committed[0] = written[0]->Commit();
  }  // joins
  for (const Status& s : committed) {
    if (status.ok() && !s.ok()) status = s;
  }
  if (!written.empty()) {
    {
      std::lock_guard lock(append_mu_);
      ++append_generation_;
    }
    append_cv_.notify_all();
  }
  return status;
}

Status EmbeddedLog::Read(const std::string& topic, int32_t partition, int64_t offset,
                         size_t max_records, std::vector<ConsumedRecord>* out) {
  DF_ASSIGN_OR_RETURN(PartitionLog * p, GetPartition(topic, partition));
  return p->Read(offset, max_records, out);
}

void EmbeddedLog::DropCacheBelow(const std::string& topic, int32_t partition, int64_t offset) {
  auto p = GetPartition(topic, partition);
  if (p.ok()) (*p)->DropCacheBelow(offset);
}

Result<int64_t> EmbeddedLog::OffsetForTime(const std::string& topic, int32_t partition,
                                           int64_t timestamp_us) {
  DF_ASSIGN_OR_RETURN(PartitionLog * p, GetPartition(topic, partition));
  return p->OffsetForTime(timestamp_us);
}

Result<std::optional<ConsumedRecord>> EmbeddedLog::ReadLast(const std::string& topic,
                                                            int32_t partition) {
  DF_ASSIGN_OR_RETURN(PartitionLog * p, GetPartition(topic, partition));
  return p->ReadLast();
}

bool EmbeddedLog::WaitForData(const std::string& topic, int32_t partition, int64_t offset,
                              int64_t timeout_us, std::stop_token stop) {
  auto p = GetPartition(topic, partition);
  return p.ok() && (*p)->WaitForData(offset, timeout_us, stop);
}

Result<EmbeddedLog::GroupOffsets> EmbeddedLog::ReadGroupLocked(const std::string& group) {
  GroupOffsets offsets;
  auto text = ReadFileToString(fs_, dir_ + "/groups/" + group + ".offsets");
  if (!text.ok() && text.status().code() == StatusCode::kNotFound) return offsets;
  if (!text.ok()) return text.status();
  std::istringstream in(*text);
  std::string topic;
  int32_t partition;
  int64_t offset;
  while (in >> topic >> partition >> offset) offsets[{topic, partition}] = offset;
  return offsets;
}

Status EmbeddedLog::CommitGroupOffset(const std::string& group, const std::string& topic,
                                      int32_t partition, int64_t next_offset) {
  if (!ValidName(group))
    return Status::InvalidArgument(fmt::format("group name '{}' is not valid", group));
  if (mode_ != OpenMode::kReadWrite) return Status::InvalidArgument("the log is open read-only");
  std::lock_guard lock(groups_mu_);
  DF_ASSIGN_OR_RETURN(auto offsets, ReadGroupLocked(group));
  offsets[{topic, partition}] = next_offset;
  std::string text;
  for (const auto& [tp, o] : offsets) text += fmt::format("{} {} {}\n", tp.first, tp.second, o);
  return WriteFileAtomically(fs_, dir_ + "/groups/" + group + ".offsets", text);
}

Result<std::optional<int64_t>> EmbeddedLog::GroupOffset(const std::string& group,
                                                        const std::string& topic,
                                                        int32_t partition) {
  std::lock_guard lock(groups_mu_);
  DF_ASSIGN_OR_RETURN(auto offsets, ReadGroupLocked(group));
  auto it = offsets.find({topic, partition});
  if (it == offsets.end()) return std::optional<int64_t>();
  return std::optional<int64_t>(it->second);
}

void EmbeddedLog::HoldForConsumer(const std::string& group, const std::string& topic,
                                  int32_t partition, int64_t next_offset) {
  std::lock_guard lock(groups_mu_);
  held_[{group, topic, partition}] = next_offset;
}

void EmbeddedLog::ReleaseConsumer(const std::string& group, const std::string& topic) {
  std::lock_guard lock(groups_mu_);
  std::erase_if(held_, [&](const auto& e) {
    return std::get<0>(e.first) == group && std::get<1>(e.first) == topic;
  });
}

Result<std::vector<int64_t>> EmbeddedLog::RetentionFloors(const std::string& topic,
                                                          size_t partitions) {
  std::vector<int64_t> floors(partitions, INT64_MAX);
  auto lower = [&](int32_t p, int64_t offset) {
    if (p >= 0 && static_cast<size_t>(p) < partitions) floors[p] = std::min(floors[p], offset);
  };
  std::lock_guard lock(groups_mu_);
  auto names = fs_->ListDir(dir_ + "/groups");
  if (!names.ok() && names.status().code() != StatusCode::kNotFound) return names.status();
  for (const std::string& name : names.ok() ? *names : std::vector<std::string>{}) {
    if (!name.ends_with(".offsets")) continue;
    DF_ASSIGN_OR_RETURN(auto offsets, ReadGroupLocked(name.substr(0, name.size() - 8)));
    for (const auto& [tp, offset] : offsets) {
      if (tp.first == topic) lower(tp.second, offset);
    }
  }
  for (const auto& [key, offset] : held_) {
    if (std::get<1>(key) == topic) lower(std::get<2>(key), offset);
  }
  return floors;
}

Status EmbeddedLog::ApplyRetention() {
  int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  DF_ASSIGN_OR_RETURN(auto names, ListTopics());
  std::lock_guard lock(topics_mu_);
  for (const auto& name : names) DF_RETURN_IF_ERROR(LoadTopicLocked(name).status());
  for (auto& [name, t] : topics_) {
    std::vector<int64_t> floors(t->partitions.size(), INT64_MAX);
    if (!options_.retention_force) {
      DF_ASSIGN_OR_RETURN(floors, RetentionFloors(name, t->partitions.size()));
    }
    for (size_t p = 0; p < t->partitions.size(); ++p) {
      DF_RETURN_IF_ERROR(t->partitions[p]->ApplyRetention(now, floors[p]));
    }
  }
  return Status::OK();
}

Result<PartitionInfo> EmbeddedLog::DescribePartition(const std::string& topic, int32_t partition) {
  DF_ASSIGN_OR_RETURN(PartitionLog * p, GetPartition(topic, partition));
  return p->Info();
}

Result<std::unique_ptr<LogConsumer>> EmbeddedLog::Subscribe(const std::string& group,
                                                            const std::string& topic,
                                                            ConsumerListener* listener) {
  if (!ValidName(group))
    return Status::InvalidArgument(fmt::format("group name '{}' is not valid", group));
  DF_RETURN_IF_ERROR(GetTopic(topic).status());
  return std::unique_ptr<LogConsumer>(new EmbeddedConsumer(this, group, topic, listener));
}

uint64_t EmbeddedLog::AppendGeneration() {
  std::lock_guard lock(append_mu_);
  return append_generation_;
}

void EmbeddedLog::WaitForAppend(uint64_t seen, int64_t timeout_us, std::stop_token stop) {
  if (mode_ == OpenMode::kReadOnly) timeout_us = std::min<int64_t>(timeout_us, 20'000);
  std::unique_lock lock(append_mu_);
  append_cv_.wait_for(lock, stop, std::chrono::microseconds(timeout_us),
                      [&] { return append_generation_ != seen; });
}

}  // namespace dataforge
