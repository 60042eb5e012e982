// One partition of the embedded log: a directory of segment files named by base offset.
//
// Thread-safety: all methods are safe to call concurrently; mu_ guards the segment list, the
// batch index and the active file. Appends are serialised; reads copy what they need under
// the lock and read the file with pread outside it.
// Durability: Append() writes one batch with one WritableFile::Append() and, with
// fsync_per_batch, Sync()s before returning. A new segment's directory entry is synced before
// the first batch goes into it. After a failed write, fsync or segment roll the partition
// refuses appends (the error sticks: the unsynced tail's state is unknown) until it is reopened,
// when recovery keeps the longest valid prefix. All file access goes through
// LogOptions::file_system (common/file_system.h).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include "common/file_system.h"
#include "common/open_mode.h"
#include "common/status.h"
#include "log/log.h"

namespace dataforge {

class PartitionLog {
 public:
  // Opens (creating in kReadWrite) the partition directory. kReadWrite recovers the active
  // segment: batches after the last valid one are truncated away (logged).
  static Result<std::unique_ptr<PartitionLog>> Open(const std::string& dir, int32_t partition,
                                                    OpenMode mode, const LogOptions& options);
  ~PartitionLog();

  Result<int64_t> Append(std::span<const LogRecord> records);
  // Append() in two steps, so that several partitions can be written first and synced together
  // (EmbeddedLog::AppendAll): Write() encodes and writes the batch, which is then neither
  // durable nor visible to readers; Commit() syncs it (fsync_per_batch) and only then makes it
  // visible, as Append() does. After a Write() that returned OK, Commit() must be called before
  // the next Write() (one batch pending); it may run on another thread.
  Result<int64_t> Write(std::span<const LogRecord> records);
  Status Commit();
  Status Read(int64_t offset, size_t max_records, std::vector<ConsumedRecord>* out);
  // Log::OffsetForTime for this partition.
  Result<int64_t> OffsetForTime(int64_t timestamp_us);
  Result<std::optional<ConsumedRecord>> ReadLast();
  bool WaitForData(int64_t offset, int64_t timeout_us, std::stop_token stop);
  // Deletes the oldest segments past the retention limits, but never one holding an offset at or
  // above `keep_from` (the lowest position of a consumer group that has not read it; INT64_MAX
  // = none), nor the active segment. A held segment is logged once.
  Status ApplyRetention(int64_t now_us, int64_t keep_from);
  PartitionInfo Info();
  // A cache hint from the consumer: the batches wholly below `offset` were read and will not be
  // read again soon, so their pages may leave the page cache (FileSystem::DropCachedPages; each
  // byte is advised once). New appends then reuse those pages instead of growing the cache.
  // Content and durability are unchanged; a later Read() of them reads the disk.
  void DropCacheBelow(int64_t offset);

 private:
  struct BatchPos {
    int64_t base_offset;
    uint32_t count;
    uint64_t position;  // byte position in the segment file
    // The largest timestamp of this batch and every earlier one of its segment: non-decreasing
    // along the segment, so OffsetForTime can binary-search it.
    int64_t max_timestamp_so_far;
  };
  struct Segment {
    int64_t base_offset = 0;
    std::string path;
    uint64_t size = 0;  // bytes of complete batches
    int64_t max_timestamp = 0;
    std::vector<BatchPos> batches;
    uint64_t dropped = 0;  // bytes [0, dropped) were given to DropCachedPages
  };

  PartitionLog(std::string dir, int32_t partition, OpenMode mode, const LogOptions& options)
      : dir_(std::move(dir)),
        partition_(partition),
        mode_(mode),
        options_(options),
        fs_(options.file_system != nullptr ? options.file_system : FileSystem::Default()) {}
  // Scans `seg` from seg->size; with `verify`, checks CRCs and (kReadWrite) truncates the file
  // after the last valid batch. REQUIRES: mu_ held (or not yet shared).
  Status ScanSegment(Segment* seg, bool verify, bool truncate);
  Status OpenActiveForAppend();
  Status Roll();
  // Read-only instances: pick up batches and segments a writer added. REQUIRES: mu_ held.
  Status RefreshLocked();
  int64_t EndOffsetLocked() const;

  const std::string dir_;
  const int32_t partition_;
  const OpenMode mode_;
  const LogOptions options_;
  FileSystem* const fs_;

  std::mutex mu_;
  std::condition_variable cv_;            // signalled on append
  std::vector<Segment> segments_;         // guarded by mu_; ordered by base offset; last is active
  std::unique_ptr<WritableFile> active_;  // guarded by mu_; the last segment, read-write only
  int64_t start_offset_ = 0;              // guarded by mu_
  Status failed_;                         // guarded by mu_; sticky write error
  std::string buffer_;                    // guarded by mu_; encode buffer
  struct Pending {
    int64_t base = -1;  // -1: none
    uint32_t count = 0;
    uint64_t bytes = 0;
    int64_t max_timestamp = 0;
  };
  Pending pending_;  // guarded by mu_; the batch Write() wrote and Commit() has not published
  int64_t held_logged_ = -1;  // guarded by mu_; base offset of the last held segment logged
};

}  // namespace dataforge
