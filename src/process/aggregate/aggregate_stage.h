// process.aggregates as a BatchStage (process/batch_stage.h): windowed aggregates of the mapped
// rows, written into their result tables in the same StoreBatch as the rows and the offsets.
// docs/aggregates.md is the user's page; this header is the contract.
//
// State. For each aggregate, each (group, window) has one state per log partition, kept in the
// aggregate's state table (`<table>_state`, key `state_key`):
//   "s/<partition>/<window_key>"  tumbling and hopping: the accumulators (aggregate_state.h),
//   "g/<partition>/<group_key>"   session: the group's open sessions in that partition,
//   "w/<partition>"               the partition's watermark,
//   "c/sweep"                     where the sweep of final states stopped (below),
// each with `through`, the next offset of its partition that it includes. A member loads a state
// lazily (Store::Get) the first time a record needs it and skips, for that state, the records
// below its `through`: they are in it already. So a replay from the committed offsets after a
// crash never counts a record twice, also on Cassandra, whose batch is not atomic: a state row
// written before the crash says which records it holds (docs/cassandra.md).
// The result row of (group, window) is the merge of every partition's state: the member's own
// cached states for the partitions in the batch (it owns them while the consumer returns their
// records), the store's rows for the others (owned by other `--role process` members, or idle).
// Per batch BeforeApply adds, per touched (group, window): its state rows, one result row (an
// upsert of every column), and per partition in the batch its watermark row.
//
// Windows and time: window.h. The watermark of a partition is the largest event time seen in it;
// a record with event time < watermark - lateness is late: counted (AggregateProbe::late) and
// dead-lettered with a reason naming the aggregate, the window and the times (late: deadletter),
// or applied to its windows (late: update; the window's state is reloaded from the store if it
// was evicted). A window is final when its partition's watermark > end + lateness: its state is
// evicted from memory after the batch (the rows stay). Processing-time windows (no `time`) use
// the processor's Clock at OnRow; a replay after a crash assigns a record to the window of the
// time it is processed again (its count is still applied once).
// Deleting final state. With late: deadletter, a tumbling or hopping window's state rows are
// deleted (in a later batch) once the window is final in every partition of the topic: no record
// can touch it or merge it again, and its result row holds the final value. "Final everywhere"
// uses, per partition, the lowest watermark a record of it may still be judged with: the
// watermark before its latest batch (a replay of that batch judges from there), from the cache
// for the partitions this member holds and from their "w/" rows for the others; a partition
// without a watermark row yet (no record) holds every deletion back. Windows evicted here are
// remembered until they can go; a sweep of the state table (a bounded page per batch, from the
// start and again when a row it saw can go; after a start it first resumes where the last run's
// stopped, kept in the cursor row "c/sweep") finds the rest. With late: update rows stay (a late
// record reloads them; a tumbling or hopping window's final state also stays in memory, as its
// stored bytes, within a budget: Kept) for ever, or with late_update_for until the window is
// final for that long everywhere: they are then deleted as above (their kept states forgotten),
// and a record later than lateness + late_update_for is dead-lettered as with late: deadletter.
// Idle partitions (idle_after, tumbling and hopping): a partition this member holds
// (OnPartitionsHeld) that has had no record for idle_after of processing time (since it was
// first held, or its last batch) is idle. Each batch then raises its watermark to the lowest
// judging watermark of the partitions that are not idle here and have one (other
// members' from their "w/" rows), and writes its "w/" row with that watermark in the batch. So
// it no longer holds deletions back, and its next records are judged against that watermark
// (late ones dead-lettered or applied as updates, as any late record). The row is written with
// the batch and the offsets, so a crash keeps or loses both; the row's base offset is the
// partition's next offset, where no replay starts. Which records of such a partition are late
// depends on when they come (as with Flink's idleness), so with idle_after the aggregate equals
// a recomputation from the log only when no partition went idle and later had records.
// A session group's state row "g/..." is deleted likewise once its last session is final, but in
// its own partition only (a session is one partition's, and a non-late record can reach no
// final session): the sweep reads a row's last session end (LastSessionEnd).
// Session windows are kept per (group, partition): a group whose records spread over several
// partitions has separate sessions per partition, with window_key "<group>|<start>|p<partition>".
// A batch writes the result rows of the sessions it changed only, but the state row "g/..." holds
// the group's whole session list: its size is the group's open sessions (bounded by lateness).
//
// Files: aggregate_stage.cc (the aggregation), aggregate_final_states.cc (deleting final
// state), aggregate_idle_partitions.cc (idle_after), aggregate_keys.h (the state table's keys
// and rows).
// If a batch fails between BeforeApply and AfterApply, the next OnRow or BeforeApply drops every
// cache (the store's rows are the truth again). A batch that fails before BeforeApply (another
// stage's OnRow) leaves the cache ahead of the store: after a failed RunOnce the processor must
// not be driven on (the pipeline stops on it and a restart reloads from the store). OnResume
// drops the partition's cache.
// Thread-compatible: the processor's thread calls it; the probe's atomics may be read anywhere.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "config/pipeline_config.h"
#include "process/aggregate/aggregate_probe.h"
#include "process/aggregate/aggregate_state.h"
#include "process/aggregate/window.h"
#include "process/batch_stage.h"
#include "store/store.h"

