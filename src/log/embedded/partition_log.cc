#include "log/embedded/partition_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "log/embedded/batch_format.h"

namespace dataforge {
namespace {

namespace fs = std::filesystem;

std::string SegmentName(int64_t base) {
  return fmt::format("{:020d}.log", base);
}

Status ErrnoStatus(const std::string& what, const std::string& path, int err) {
  if (err == ENOSPC || err == EDQUOT) {
    return Status::ResourceExhausted(
        fmt::format("{} {}: {} (the disk is full: free space, then run again)", what, path,
                    std::strerror(err)));
  }
  return Status::IOError(fmt::format("{} {}: {}", what, path, std::strerror(err)));
}

Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return ErrnoStatus("cannot open directory", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  return rc == 0 ? Status::OK() : ErrnoStatus("cannot fsync directory", dir, err);
}

// Reads exactly n bytes at pos; returns the number read (short at end of file).
Result<size_t> PreadFull(int fd, char* buf, size_t n, uint64_t pos, const std::string& path) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, buf + done, n - done, static_cast<off_t>(pos + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("cannot read", path, errno);
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return done;
}

}  // namespace

Result<std::unique_ptr<PartitionLog>> PartitionLog::Open(const std::string& dir, int32_t partition,
                                                         OpenMode mode, const LogOptions& options) {
  std::unique_ptr<PartitionLog> p(new PartitionLog(dir, partition, mode, options));
  std::error_code ec;
  if (mode == OpenMode::kReadWrite) {
    fs::create_directories(dir, ec);
    if (ec) return Status::IOError(fmt::format("cannot create {}: {}", dir, ec.message()));
  }
  std::vector<int64_t> bases;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.size() == 24 && name.ends_with(".log"))
      bases.push_back(std::stoll(name.substr(0, 20)));
  }
  if (ec && mode == OpenMode::kReadWrite) {
    return Status::IOError(fmt::format("cannot list {}: {}", dir, ec.message()));
  }
  std::sort(bases.begin(), bases.end());
  for (int64_t base : bases) {
    Segment s;
    s.base_offset = base;
    s.path = dir + "/" + SegmentName(base);
    p->segments_.push_back(std::move(s));
  }
  for (size_t i = 0; i < p->segments_.size(); ++i) {
    bool last = i + 1 == p->segments_.size();
    // Sealed segments: headers only (CRCs are checked on read). The active one: fully verified
    // and, read-write, truncated after its last valid batch.
    DF_RETURN_IF_ERROR(
        p->ScanSegment(&p->segments_[i], last, last && mode == OpenMode::kReadWrite));
  }
  if (!p->segments_.empty()) p->start_offset_ = p->segments_.front().base_offset;
  if (mode == OpenMode::kReadWrite) {
    if (p->segments_.empty()) {
      Segment s;
      s.path = dir + "/" + SegmentName(0);
      p->segments_.push_back(std::move(s));
    }
    DF_RETURN_IF_ERROR(p->OpenActiveForAppend());
  }
  return p;
}

PartitionLog::~PartitionLog() {
  if (active_fd_ >= 0) ::close(active_fd_);
}

