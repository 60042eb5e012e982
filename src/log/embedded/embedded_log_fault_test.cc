// The embedded log on a failing disk (common/testing/fault_injection_fs.h): a power cut at every
// sync boundary of a run, and every file-system call of the run failing in turn with EIO and
// with ENOSPC. What must hold each time: the reopened log is a prefix of what was appended,
// whole batches byte for byte, holding every batch whose Append returned OK; the group offset
// is one that was committed and no older than the last acknowledged commit; the error names
// the file and the cause; after a failed write, fsync or roll the partition refuses appends.
#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/testing/fault_injection_fs.h"
#include "log/embedded/embedded_log.h"

namespace dataforge {
namespace {

using dataforge::testing::FaultInjectionFs;

constexpr int kBatches = 24;
constexpr int kPartitions = 2;

// The runs live in /dev/shm when there is one: what survives a power cut is decided by the
// fault-injecting file system's model, not by the disk, and hundreds of runs of real fdatasync
// on a busy disk take minutes.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = std::filesystem::is_directory("/dev/shm") ? "/dev/shm/df_logfault_XXXXXX"
                                                                 : "/tmp/df_logfault_XXXXXX";
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Batch i: 1 to 3 records with values of varying length, so segments roll at varying points.
std::vector<LogRecord> Batch(int i) {
  std::vector<LogRecord> out;
  for (int r = 0; r < 1 + i % 3; ++r) {
    out.push_back({fmt::format("k{}-{}", i, r),
                   std::string(static_cast<size_t>(20 + (i * 7 + r) % 50), 'a' + i % 26),
                   1000 + i,
                   {{"batch", std::to_string(i)}}});
  }
  return out;
}

LogOptions Options(FileSystem* fs) {
  LogOptions o;
  o.file_system = fs;
  o.segment_bytes = 600;  // a few segments per partition: rolls are call sites too
  return o;
}

struct RunResult {
  std::vector<int> attempted[kPartitions];  // batch numbers, in append order
  size_t acked[kPartitions] = {};           // how many of them Append acknowledged
  std::vector<int64_t> commits;             // group offsets tried for partition 0
  int64_t acked_commit = -1;                // the last one acknowledged
  Status error;                             // the first error (OK if none)
  std::string failed_step;                  // open, create topic, append or commit
  Status append_after_error;                // an append tried after a failed one
};

// Opens the log at `dir` through `fs`, creates topic "t" and appends kBatches batches round
// robin, committing group "g"'s offset of partition 0 after every 4th batch. Stops at the first
// error; after a failed append, tries one more append on the same partition.
RunResult Workload(const std::string& dir, FileSystem* fs) {
  RunResult run;
  auto fail = [&](const Status& s, const char* step) {
    run.error = s;
    run.failed_step = step;
    return run;
  };
  auto log = EmbeddedLog::Open(dir, OpenMode::kReadWrite, Options(fs));
  if (!log.ok()) return fail(log.status(), "open");
  Status created = (*log)->CreateTopic("t", kPartitions);
  if (!created.ok()) return fail(created, "create topic");
  int64_t end0 = 0;
  for (int i = 0; i < kBatches; ++i) {
    int p = i % kPartitions;
    auto records = Batch(i);
    run.attempted[p].push_back(i);
    auto base = (*log)->Append("t", p, records);
    if (!base.ok()) {
      run.append_after_error = (*log)->Append("t", p, Batch(99)).status();
      return fail(base.status(), "append");
    }
    ++run.acked[p];
    if (p == 0) end0 = *base + static_cast<int64_t>(records.size());
    if (i % 4 == 3) {
      run.commits.push_back(end0);
      Status committed = (*log)->CommitGroupOffset("g", "t", 0, end0);
      if (!committed.ok()) return fail(committed, "commit");
      run.acked_commit = end0;
    }
  }
  return run;
}

// Reopens `dir` on the real file system and checks it against `run`; returns the number of
// batches recovered.
size_t ExpectPrefixWithEveryAcknowledgedBatch(const std::string& dir, const RunResult& run) {
  auto log = EmbeddedLog::Open(dir, OpenMode::kReadWrite, Options(FileSystem::Default()));
  EXPECT_TRUE(log.ok()) << log.status().ToString();
  if (!log.ok()) return 0;
  Status created = (*log)->CreateTopic("t", kPartitions);
  EXPECT_TRUE(created.ok()) << created.ToString();
  size_t recovered = 0;
  for (int p = 0; p < kPartitions; ++p) {
    std::vector<ConsumedRecord> out;
    Status read = (*log)->Read("t", p, 0, 10'000, &out);
    EXPECT_TRUE(read.ok()) << read.ToString();
    size_t at = 0;
    size_t batches = 0;
    for (int i : run.attempted[p]) {
      if (at == out.size()) break;
      auto records = Batch(i);
      EXPECT_LE(at + records.size(), out.size())
          << "partition " << p << ": batch " << i << " is only partly there";
      for (size_t r = 0; r < records.size() && at < out.size(); ++r, ++at) {
        const ConsumedRecord& got = out[at];
        EXPECT_EQ(got.offset, static_cast<int64_t>(at));
        EXPECT_EQ(got.record.key, records[r].key);
        EXPECT_EQ(got.record.value, records[r].value);
        EXPECT_EQ(got.record.timestamp_us, records[r].timestamp_us);
        EXPECT_EQ(got.record.headers, records[r].headers);
      }
      ++batches;
    }
    EXPECT_EQ(at, out.size()) << "partition " << p << " holds records nobody appended";
    EXPECT_GE(batches, run.acked[p]) << "partition " << p << " lost an acknowledged batch";
    recovered += batches;
    auto next = (*log)->Append("t", p, Batch(100));  // the log takes appends again
    EXPECT_TRUE(next.ok()) << next.status().ToString();
    if (next.ok()) {
      EXPECT_EQ(*next, static_cast<int64_t>(out.size()));
    }
  }
  auto group = (*log)->GroupOffset("g", "t", 0);
  EXPECT_TRUE(group.ok()) << group.status().ToString();
  if (group.ok() && run.acked_commit >= 0) {
    EXPECT_TRUE(group->has_value()) << "the acknowledged group offset was lost";
    if (group->has_value()) {
      EXPECT_GE(**group, run.acked_commit);
    }
  }
  if (group.ok() && group->has_value()) {
    EXPECT_NE(std::find(run.commits.begin(), run.commits.end(), **group), run.commits.end())
        << "group offset " << **group << " was never committed";
  }
  return recovered;
}

// The number of syncs and calls of a run on a healthy disk.
std::pair<uint64_t, uint64_t> CleanRunSyncsAndCalls() {
  TempDir dir;
  FaultInjectionFs fs;
  RunResult run = Workload(dir.path(), &fs);
  EXPECT_TRUE(run.error.ok()) << run.error.ToString();
  EXPECT_EQ(ExpectPrefixWithEveryAcknowledgedBatch(dir.path(), run), size_t{kBatches});
  return {fs.syncs(), fs.calls()};
}

TEST(LogPowerCutTest, EveryAcknowledgedBatchSurvivesAPowerCutAtEverySyncBoundary) {
  auto [syncs, calls] = CleanRunSyncsAndCalls();
  ::testing::Test::RecordProperty("sync_boundaries", static_cast<int>(syncs));
  // One fdatasync per append, plus directory syncs for segments and the meta and group files.
  ASSERT_GT(syncs, uint64_t{kBatches});
  size_t lost_unacknowledged = 0;
  for (bool after_sync : {false, true}) {
    for (uint64_t k = 0; k < syncs; ++k) {
      SCOPED_TRACE(fmt::format("power cut at sync {} of {} ({} it)", k, syncs,
                               after_sync ? "after" : "before"));
      TempDir dir;
      FaultInjectionFs fs;
      fs.CutPowerAtSync(k, after_sync);
      RunResult run = Workload(dir.path(), &fs);
      ASSERT_TRUE(fs.power_is_off());
      ASSERT_FALSE(run.error.ok());
      std::string last_call = fs.call_log().back();
      ASSERT_TRUE(fs.PowerCut().ok());
      size_t recovered = ExpectPrefixWithEveryAcknowledgedBatch(dir.path(), run);
      size_t acked = run.acked[0] + run.acked[1];
      size_t attempted = run.attempted[0].size() + run.attempted[1].size();
      if (!after_sync && last_call.starts_with("sync ") && last_call.ends_with(".log")) {
        // The batch whose fdatasync never happened is gone, and nothing else.
        EXPECT_EQ(recovered, acked);
        lost_unacknowledged += attempted - recovered;
      }
      if (after_sync && last_call.starts_with("sync ") && last_call.ends_with(".log")) {
        EXPECT_EQ(recovered, attempted);  // synced, though never acknowledged
      }
    }
  }
  // The cuts did drop data: kBatches appends were cut before their fdatasync.
  EXPECT_EQ(lost_unacknowledged, size_t{kBatches});
}

class LogFailingCallTest : public ::testing::TestWithParam<int> {};

TEST_P(LogFailingCallTest, EachCallFailingIsReportedWithPathAndCauseAndLosesNothingAcknowledged) {
  const int err = GetParam();
  auto [syncs, calls] = CleanRunSyncsAndCalls();
  ::testing::Test::RecordProperty("call_sites", static_cast<int>(calls));
  ASSERT_GT(calls, syncs);
  for (bool power_cut : {false, true}) {
    for (uint64_t n = 0; n < calls; ++n) {
      TempDir dir;
      FaultInjectionFs fs;
      fs.FailCall(n, err);
      RunResult run = Workload(dir.path(), &fs);
      std::string call = fs.call_log().at(n);
      SCOPED_TRACE(fmt::format("call {} of {}: {}{}", n, calls, call,
                               power_cut ? ", then a power cut" : ""));
      ASSERT_FALSE(run.error.ok()) << "the failure was swallowed";
      // The error names the file the call was about and the cause.
      std::string path = call.substr(call.find(' ') + 1);
      const std::string& message = run.error.message();
      EXPECT_NE(message.find(path), std::string::npos) << message;
      EXPECT_NE(message.find(std::strerror(err)), std::string::npos) << message;
      EXPECT_EQ(run.error.code(),
                err == ENOSPC ? StatusCode::kResourceExhausted : StatusCode::kIOError);
      if (err == ENOSPC) {
        EXPECT_NE(message.find("the disk is full"), std::string::npos);
      }
      if (run.failed_step == "append") {
        // The error sticks: the partition refuses the next append with the same error.
        EXPECT_EQ(run.append_after_error.message(), message);
      }
      if (power_cut) {
        ASSERT_TRUE(fs.PowerCut().ok());
      }
      ExpectPrefixWithEveryAcknowledgedBatch(dir.path(), run);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Errno, LogFailingCallTest, ::testing::Values(EIO, ENOSPC),
                         [](const auto& info) {
                           return std::string(info.param == EIO ? "EIO" : "ENOSPC");
                         });

// A failed fdatasync: the message, word for word, and the partition stays closed to appends
// (Linux may have dropped the unsynced pages: a retry that succeeds would prove nothing).
TEST(LogFsyncFailureTest, FailedFsyncIsStickyAndNamesTheSegment) {
  TempDir dir;
  FaultInjectionFs fs;
  auto log = EmbeddedLog::Open(dir.path(), OpenMode::kReadWrite, Options(&fs));
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->CreateTopic("t", 1).ok());
  ASSERT_TRUE((*log)->Append("t", 0, Batch(0)).ok());
  fs.FailCall(fs.calls() + 1, EIO);  // the next append's write goes through, its sync fails
  auto failed = (*log)->Append("t", 0, Batch(1));
  std::string segment = dir.path() + "/topics/t/0/00000000000000000000.log";
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().ToString(),
            "IOError: cannot append to the log: cannot fsync " + segment + ": Input/output error");
  uint64_t calls_before = fs.calls();
  for (int i = 2; i < 5; ++i) {
    auto again = (*log)->Append("t", 0, Batch(i));
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.status().message(), failed.status().message());
  }
  EXPECT_EQ(fs.calls(), calls_before) << "a refused append touched the disk";
  // Reads still work and show the acknowledged batch only.
  std::vector<ConsumedRecord> out;
  ASSERT_TRUE((*log)->Read("t", 0, 0, 100, &out).ok());
  ASSERT_EQ(out.size(), Batch(0).size());
  EXPECT_EQ(out[0].record.key, Batch(0)[0].key);
}

}  // namespace
}  // namespace dataforge