namespace simdjson::dom {
class parser;
class element;
}  // namespace simdjson::dom

namespace dataforge {

// The result table: window_key (text, the key), the group_by columns (their process.columns
// types), window_start and window_end (timestamp), one column per value (ResolveValues).
Result<TableSchema> AggregateResultSchema(const AggregateSpec& spec, const ProcessConfig& config);
// The state table: state_key (text, the key), through (bigint), state (text).
TableSchema AggregateStateSchema(const AggregateSpec& spec);
std::string AggregateStateTable(const std::string& result_table);

class AggregateStage final : public BatchStage {
 public:
  // Borrows store, clock and probe (they outlive the stage) and `config` (likewise).
  // `partitions`: the topic's partition count (a result row merges that many states; a
  // partition number seen beyond it extends it).
  static Result<std::unique_ptr<AggregateStage>> Create(const ProcessConfig& config, Store* store,
                                                        Clock* clock, std::string topic,
                                                        int32_t partitions, AggregateProbe* probe);
  ~AggregateStage() override;

  // Creates (or checks) every aggregate's result and state tables. Call before the first batch.
  Status EnsureTables();
  // The result and state tables of every aggregate.
  std::vector<std::string> Tables() const;
  // An in-place rebuild (pipeline/reprocess.h): the first batch applied empties the stage's
  // tables (StoreBatch::truncate_also), so until that batch is durable the store's state rows
  // are the old run's and none is read: every window starts from nothing.
  void StartFromNoState();
  // How many evicted windows each aggregate lists for deletion (~100 bytes each; default
  // 100,000); beyond that the sweep finds them. Tests set a small bound.
  void set_max_final_states(size_t n) { max_final_states_ = n; }
  // The rows the sweep reads per batch (default 1,000; also at most ~1 MiB). Tests set a few.
  void set_sweep_rows(size_t n) { sweep_rows_ = n; }
  // The memory every late: update aggregate may keep final states in (see Kept), instead of
  // its max_final_state_bytes. Tests set a small bound.
  void set_max_kept_bytes(size_t n);

  Status OnRow(const ConsumedRecord& record, const MapResult& mapped, const RowWrite& row,
               StoreBatch* batch) override;
  void OnPartitionsHeld(const std::vector<int32_t>& partitions) override;
  Status BeforeApply(StoreBatch* batch) override;
  Status AfterApply(const StoreBatch& batch) override;
  void OnResume(int32_t partition, std::optional<int64_t> next_offset) override;

 private:
  // A Bloom filter of the state keys evicted from a fresh partition's cache (1 Mi bits, 4
  // probes: ~2.4% false positives at its capacity of 100,000 keys; a false positive costs a
  // store read, never a wrong state). It counts the keys that set a bit: a key evicted again
  // (a late record reloaded it) counts once, and so may a new key whose bits were all set (it
  // already read as present), so `full` comes after ~100,000 distinct keys, not evictions.
  class EvictedKeys {
   public:
    void Add(std::string_view key);
    bool MayContain(std::string_view key) const;
    bool full() const { return count_ >= kCapacity; }