Status PartitionLog::ScanSegment(Segment* seg, bool verify, bool truncate) {
  int fd = ::open(seg->path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT && mode_ == OpenMode::kReadOnly) return Status::OK();  // retention race
    return ErrnoStatus("cannot open log segment", seg->path, errno);
  }
  struct stat st {};
  ::fstat(fd, &st);
  uint64_t file_size = static_cast<uint64_t>(st.st_size);
  uint64_t pos = seg->size;
  int64_t expected = seg->batches.empty()
                         ? seg->base_offset
                         : seg->batches.back().base_offset + seg->batches.back().count;
  std::string buf;
  std::string problem;
  while (pos < file_size) {
    char hbuf[log_format::kHeaderSize];
    auto got = PreadFull(fd, hbuf, sizeof hbuf, pos, seg->path);
    if (!got.ok()) {
      ::close(fd);
      return got.status();
    }
    log_format::BatchHeader h;
    if (*got < sizeof hbuf) {
      problem = "a torn batch header";
      break;
    }
    if (!log_format::DecodeHeader(std::string_view(hbuf, sizeof hbuf), &h)) {
      problem = "a batch header with a bad magic or size";
      break;
    }
    if (h.base_offset != expected) {
      problem = fmt::format("a batch at offset {} where {} was expected", h.base_offset, expected);
      break;
    }
    if (pos + log_format::kHeaderSize + h.body_length > file_size) {
      problem = "a torn batch body";
      break;
    }
    if (verify) {
      buf.resize(log_format::kHeaderSize + h.body_length);
      auto n = PreadFull(fd, buf.data(), buf.size(), pos, seg->path);
      if (!n.ok()) {
        ::close(fd);
        return n.status();
      }
      uint32_t computed = 0;
      if (!log_format::VerifyBatch(buf, h, &computed)) {
        problem = fmt::format("checksum 0x{:08x} != stored 0x{:08x}", computed, h.crc);
        break;
      }
    }
    seg->batches.push_back({h.base_offset, h.record_count, pos});
    seg->max_timestamp = std::max(seg->max_timestamp, h.max_timestamp);
    expected = h.base_offset + h.record_count;
    pos += log_format::kHeaderSize + h.body_length;
  }
  ::close(fd);
  seg->size = pos;
  if (pos < file_size && truncate) {
    spdlog::warn(
        "log recovery: {} at byte {} of {}: truncating {} bytes ({} complete batches "
        "kept, next offset {})",
        problem, pos, seg->path, file_size - pos, seg->batches.size(), expected);
    if (::truncate(seg->path.c_str(), static_cast<off_t>(pos)) != 0) {
      return ErrnoStatus("cannot truncate log segment", seg->path, errno);
    }
  }
  return Status::OK();
}

Status PartitionLog::OpenActiveForAppend() {
  if (active_fd_ >= 0) ::close(active_fd_);
  const Segment& seg = segments_.back();
  bool existed = fs::exists(seg.path);
  active_fd_ = ::open(seg.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (active_fd_ < 0) return ErrnoStatus("cannot open log segment", seg.path, errno);
  if (!existed) return SyncDir(dir_);
  return Status::OK();
}

int64_t PartitionLog::EndOffsetLocked() const {
  if (segments_.empty()) return start_offset_;
  const Segment& s = segments_.back();
  return s.batches.empty() ? s.base_offset : s.batches.back().base_offset + s.batches.back().count;
}

Status PartitionLog::Roll() {
  Segment s;
  s.base_offset = EndOffsetLocked();
  s.path = dir_ + "/" + SegmentName(s.base_offset);
  segments_.push_back(std::move(s));
  return OpenActiveForAppend();
}

Result<int64_t> PartitionLog::Append(std::span<const LogRecord> records) {
  if (records.empty()) return Status::InvalidArgument("empty batch");
  std::unique_lock lock(mu_);
  if (mode_ != OpenMode::kReadWrite) return Status::InvalidArgument("the log is open read-only");
  if (!failed_.ok()) return failed_;
  if (segments_.back().size >= options_.segment_bytes) {
    Status s = Roll();
    if (!s.ok()) return failed_ = s;
  }
  Segment& seg = segments_.back();
  int64_t base = EndOffsetLocked();
  buffer_.clear();
  log_format::EncodeBatch(base, records, &buffer_);
  size_t done = 0;
  while (done < buffer_.size()) {
    ssize_t n = ::write(active_fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      // Cut back to the last complete batch so the file stays valid; refuse further appends.
      (void)::ftruncate(active_fd_, static_cast<off_t>(seg.size));
      return failed_ = ErrnoStatus("cannot append to log segment", seg.path, err);
    }
    done += static_cast<size_t>(n);
  }
  if (options_.fsync_per_batch && ::fdatasync(active_fd_) != 0) {
    return failed_ = ErrnoStatus("cannot fsync log segment", seg.path, errno);
  }
  int64_t max_ts = 0;
  for (const auto& r : records) max_ts = std::max(max_ts, r.timestamp_us);
  seg.batches.push_back({base, static_cast<uint32_t>(records.size()), seg.size});
  seg.size += buffer_.size();
  seg.max_timestamp = std::max(seg.max_timestamp, max_ts);
  lock.unlock();
  cv_.notify_all();
  return base;
}

Status PartitionLog::RefreshLocked() {
  if (mode_ != OpenMode::kReadOnly) return Status::OK();
  // New segments a writer rolled to.
  std::error_code ec;
  int64_t last_base = segments_.empty() ? -1 : segments_.back().base_offset;
  std::vector<int64_t> added;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    std::string name = e.path().filename().string();
    if (name.size() != 24 || !name.ends_with(".log")) continue;
    int64_t base = std::stoll(name.substr(0, 20));
    if (base > last_base) added.push_back(base);
  }
  std::sort(added.begin(), added.end());
  if (!segments_.empty()) DF_RETURN_IF_ERROR(ScanSegment(&segments_.back(), true, false));
  for (int64_t base : added) {
    Segment s;
    s.base_offset = base;
    s.path = dir_ + "/" + SegmentName(base);
    segments_.push_back(std::move(s));
    DF_RETURN_IF_ERROR(ScanSegment(&segments_.back(), true, false));
  }
  return Status::OK();
}

