#include "log/embedded/partition_log.h"

#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "log/embedded/batch_format.h"

namespace dataforge {
namespace {

std::string SegmentName(int64_t base) {
  return fmt::format("{:020d}.log", base);
}

// The base offsets of the segment files in `dir`.
Result<std::vector<int64_t>> ListSegments(FileSystem* fs, const std::string& dir) {
  DF_ASSIGN_OR_RETURN(auto names, fs->ListDir(dir));
  std::vector<int64_t> bases;
  for (const auto& name : names) {
    if (name.size() == 24 && name.ends_with(".log"))
      bases.push_back(std::stoll(name.substr(0, 20)));
  }
  std::sort(bases.begin(), bases.end());
  return bases;
}

// Reads n bytes at pos; returns the number read (short at end of file).
Result<size_t> PreadFull(const RandomAccessFile& file, char* buf, size_t n, uint64_t pos) {
  return file.Read(pos, n, buf);
}

}  // namespace

Result<std::unique_ptr<PartitionLog>> PartitionLog::Open(const std::string& dir, int32_t partition,
                                                         OpenMode mode, const LogOptions& options) {
  std::unique_ptr<PartitionLog> p(new PartitionLog(dir, partition, mode, options));
  if (mode == OpenMode::kReadWrite) DF_RETURN_IF_ERROR(p->fs_->CreateDirs(dir));
  auto listed = ListSegments(p->fs_, dir);
  if (!listed.ok() && mode == OpenMode::kReadWrite) return listed.status();
  std::vector<int64_t> bases = listed.ok() ? std::move(listed).value() : std::vector<int64_t>();
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

PartitionLog::~PartitionLog() = default;

Status PartitionLog::ScanSegment(Segment* seg, bool verify, bool truncate) {
  auto opened = fs_->NewRandomAccessFile(seg->path);
  if (!opened.ok()) {
    if (opened.status().code() == StatusCode::kNotFound && mode_ == OpenMode::kReadOnly) {
      return Status::OK();  // retention race
    }
    return opened.status();
  }
  const RandomAccessFile& file = **opened;
  DF_ASSIGN_OR_RETURN(uint64_t file_size, file.Size());
  uint64_t pos = seg->size;
  int64_t expected = seg->batches.empty()
                         ? seg->base_offset
                         : seg->batches.back().base_offset + seg->batches.back().count;
  std::string buf;
  std::string problem;
  while (pos < file_size) {
    char hbuf[log_format::kHeaderSize];
    auto got = PreadFull(file, hbuf, sizeof hbuf, pos);
    if (!got.ok()) return got.status();
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
      auto n = PreadFull(file, buf.data(), buf.size(), pos);
      if (!n.ok()) return n.status();
      uint32_t computed = 0;
      if (!log_format::VerifyBatch(buf, h, &computed)) {
        problem = fmt::format("checksum 0x{:08x} != stored 0x{:08x}", computed, h.crc);
        break;
      }
    }
    seg->max_timestamp = std::max(seg->max_timestamp, h.max_timestamp);
    seg->batches.push_back({h.base_offset, h.record_count, pos, seg->max_timestamp});
    expected = h.base_offset + h.record_count;
    pos += log_format::kHeaderSize + h.body_length;
  }
  seg->size = pos;
  if (pos < file_size && truncate) {
    spdlog::warn(
        "log recovery: {} at byte {} of {}: truncating {} bytes ({} complete batches "
        "kept, next offset {})",
        problem, pos, seg->path, file_size - pos, seg->batches.size(), expected);
    DF_RETURN_IF_ERROR(fs_->TruncateFile(seg->path, pos).WithContext("log recovery"));
  }
  return Status::OK();
}

Status PartitionLog::OpenActiveForAppend() {
  if (active_ != nullptr) {
    DF_RETURN_IF_ERROR(active_->Close());
    active_.reset();
  }
  const Segment& seg = segments_.back();
  bool existed = fs_->FileExists(seg.path);
  DF_ASSIGN_OR_RETURN(active_, fs_->NewAppendableFile(seg.path));
  if (!existed) return fs_->SyncDir(dir_);
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
  DF_ASSIGN_OR_RETURN(int64_t base, Write(records));
  DF_RETURN_IF_ERROR(Commit());
  return base;
}

Result<int64_t> PartitionLog::Write(std::span<const LogRecord> records) {
  if (records.empty()) return Status::InvalidArgument("empty batch");
  std::lock_guard lock(mu_);
  if (mode_ != OpenMode::kReadWrite) return Status::InvalidArgument("the log is open read-only");
  if (!failed_.ok()) return failed_;
  if (pending_.base >= 0) return Status::Internal("a written batch was not committed");
  if (segments_.back().size >= options_.segment_bytes) {
    Status s = Roll();
    if (!s.ok()) return failed_ = s.WithContext("cannot append to the log");
  }
  Segment& seg = segments_.back();
  int64_t base = EndOffsetLocked();
  buffer_.clear();
  log_format::EncodeBatch(base, records, &buffer_);
  Status written = active_->Append(buffer_);
  if (!written.ok()) {
    // Cut back to the last complete batch so the file stays valid (recovery would also drop
    // the torn batch); refuse further appends.
    (void)active_->Truncate(seg.size);
    return failed_ = written.WithContext("cannot append to the log");
  }
  int64_t max_ts = 0;
  for (const auto& r : records) max_ts = std::max(max_ts, r.timestamp_us);
  pending_ = {base, static_cast<uint32_t>(records.size()), buffer_.size(), max_ts};
  return base;
}

Status PartitionLog::Commit() {
  std::unique_lock lock(mu_);
  if (pending_.base < 0) return Status::Internal("no written batch to commit");
  Pending p = pending_;
  pending_ = Pending();
  if (options_.fsync_per_batch) {
    Status synced = active_->Sync();
    if (!synced.ok()) return failed_ = synced.WithContext("cannot append to the log");
  }
  Segment& seg = segments_.back();
  seg.max_timestamp = std::max(seg.max_timestamp, p.max_timestamp);
  seg.batches.push_back({p.base, p.count, seg.size, seg.max_timestamp});
  seg.size += p.bytes;
  lock.unlock();
  cv_.notify_all();
  return Status::OK();
}

Status PartitionLog::RefreshLocked() {
  if (mode_ != OpenMode::kReadOnly) return Status::OK();
  // New segments a writer rolled to.
  int64_t last_base = segments_.empty() ? -1 : segments_.back().base_offset;
  std::vector<int64_t> added;
  auto listed = ListSegments(fs_, dir_);
  if (listed.ok()) {
    for (int64_t base : *listed) {
      if (base > last_base) added.push_back(base);
    }
  }
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
  // A batch's bytes; not zeroed first (pread fills what is read, and only that is looked at).
  std::unique_ptr<char[]> buf;
  size_t buf_capacity = 0;
  std::unique_ptr<RandomAccessFile> file;
  std::string file_path;
  Status result;
  size_t remaining = max_records;
  for (const auto& piece : pieces) {
    if (piece.path != file_path) {
      file.reset();
      file_path = piece.path;
      auto opened = fs_->NewRandomAccessFile(piece.path);
      if (!opened.ok()) {
        if (opened.status().code() == StatusCode::kNotFound) continue;  // deleted by retention
        result = opened.status();
        break;
      }
      file = std::move(opened).value();
    }
    if (file == nullptr) continue;
    char hbuf[log_format::kHeaderSize];
    auto got = PreadFull(*file, hbuf, sizeof hbuf, piece.batch.position);
    log_format::BatchHeader h;
    if (!got.ok() || *got < sizeof hbuf ||
        !log_format::DecodeHeader(std::string_view(hbuf, sizeof hbuf), &h)) {
      result = Status::Corruption(
          fmt::format("corrupt batch header in {} at byte {}", piece.path, piece.batch.position));
      break;
    }
    const size_t size = log_format::kHeaderSize + h.body_length;
    if (size > buf_capacity) {
      buf = std::make_unique_for_overwrite<char[]>(size);
      buf_capacity = size;
    }
    auto n = PreadFull(*file, buf.get(), size, piece.batch.position);
    uint32_t computed = 0;
    const std::string_view batch(buf.get(), n.ok() ? *n : 0);  // PreadFull reads <= size
    if (!n.ok() || *n < size || !log_format::VerifyBatch(batch, h, &computed)) {
      result = Status::Corruption(
          fmt::format("corrupt batch in {} at byte {}: checksum 0x{:08x} != stored 0x{:08x}",
                      piece.path, piece.batch.position, computed, h.crc));
      break;
    }
    size_t before = out->size();
    result = log_format::DecodeRecords(batch, h, partition_, offset, remaining, out);
    if (!result.ok()) {
      result = result.WithContext(fmt::format("{} at byte {}", piece.path, piece.batch.position));
      break;
    }
    remaining -= out->size() - before;
    if (remaining == 0) break;
  }
  return result;
}

Result<int64_t> PartitionLog::OffsetForTime(int64_t timestamp_us) {
  // The first batch holding a record at or after the time is the first whose max timestamp is:
  // every earlier batch's records are all earlier. Segments in order, then a binary search over
  // the segment's running max; the batch itself is read to find the record.
  int64_t from = 0, end = 0;
  {
    std::lock_guard lock(mu_);
    DF_RETURN_IF_ERROR(RefreshLocked());
    end = EndOffsetLocked();
    from = end;
    for (const auto& s : segments_) {
      if (s.batches.empty() || s.max_timestamp < timestamp_us) continue;
      auto b = std::partition_point(s.batches.begin(), s.batches.end(), [&](const BatchPos& p) {
        return p.max_timestamp_so_far < timestamp_us;
      });
      from = b == s.batches.end() ? s.batches.back().base_offset : b->base_offset;
      break;
    }
  }
  // Read on from that batch to the first record late enough (within the batch, unless the
  // timestamps were not what its header says).
  std::vector<ConsumedRecord> out;
  while (from < end) {
    out.clear();
    DF_RETURN_IF_ERROR(Read(from, 1000, &out));
    if (out.empty()) break;
    for (const auto& c : out) {
      if (c.record.timestamp_us >= timestamp_us) return c.offset;
    }
    from = out.back().offset + 1;
  }
  return end;
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
    Status removed = fs_->RemoveFile(oldest.path);
    if (!removed.ok() && removed.code() != StatusCode::kNotFound) {
      return removed.WithContext("log retention");
    }
    spdlog::info("log retention: deleted {} ({} bytes)", oldest.path, oldest.size);
    total -= oldest.size;
    segments_.erase(segments_.begin());
    start_offset_ = segments_.front().base_offset;
  }
  return Status::OK();
}