   private:
    static constexpr size_t kBits = size_t{1} << 20;
    static constexpr uint64_t kCapacity = 100000;
    static constexpr int kProbes = 4;
    // The bits of `key`: double hashing.
    static std::array<uint64_t, kProbes> Bits(std::string_view key);
    std::vector<uint64_t> words_;  // allocated on the first Add
    uint64_t count_ = 0;
  };
  // The final states of a late: update tumbling or hopping aggregate, kept in memory after
  // their window closed as their stored bytes (EncodeState; empty: no state row), so the late
  // record or the merge that needs one again does not read it from the store. Two generations
  // of at most `budget` bytes each (keys, states and ~128 bytes per entry): a state goes into
  // `recent`; when `recent` is full, `older` is forgotten (its keys go to Partition::evicted)
  // and `recent` becomes `older`. A state taken back (LoadEntry) leaves it. Like the entries,
  // it holds what the store holds for the member's own partitions.
  struct KeptState {
    std::string bytes;
    int64_t through = 0;
    bool in_store = false;
  };
  struct Kept {
    std::unordered_map<std::string, KeptState> recent, older;
    size_t recent_bytes = 0, older_bytes = 0;  // their Cost
    bool Contains(const std::string& key) const {
      return recent.contains(key) || older.contains(key);
    }
    // What a kept state counts against the budget.
    static size_t Cost(const std::string& key, const KeptState& state) {
      return key.size() + state.bytes.size() + 128;
    }
    // Moves the state of `key` to `out`; false when none is kept.
    bool Take(const std::string& key, KeptState* out);
  };
  struct Entry {
    AggState state;        // tumbling, hopping
    SessionList sessions;  // session
    Window window;         // tumbling, hopping
    int64_t through = 0;   // the next offset of the partition the state includes
    bool dirty = false;
    bool in_store = false;   // it has a state row (read, or written by a batch)
    bool described = false;  // window, group_key and group_values are set (a record touched it)
    std::string group_key;
    std::vector<std::string> group_values;  // raw JSON, parallel to group_by
    std::vector<Window> replaced;           // session result rows to delete
  };
  struct Partition {
    bool loaded = false;
    int64_t watermark;  // kNoWatermark until a record was seen
    int64_t through = 0;
    // The batch's first offset and the watermark before it (written with the watermark so a
    // replay of the same batch judges lateness the same way).
    int64_t base_offset = -1;
    int64_t base_watermark;
    bool in_batch = false;
    std::unordered_map<std::string, Entry> entries;
    // No watermark row when the partition was loaded: no batch with this partition was ever
    // written, so every state row of it is one this stage wrote since, and a key neither in
    // `entries` nor in `evicted` has no row (LoadEntry skips the store read). Cleared (reads
    // again) when `evicted` is full.
    bool fresh = false;
    EvictedKeys evicted;
    // Notes that the state row `state_key` may exist while no cache holds it (fresh only).
    void RememberEvicted(std::string_view state_key) {
      if (!fresh) return;
      evicted.Add(state_key);
      if (evicted.full()) fresh = false;  // reads from now on
    }
    Kept kept;  // final states (Aggregate::keep)
  };
  // A result row merged with other partitions' stored states: checked again after the batch.
  struct Recheck {
    std::string key;
    Window window;
    std::vector<std::string> group_values;
    std::vector<int32_t> owned;                        // merged from the cache
    std::vector<std::pair<int32_t, int64_t>> foreign;  // (partition, `through` read; -1 none)
  };
  struct Aggregate {
    const AggregateSpec* spec = nullptr;
    std::vector<ValueDef> defs;
    std::string state_table;
    bool session = false;
    size_t max_kept_bytes = 0;  // over all partitions: each gets max_kept_bytes / partitions_
    // Final states stay in Partition::kept: tumbling, hopping, late: update, a budget > 0.
    bool keep() const { return !session && spec->late == "update" && max_kept_bytes > 0; }
    std::unordered_map<int32_t, Partition> partitions;
    std::vector<std::pair<int32_t, std::string>> touched;  // (partition, entry key), once each
    std::unordered_set<std::string> touched_windows;       // tumbling/hopping result keys
    std::vector<Recheck> rechecks;
    // Final-state deletion (tumbling, hopping with late: deadletter, or late: update with
    // late_update_for; sessions; see the header comment): a window's state rows go once its
    // end + purge_after_ms is behind every partition's judging watermark; a session state row
    // once its last session's end + lateness is behind its own partition's.
    bool purge = false;
    int64_t purge_after_ms = 0;  // lateness, plus late_update_for
    // (window end, state key) of windows evicted as final in their partition (sessions: the
    // last session's end, the group's state key), at most max_final_states_ (beyond, the sweep
    // finds them: a partition without records would otherwise make it grow without bound).
    std::set<std::pair<int64_t, std::string>> final_states;
    // A sweep of the state table: its position (after this key) while a pass runs. A pass finds
    // the rows no cache holds and final_states does not list (a restart forgot them, another
    // member's partitions, runs before this version) and deletes the final ones; per partition,
    // the smallest end of those it could not delete yet starts the next pass once that end is
    // final there.
    std::optional<std::string> sweep_after;
    std::unordered_map<int32_t, int64_t> sweep_min_end;   // this pass's smallest such ends
    std::unordered_map<int32_t, int64_t> next_sweep_end;  // the last pass's
    // The sweep's cursor row (kSweepCursorKey): read once, at the first pass after a start,
    // which resumes where the last run's sweep stopped, then runs a whole pass from the
    // beginning; written whenever the position moves. So runs of a few batches each still
    // sweep the whole table between them instead of its first pages again and again.
    // idle_after: per partition held, the processing time (MonotonicMicros) of its last batch
    // with records, or when it was first held; and the partitions logged as idle since.
    std::unordered_map<int32_t, int64_t> last_record_us;
    std::unordered_set<int32_t> idle;
    bool cursor_read = false;
    bool then_whole_pass = false;  // this pass resumed the cursor: a whole pass follows
    std::string cursor_stored;     // the position the cursor row holds ("" = none)
  };