Status PartitionLog::Read(int64_t offset, size_t max_records, std::vector<ConsumedRecord>* out) {
  struct Piece {
    std::string path;
    BatchPos batch;
  };
  std::vector<Piece> pieces;
  {
    std::lock_guard lock(mu_);
    if (offset >= EndOffsetLocked()) DF_RETURN_IF_ERROR(RefreshLocked());
    if (offset < start_offset_) offset = start_offset_;
    // The segment holding `offset`: the last one whose base is <= offset.
    auto it = std::upper_bound(segments_.begin(), segments_.end(), offset,
                               [](int64_t o, const Segment& s) { return o < s.base_offset; });
    if (it != segments_.begin()) --it;
    size_t planned = 0;
    for (; it != segments_.end() && planned < max_records; ++it) {
      auto b = std::upper_bound(it->batches.begin(), it->batches.end(), offset,
                                [](int64_t o, const BatchPos& p) { return o < p.base_offset; });
      if (b != it->batches.begin()) --b;
      for (; b != it->batches.end() && planned < max_records; ++b) {
        if (b->base_offset + b->count <= offset) continue;
        pieces.push_back({it->path, *b});
        planned +=
            static_cast<size_t>(b->base_offset + b->count - std::max(offset, b->base_offset));
      }
    }
  }
  std::string buf;
  int fd = -1;
  std::string fd_path;
  Status result;
  size_t remaining = max_records;
  for (const auto& piece : pieces) {
    if (piece.path != fd_path) {
      if (fd >= 0) ::close(fd);
      fd = ::open(piece.path.c_str(), O_RDONLY | O_CLOEXEC);
      fd_path = piece.path;
      if (fd < 0) {
        if (errno == ENOENT) continue;  // deleted by retention meanwhile
        result = ErrnoStatus("cannot open log segment", piece.path, errno);
        break;
      }
    }
    char hbuf[log_format::kHeaderSize];
    auto got = PreadFull(fd, hbuf, sizeof hbuf, piece.batch.position, piece.path);
    log_format::BatchHeader h;
    if (!got.ok() || *got < sizeof hbuf ||
        !log_format::DecodeHeader(std::string_view(hbuf, sizeof hbuf), &h)) {
      result = Status::Corruption(
          fmt::format("corrupt batch header in {} at byte {}", piece.path, piece.batch.position));
      break;
    }
    buf.resize(log_format::kHeaderSize + h.body_length);
    auto n = PreadFull(fd, buf.data(), buf.size(), piece.batch.position, piece.path);
    uint32_t computed = 0;
    if (!n.ok() || *n < buf.size() || !log_format::VerifyBatch(buf, h, &computed)) {
      result = Status::Corruption(
          fmt::format("corrupt batch in {} at byte {}: checksum 0x{:08x} != stored 0x{:08x}",
                      piece.path, piece.batch.position, computed, h.crc));
      break;
    }
    size_t before = out->size();
    result = log_format::DecodeRecords(buf, h, partition_, offset, remaining, out);
    if (!result.ok()) {
      result = result.WithContext(fmt::format("{} at byte {}", piece.path, piece.batch.position));
      break;
    }
    remaining -= out->size() - before;
    if (remaining == 0) break;
  }
  if (fd >= 0) ::close(fd);
  return result;
}