void PartitionLog::DropCacheBelow(int64_t offset) {
  // The kernel drops only cached folios wholly inside the range, and a folio may span up to
  // 2 MiB: each range starts that far back, so a folio left at the last range's end goes with
  // the next one (advising bytes with no pages costs little). The active segment's range ends
  // at a page boundary: its last partial page is written again by the next append, which would
  // otherwise read it back from the disk.
  constexpr uint64_t kFolioSpan = 2 << 20;
  static const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  struct Range {
    std::string path;
    uint64_t from, to;
  };
  std::vector<Range> ranges;
  {
    std::lock_guard lock(mu_);
    // From the segment holding `offset` back to the first one not yet dropped to its end.
    auto it = std::upper_bound(segments_.begin(), segments_.end(), offset,
                               [](int64_t o, const Segment& s) { return o < s.base_offset; });
    while (it != segments_.begin()) {
      --it;
      // The end of the last batch wholly below `offset`.
      auto b = std::upper_bound(it->batches.begin(), it->batches.end(), offset,
                                [](int64_t o, const BatchPos& p) { return o < p.base_offset; });
      uint64_t end = 0;
      if (b != it->batches.begin()) {
        --b;
        end = b->base_offset + b->count <= offset
                  ? (b + 1 == it->batches.end() ? it->size : (b + 1)->position)
                  : b->position;
      }
      if (it + 1 == segments_.end()) end = end / page * page;
      if (end <= it->dropped) break;
      ranges.push_back({it->path, it->dropped / kFolioSpan * kFolioSpan, end});
      it->dropped = end;
    }
  }
  // Outside the lock: appends go on meanwhile. Only a hint: a failure changes nothing.
  for (const auto& r : ranges) (void)fs_->DropCachedPages(r.path, r.from, r.to - r.from);
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