  AggregateStage(const ProcessConfig& config, Store* store, Clock* clock, std::string topic,
                 int32_t partitions, AggregateProbe* probe);
  Status Aggregate1(Aggregate& agg, const ConsumedRecord& record, const simdjson::dom::element& row,
                    StoreBatch* batch);
  Result<Partition*> LoadPartition(Aggregate& agg, int32_t partition);
  Result<Entry*> LoadEntry(Aggregate& agg, Partition& part, int32_t partition,
                           const std::string& key);
  // The state row of `key` in `partition` from the store; false when there is none.
  Result<bool> ReadState(Aggregate& agg, const std::string& state_key, int64_t* through,
                         std::string* state);
  Status WriteResults(Aggregate& agg, StoreBatch* batch);
  // The merge of every partition's state of window `key`: `owned` from the cache, the others
  // from the store (their `through`s read go to `foreign`).
  Result<AggState> MergeWindow(Aggregate& agg, const std::string& key, const Window& window,
                               const std::vector<int32_t>& owned,
                               std::vector<std::pair<int32_t, int64_t>>* foreign);
  std::string ResultRow(const Aggregate& agg, const std::string& key,
                        const std::vector<std::string>& group_values, const Window& window,
                        const AggState& state);
  // After the batch is durable: a result row merged with another partition's stored state that
  // has moved since it was read is merged and written again (its own uncounted batch), until
  // none moved, so two members writing one window at once still leave the exact row.
  Status RecheckResults(Aggregate& agg);
  // Per partition, the end before which a state row of it may be deleted (DeleteFinalStates):
  // tumbling and hopping, one bound for all (a window must be final in every partition, since
  // its result merges them all), none while a partition has no watermark; sessions, each
  // partition's own (a session is one partition's).
  struct FinalBefore {
    std::optional<int64_t> all;
    std::unordered_map<int32_t, int64_t> by_partition;
    std::optional<int64_t> Of(int32_t partition) const;
    bool empty() const { return !all && by_partition.empty(); }
  };
  Result<FinalBefore> FinalBounds(Aggregate& agg);
  // Adds to `batch` the deletions of final state rows (FinalBefore).
  Status DeleteFinalStates(Aggregate& agg, StoreBatch* batch);
  // The sweep's page for this batch, if a pass runs (or is due): deletes the rows of windows
  // (sessions) ending before their partition's bound that no cache holds and final_states does
  // not list.
  Status Sweep(Aggregate& agg, const FinalBefore& final_before, StoreBatch* batch);
  // A window's ("s/...") or, for a session aggregate, a group's ("g/...") state key: its
  // partition, its cache key (a view into `key`) and, for a window, its end. False for others.
  static bool ParseEntryStateKey(const Aggregate& agg, std::string_view key, int32_t* partition,
                                 std::string_view* entry_key, int64_t* end);
  // A state row's JSON `row` (of `state_key`): its `through` and its state text (a view into the
  // parser's buffer, valid until the next parse).
  Status ParseStateRow(const Aggregate& agg, std::string_view state_key, std::string_view row,
                       int64_t* through, std::string_view* state);
  // The last session's end in a session group's state row `key` (`row`: its JSON); the
  // smallest int64 when it holds no session.
  Result<int64_t> SessionRowEnd(Aggregate& agg, std::string_view key, std::string_view row);
  // Moves the final entry `key` of `part` (partition `partition`) into its Kept states.
  void Keep(const Aggregate& agg, Partition& part, int32_t partition, const std::string& key,
            const Entry& e);
  // Whether `partition`'s cache holds the state of `window_key`.
  bool Cached(const Aggregate& agg, int32_t partition, std::string_view window_key) const;
  // Forgets the kept final state of `window_key` in `partition`: its row is being deleted.
  void ForgetKept(Aggregate& agg, int32_t partition, std::string_view window_key);
  // idle_after: raises the watermark of each idle partition held (see the header comment) and
  // adds its "w/" row to `batch`.
  Status AdvanceIdlePartitions(Aggregate& agg, StoreBatch* batch);
  // Adds the watermark row of `partition` to `batch`.
  static void WriteWatermarkRow(const Aggregate& agg, int32_t partition, const Partition& part,
                                StoreBatch* batch);
  // Adds the state table row `key` ({state_key, through, state}) to `batch`.
  static void AddStateRow(const Aggregate& agg, const std::string& key, int64_t through,
                          std::string_view state, StoreBatch* batch);
  // The topic's partition count, extended by any partition number this aggregate has seen.
  int32_t PartitionCount(const Aggregate& agg) const;
  // Adds to `batch` the cursor row at `position`, unless it holds that already.
  void StoreCursor(Aggregate& agg, const std::string& position, StoreBatch* batch);
  // Adds the deletion of a state row to `batch`.
  void DeleteState(const Aggregate& agg, const std::string& state_key, StoreBatch* batch);
  // Lists the state of `key` (a window key; a session aggregate's group key, whose last session
  // ended at `session_end`), evicted as final in `partition`, for deletion.
  void ListFinal(Aggregate& agg, int32_t partition, const std::string& key,
                 std::optional<int64_t> session_end);
  // The lowest watermark with which `partition`'s records may still be judged (kNoWatermark:
  // none yet).
  Result<int64_t> JudgingWatermark(Aggregate& agg, int32_t partition);
  void DropCaches();

  const ProcessConfig& config_;
  Store* store_;
  Clock* clock_;
  std::string topic_;
  int32_t partitions_;
  AggregateProbe* probe_;
  std::vector<Aggregate> aggregates_;
  std::unique_ptr<simdjson::dom::parser> parser_;
  std::unique_ptr<simdjson::dom::parser> state_parser_;
  bool pending_ = false;          // BeforeApply ran and AfterApply did not (yet)
  bool no_stored_state_ = false;  // StartFromNoState, until the first AfterApply
  uint64_t states_deleting_ = 0;  // state rows the pending batch deletes (for the probe)
  std::vector<int32_t> held_;     // OnPartitionsHeld's, for this batch
  int64_t held_at_us_ = 0;        // and when (MonotonicMicros; read with an idle_after only)
  size_t max_final_states_ = 100000;
  size_t sweep_rows_ = 1000;
  // Per record scratch.
  std::vector<Window> windows_;
  std::vector<InputValue> inputs_;
  std::vector<std::string> texts_;
  std::string group_key_, key_;
  std::vector<std::string> group_values_;
  std::vector<simdjson::dom::element> group_elements_;  // valid until the next parse
  std::vector<uint8_t> group_present_;
};

}  // namespace dataforge
