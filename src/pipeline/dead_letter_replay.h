// Replaying dead letters through the current mapping (`dataforge deadletter replay`,
// POST /v1/deadletters/replay; docs/serving.md "Dead letters").
//
// A replayed letter is mapped once more with the pipeline file's mapping as it is now (Mapper
// over the letter's record key and payload) and never stored twice:
//   - it maps: the row and the letter's replay marker are written together (Store::ApplyReplay),
//     outcome "stored"; the letter is not replayable again ("already replayed at ...").
//   - the mapping refuses it again: the marker records outcome "dead_lettered" and the new
//     reason; the letter stays a dead letter and can be replayed again after another fix.
//   - "refused", nothing written: a source-stage letter (it never reached the log: the staging
//     keeps it, the store's mapping never saw it), a letter already stored by a replay, a letter
//     that keeps only part of its record (too large) or no record key (written before letters
//     kept one), an out-of-place broadcast.
// With process.schema (process/row_schema.h), a letter that maps is validated like the processor
// validates rows: a row that fails stays a dead letter (outcome "dead_lettered") with the schema
// reason (class `schema`). A dry run (set_dry_run) maps and validates and writes nothing.
// Counters: the store moves a letter stored by a replay from dead_lettered to stored
// (StoreCounters::replayed), so stored + dead_lettered + lost == fetched stays exact.
// Thread-compatible: one thread uses a Replayer (its Mapper); the store is thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "config/pipeline_config.h"
#include "process/mapper.h"
#include "process/row_schema.h"
#include "process/wire_decoder.h"
#include "staging/staging.h"
#include "store/store.h"

namespace dataforge {

// A letter as the API and the CLI name it: "process:12" (the store's letter 12) or "source:4"
// (the staging's letter 4). A bare "12" is "process:12".
struct LetterId {
  std::string stage;  // "process" or "source"
  uint64_t id = 0;
  std::string Text() const { return stage + ":" + std::to_string(id); }
};
// InvalidArgument naming the text and the expected form.
Result<LetterId> ParseLetterId(std::string_view text);

struct ReplayResult {
  std::string id;       // "process:12"
  std::string outcome;  // "stored", "dead_lettered" or "refused"
  std::string key;      // "stored": the row key written
  std::string reason;   // "dead_lettered": the mapping's new reason; "refused": why, one line
};

class Replayer {
 public:
  // `store` is written (ApplyReplay) and must outlive the replayer; `staging` (may be null) is
  // only read, to tell a source letter's id exists. `schema`: process.schema bound
  // (BindRowSchema; null = rows are not validated). ConfigError for a bad mapping.
  static Result<std::unique_ptr<Replayer>> Create(const PipelineConfig& config, Store* store,
                                                  Staging* staging, Clock* clock,
                                                  std::shared_ptr<const RowSchema> schema = {});

  // Dry run: Run maps and validates, reports what would happen, and writes nothing.
  void set_dry_run(bool dry_run) { dry_run_ = dry_run; }

  // log.format confluent-*: letters of values the processor could not decode (their payload is
  // WirePayloadText, process/wire_decoder.h) are decoded with `decoder` (borrowed) before the
  // mapping; one that still does not decode is dead-lettered again with the reason. Without a
  // decoder such a letter is refused.
  void SetWireDecoder(WireDecoder* decoder);

  // The letters `ids` names, in order; InvalidArgument naming the ids that no letter has.
  // With `all`: every letter of `stage` ("process" when empty: every process letter not yet
  // stored by a replay, oldest first; "source": every staging letter, each refused). With ids,
  // `stage` ("" = any) must be each id's stage (InvalidArgument naming the others).
  // `reason_class` (common/dead_letter_reason.h; "" = any) keeps only the letters of that class;
  // InvalidArgument naming the classes for an unknown one.
  Status Select(const std::vector<LetterId>& ids, bool all, const std::string& reason_class,
                const std::string& stage = "");
  size_t selected() const { return selected_.size(); }

  // Replays the selected letters one by one; `progress(done, total)` after each (may be empty).
  // A runtime failure (the store) stops it: the results so far are in `*out`.
  Status Run(std::vector<ReplayResult>* out,
             const std::function<void(size_t, size_t)>& progress = {});

 private:
  struct Selected {
    LetterId id;
    std::optional<StoredDeadLetter> letter;  // null for a source letter
  };
  Replayer() = default;
  Result<ReplayResult> ReplayOne(const Selected& s);

  const PipelineConfig* config_ = nullptr;
  Store* store_ = nullptr;
  Staging* staging_ = nullptr;
  Clock* clock_ = nullptr;
  std::unique_ptr<Mapper> mapper_;
  WireDecoder* decoder_ = nullptr;
  std::unique_ptr<RowValidator> validator_;  // process.schema; null = not validated
  bool dry_run_ = false;
  std::vector<Selected> selected_;
};

// A letter's "replay" member in the API and `deadletter list`: null, or {"at_us":N,
// "outcome":"stored","key":"K"} / {"at_us":N,"outcome":"dead_lettered","key":"",
// "reason":"..."}.
std::string ReplayMarkerJson(const std::optional<ReplayMarker>& marker);

// "stored 3, dead-lettered again 1, refused 2 (of 6 letters)"; a dry run: "dry run, nothing
// written: would store 3, would dead-letter again 1, refused 2 (of 6 letters)".
std::string ReplaySummary(const std::vector<ReplayResult>& results, bool dry_run = false);

}  // namespace dataforge