Result<std::optional<ConsumedRecord>> PartitionLog::ReadLast() {
  int64_t end;
  {
    std::lock_guard lock(mu_);
    DF_RETURN_IF_ERROR(RefreshLocked());
    end = EndOffsetLocked();
    if (end <= start_offset_) return std::optional<ConsumedRecord>();
  }
  std::vector<ConsumedRecord> out;
  DF_RETURN_IF_ERROR(Read(end - 1, 1, &out));
  if (out.empty()) return std::optional<ConsumedRecord>();
  return std::optional<ConsumedRecord>(std::move(out.back()));
}

bool PartitionLog::WaitForData(int64_t offset, int64_t timeout_us, std::stop_token stop) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(timeout_us);
  std::unique_lock lock(mu_);
  while (true) {
    (void)RefreshLocked();
    if (EndOffsetLocked() > offset) return true;
    if (stop.stop_requested() || std::chrono::steady_clock::now() >= deadline) return false;
    auto step = mode_ == OpenMode::kReadOnly ? std::chrono::microseconds(50'000)
                                             : std::chrono::microseconds(timeout_us);
    cv_.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() + step));
  }
}

Status PartitionLog::ApplyRetention(int64_t now_us, int64_t keep_from) {
  std::lock_guard lock(mu_);
  if (mode_ != OpenMode::kReadWrite) return Status::OK();
  uint64_t total = 0;
  for (const auto& s : segments_) total += s.size;
  while (segments_.size() > 1) {
    const Segment& oldest = segments_.front();
    bool too_big = options_.retention_bytes > 0 && total > options_.retention_bytes;
    bool too_old =
        options_.retention_ms > 0 && oldest.max_timestamp < now_us - options_.retention_ms * 1000;
    if (!too_big && !too_old) break;
    if (segments_[1].base_offset > keep_from) {  // holds offsets a consumer group has not read
      if (held_logged_ != oldest.base_offset) {
        held_logged_ = oldest.base_offset;
        spdlog::warn(
            "log retention: keeping {} ({} bytes): a consumer group has not processed past "
            "offset {} of partition {}; it is deleted once the group reads past it (set "
            "log.retention_force: true to delete it anyway, counting its records as lost)",
            oldest.path, oldest.size, keep_from, partition_);
      }
      break;
    }
    if (::unlink(oldest.path.c_str()) != 0 && errno != ENOENT) {
      return ErrnoStatus("cannot delete log segment", oldest.path, errno);
    }
    spdlog::info("log retention: deleted {} ({} bytes)", oldest.path, oldest.size);
    total -= oldest.size;
    segments_.erase(segments_.begin());
    start_offset_ = segments_.front().base_offset;
  }
  return Status::OK();
}

PartitionInfo PartitionLog::Info() {
  std::lock_guard lock(mu_);
  (void)RefreshLocked();
  PartitionInfo info;
  info.partition = partition_;
  info.start_offset = start_offset_;
  info.end_offset = EndOffsetLocked();
  for (const auto& s : segments_) info.size_bytes += s.size;
  info.segments = static_cast<int>(segments_.size());
  return info;
}

}  // namespace dataforge
