#include "process/aggregate/aggregate_stage.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <limits>

#include <fmt/format.h>

#include "common/base64.h"
#include "common/json_writer.h"
#include "common/timestamp.h"
#include "process/aggregate/aggregate_keys.h"
#include "schedule/schedule.h"

namespace dataforge {
namespace {

using simdjson::dom::element;

// A group value inside a window key: strings as they are with '|' and '\' escaped, null as \N,
// other values as their JSON text.
void AppendGroupPart(std::string* key, const element* v) {
  if (v == nullptr) {
    key->append("\\N");
    return;
  }
  if (!v->is_string()) {
    key->append(simdjson::minify(*v));
    return;
  }
  for (char c : std::string_view(v->get_string().value_unsafe())) {
    if (c == '|' || c == '\\') key->push_back('\\');
    key->push_back(c);
  }
}

bool LookupColumn(const simdjson::dom::object& row, std::string_view name, element* out) {
  return row.at_key(name).get(*out) == simdjson::SUCCESS && !out->is_null();
}

}  // namespace

std::string AggregateStateTable(const std::string& result_table) {
  return result_table + "_state";
}

Result<TableSchema> AggregateResultSchema(const AggregateSpec& spec, const ProcessConfig& config) {
  TableSchema s;
  s.table = spec.table;
  s.key_column = "window_key";
  s.columns.push_back({"window_key", "text"});
  for (const auto& g : spec.group_by) {
    auto c = std::find_if(config.columns.begin(), config.columns.end(),
                          [&](const ColumnSpec& cs) { return cs.name == g; });
    s.columns.push_back({g, c == config.columns.end() ? "text" : c->type});
  }
  s.columns.push_back({"window_start", "timestamp"});
  s.columns.push_back({"window_end", "timestamp"});
  DF_ASSIGN_OR_RETURN(auto defs, ResolveValues(spec, config.columns));
  for (const auto& d : defs) s.columns.push_back({d.name, d.result_type});
  return s;
}

TableSchema AggregateStateSchema(const AggregateSpec& spec) {
  return {AggregateStateTable(spec.table),
          "state_key",
          {{"state_key", "text"}, {"through", "bigint"}, {"state", "text"}}};
}

AggregateStage::AggregateStage(const ProcessConfig& config, Store* store, Clock* clock,
                               std::string topic, int32_t partitions, AggregateProbe* probe)
    : config_(config),
      store_(store),
      clock_(clock),
      topic_(std::move(topic)),
      partitions_(partitions),
      probe_(probe),
      parser_(std::make_unique<simdjson::dom::parser>()),
      state_parser_(std::make_unique<simdjson::dom::parser>()) {}

AggregateStage::~AggregateStage() = default;

Result<std::unique_ptr<AggregateStage>> AggregateStage::Create(const ProcessConfig& config,
                                                               Store* store, Clock* clock,
                                                               std::string topic,
                                                               int32_t partitions,
                                                               AggregateProbe* probe) {
  std::unique_ptr<AggregateStage> stage(
      new AggregateStage(config, store, clock, std::move(topic), partitions, probe));
  for (const auto& spec : config.aggregates) {
    Aggregate agg;
    agg.spec = &spec;
    auto defs = ResolveValues(spec, config.columns);
    if (!defs.ok()) {
      return Status::ConfigError(
          fmt::format("aggregate {}: {}", spec.table, defs.status().message()));
    }
    agg.defs = std::move(*defs);
    agg.state_table = AggregateStateTable(spec.table);
    agg.session = spec.window.type == "session";
    // Sessions too (config refuses late: update for them; a late: update session, as a bench
    // builds one, keeps its rows: a late record reloads its group).
    agg.purge = spec.late == "deadletter" || spec.late_update_for_ms;
    agg.purge_after_ms = spec.lateness_ms + spec.late_update_for_ms.value_or(0);
    agg.max_kept_bytes = static_cast<size_t>(spec.max_final_state_bytes);
    if (agg.purge) agg.sweep_after = "";
    stage->aggregates_.push_back(std::move(agg));
  }
  return stage;
}

Status AggregateStage::EnsureTables() {
  for (const auto& agg : aggregates_) {
    DF_ASSIGN_OR_RETURN(TableSchema result, AggregateResultSchema(*agg.spec, config_));
    DF_RETURN_IF_ERROR(store_->EnsureTable(result));
    DF_RETURN_IF_ERROR(store_->EnsureTable(AggregateStateSchema(*agg.spec)));
  }
  return Status::OK();
}

void AggregateStage::StartFromNoState() {
  no_stored_state_ = true;
  for (auto& agg : aggregates_) {  // the first batch empties the tables: nothing to sweep
    agg.sweep_after.reset();
    agg.next_sweep_end.clear();
  }
}

void AggregateStage::DropCaches() {
  for (auto& agg : aggregates_) {
    agg.partitions.clear();
    agg.touched.clear();
    agg.touched_windows.clear();
    agg.rechecks.clear();
    // The failed batch's deletions were taken off final_states: sweep for them again.
    if (agg.purge) {
      agg.sweep_after = "";
      agg.sweep_min_end.clear();
      // The failed batch may have moved the cursor row or not: read it again.
      agg.cursor_read = false;
      agg.then_whole_pass = false;
    }
  }
  probe_->windows_open = 0;
  probe_->final_states_kept = 0;
  probe_->final_state_bytes_kept = 0;
  states_deleting_ = 0;
}

void AggregateStage::OnResume(int32_t partition, std::optional<int64_t> next_offset) {
  (void)next_offset;
  for (auto& agg : aggregates_) {
    agg.partitions.erase(partition);
    agg.last_record_us.erase(partition);  // held again: idle_after counts from now
    agg.idle.erase(partition);
  }
}

std::vector<std::string> AggregateStage::Tables() const {
  std::vector<std::string> tables;
  for (const Aggregate& agg : aggregates_) {
    tables.push_back(agg.spec->table);
    tables.push_back(agg.state_table);
  }
  return tables;
}

Result<bool> AggregateStage::ReadState(Aggregate& agg, const std::string& state_key,
                                       int64_t* through, std::string* state) {
  if (no_stored_state_) return false;
  Result<std::string> row = store_->Get(agg.state_table, state_key);
  if (!row.ok()) {
    if (row.status().code() == StatusCode::kNotFound) return false;
    return row.status().WithContext(
        fmt::format("aggregate {}: reading state {}", agg.spec->table, state_key));
  }
  std::string_view text;
  DF_RETURN_IF_ERROR(ParseStateRow(agg, state_key, *row, through, &text));
  state->assign(text);
  return true;
}

Status AggregateStage::ParseStateRow(const Aggregate& agg, std::string_view state_key,
                                     std::string_view row, int64_t* through,
                                     std::string_view* state) {
  simdjson::dom::object obj;
  if (state_parser_->parse(row.data(), row.size()).get(obj) != simdjson::SUCCESS ||
      obj["through"].get(*through) != simdjson::SUCCESS ||
      obj["state"].get(*state) != simdjson::SUCCESS) {
    return Status::Corruption(
        fmt::format("aggregate {}: state row {} of {} is not "
                    "{{\"through\":N,\"state\":\"...\"}}: {}",
                    agg.spec->table, state_key, agg.state_table, row.substr(0, 200)));
  }
  return Status::OK();
}

Result<AggregateStage::Partition*> AggregateStage::LoadPartition(Aggregate& agg,
                                                                 int32_t partition) {
  Partition& part = agg.partitions[partition];
  if (part.loaded) return &part;
  part.watermark = part.base_watermark = kNoWatermark;
  int64_t through = 0;
  std::string text;
  DF_ASSIGN_OR_RETURN(bool found, ReadState(agg, fmt::format("w/{}", partition), &through, &text));
  if (found) {
    if (!ParseWatermarkRow(text, &part.watermark, &part.base_offset, &part.base_watermark)) {
      return Status::Corruption(fmt::format("aggregate {}: watermark row w/{} holds '{}'",
                                            agg.spec->table, partition, text));
    }
    part.through = through;
  }
  part.fresh = !found;
  part.loaded = true;
  return &part;
}

std::array<uint64_t, AggregateStage::EvictedKeys::kProbes> AggregateStage::EvictedKeys::Bits(
    std::string_view key) {
  const uint64_t h = HashValue(key), step = (h >> 32) | 1;
  std::array<uint64_t, kProbes> bits;
  for (int i = 0; i < kProbes; ++i) bits[i] = (h + static_cast<uint64_t>(i) * step) % kBits;
  return bits;
}

void AggregateStage::EvictedKeys::Add(std::string_view key) {
  if (words_.empty()) words_.assign(kBits / 64, 0);
  bool added = false;
  for (uint64_t bit : Bits(key)) {
    uint64_t& word = words_[bit / 64];
    const uint64_t mask = uint64_t{1} << (bit % 64);
    added |= !(word & mask);
    word |= mask;
  }
  if (added) ++count_;  // a key evicted again (reloaded by a late record) is not counted twice
}

bool AggregateStage::EvictedKeys::MayContain(std::string_view key) const {
  if (words_.empty()) return false;
  for (uint64_t bit : Bits(key)) {
    if (!(words_[bit / 64] & (uint64_t{1} << (bit % 64)))) return false;
  }
  return true;
}

bool AggregateStage::Kept::Take(const std::string& key, KeptState* out) {
  if (auto it = recent.find(key); it != recent.end()) {
    recent_bytes -= std::min(recent_bytes, Cost(key, it->second));
    *out = std::move(it->second);
    recent.erase(it);
    return true;
  }
  if (auto it = older.find(key); it != older.end()) {
    older_bytes -= std::min(older_bytes, Cost(key, it->second));
    *out = std::move(it->second);
    older.erase(it);
    return true;
  }
  return false;
}

void AggregateStage::Keep(const Aggregate& agg, Partition& part, int32_t partition,
                          const std::string& key, const Entry& e) {
  Kept& kept = part.kept;
  KeptState state{e.in_store ? EncodeState(agg.defs, e.state) : std::string(), e.through,
                  e.in_store};
  // A key is in one generation at most: LoadEntry took it out before the entry came back.
  kept.recent_bytes += Kept::Cost(key, state);
  kept.recent.insert_or_assign(key, std::move(state));
  const size_t budget = agg.max_kept_bytes / 2 / static_cast<size_t>(std::max(partitions_, 1));
  if (kept.recent_bytes <= budget) return;
  // `older` is forgotten: its states are read from the store again when needed.
  for (const auto& [k, old] : kept.older) {
    if (old.in_store && part.fresh) part.RememberEvicted(PartitionPrefix('s', partition) + k);
  }
  kept.older = std::move(kept.recent);
  kept.recent.clear();
  kept.older_bytes = kept.recent_bytes;
  kept.recent_bytes = 0;
}

Result<AggregateStage::Entry*> AggregateStage::LoadEntry(Aggregate& agg, Partition& part,
                                                         int32_t partition,
                                                         const std::string& key) {
  auto [it, fresh] = part.entries.try_emplace(key);
  Entry& e = it->second;
  if (!fresh) return &e;
  int64_t through = 0;
  std::string text;
  std::string state_key = PartitionPrefix(agg.session ? 'g' : 's', partition) + key;
  Result<bool> found = false;
  std::optional<std::string> bytes;
  KeptState kept;
  if (part.kept.Take(key, &kept)) {
    found = kept.in_store;
    through = kept.through;
    bytes = std::move(kept.bytes);
  } else if (!part.fresh || part.evicted.MayContain(state_key)) {
    found = ReadState(agg, state_key, &through, &text);
    if (found.ok() && *found) bytes = Base64Decode(text);
  }
  if (!found.ok()) {
    part.entries.erase(it);
    return found.status();
  }
  Status decoded = Status::OK();
  if (*found) {
    if (!bytes) {
      decoded = Status::Corruption("not base64");
    } else if (agg.session) {
      decoded = DecodeSessions(agg.defs, *bytes, &e.sessions);
    } else {
      decoded = DecodeState(agg.defs, *bytes, &e.state);
    }
    e.through = through;
    e.in_store = true;
  } else if (!agg.session) {
    e.state = NewState(agg.defs);
  }
  if (!decoded.ok()) {
    part.entries.erase(it);
    return decoded.WithContext(fmt::format("aggregate {}: state row {} of {}", agg.spec->table,
                                           state_key, agg.state_table));
  }
  if (agg.session && part.watermark != kNoWatermark) {
    e.sessions.DropEndingBefore(part.watermark - agg.spec->lateness_ms);  // final: done
  }
  ++probe_->windows_open;
  return &e;
}

Status AggregateStage::OnRow(const ConsumedRecord& record, const MapResult& mapped,
                             const RowWrite& row, StoreBatch* batch) {
  (void)mapped;
  if (pending_) {  // the last batch failed after BeforeApply: the caches may hold its records
    DropCaches();
    pending_ = false;
  }
  if (row.deleted || aggregates_.empty()) return Status::OK();  // a delete is not an event
  element root;
  if (parser_->parse(row.row_json).get(root) != simdjson::SUCCESS || !root.is_object()) {
    return Status::Internal(fmt::format("aggregates: the mapped row is not a JSON object: {}",
                                        row.row_json.substr(0, 200)));
  }
  for (auto& agg : aggregates_) DF_RETURN_IF_ERROR(Aggregate1(agg, record, root, batch));
  return Status::OK();
}

Status AggregateStage::Aggregate1(Aggregate& agg, const ConsumedRecord& record, const element& root,
                                  StoreBatch* batch) {
  const AggregateSpec& spec = *agg.spec;
  simdjson::dom::object row = root.get_object().value_unsafe();
  auto letter = [&](std::string reason) {
    batch->dead_letters.push_back({"process", std::move(reason),
                                   fmt::format("{}/{}@{}", topic_, record.partition, record.offset),
                                   record.record.value, clock_->NowMicros(), record.record.key});
  };
  // The event time.
  int64_t t = 0;
  if (spec.window.time_column.empty()) {
    t = clock_->NowMicros() / 1000;
  } else {
    element v;
    std::string_view text;
    std::optional<int64_t> ms;
    if (LookupColumn(row, spec.window.time_column, &v) && v.get(text) == simdjson::SUCCESS) {
      ms = ParseTimestampMillis(text);
    }
    if (!ms) {
      ++probe_->no_event_time;
      letter(
          fmt::format("aggregate {}: the record has no event time: column '{}' is null or "
                      "missing (give it a value, or filter such records with process.where)",
                      spec.table, spec.window.time_column));
      return Status::OK();
    }
    t = *ms;
  }
  // The group: its key now, the values' JSON text only for a state met for the first time.
  std::string& group_key = group_key_;
  std::vector<std::string>& group_values = group_values_;
  group_key.clear();
  group_values.resize(spec.group_by.size());
  group_elements_.resize(spec.group_by.size());
  group_present_.resize(spec.group_by.size());
  for (size_t i = 0; i < spec.group_by.size(); ++i) {
    if (i > 0) group_key.push_back('|');
    element& v = group_elements_[i];
    group_present_[i] = LookupColumn(row, spec.group_by[i], &v);
    AppendGroupPart(&group_key, group_present_[i] ? &v : nullptr);
  }
  auto describe_group = [&] {
    for (size_t i = 0; i < group_values.size(); ++i) {
      if (group_present_[i]) {
        group_values[i] = simdjson::minify(group_elements_[i]);
      } else {
        group_values[i] = "null";
      }
    }
  };
  // The values.
  inputs_.assign(agg.defs.size(), InputValue{});
  texts_.resize(agg.defs.size());
  for (size_t k = 0; k < agg.defs.size(); ++k) {
    const ValueDef& def = agg.defs[k];
    if (def.of.empty()) continue;
    element v;
    if (!LookupColumn(row, def.of, &v)) continue;
    InputValue& in = inputs_[k];
    if (def.fn == AggFn::kCountDistinct || def.kind == ValueKind::kText) {
      std::string_view s;
      if (v.get(s) == simdjson::SUCCESS) {
        in.text = s;
      } else {
        texts_[k] = simdjson::minify(v);
        in.text = texts_[k];
      }
      in.null = false;
    } else if (def.kind == ValueKind::kInteger) {
      if (v.get(in.i) == simdjson::SUCCESS) in.null = false;
    } else {
      std::string_view s;
      if (v.get(in.d) == simdjson::SUCCESS) {
        in.null = false;
      } else if (v.get(s) == simdjson::SUCCESS) {  // a decimal as text
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), in.d);
        in.null = ec != std::errc() || p != s.data() + s.size();
      }
    }
  }
  // The watermark and lateness.
  DF_ASSIGN_OR_RETURN(Partition * part, LoadPartition(agg, record.partition));
  if (!part->in_batch) {
    part->in_batch = true;
    if (record.offset < part->through && part->base_offset >= 0 &&
        record.offset >= part->base_offset) {
      // A replay of a batch whose watermark row was written: judge it as it was judged then.
      part->watermark = part->base_watermark;
    }
    part->base_offset = record.offset;
    part->base_watermark = part->watermark;
  }
  const int64_t watermark = part->watermark;
  const bool late = watermark != kNoWatermark && t < watermark - spec.lateness_ms;
  // late: update with late_update_for: past it the window's state may be deleted.
  const bool too_late = late && spec.late_update_for_ms && t < watermark - agg.purge_after_ms;
  part->watermark = std::max(part->watermark, t);
  part->through = std::max(part->through, record.offset + 1);
  if (agg.session) {
    // One entry per group; sessions inside it.
  } else {
    AssignWindows(spec.window, t, &windows_);
  }
  if (late) {
    ++probe_->late;
    if (spec.late == "deadletter" || too_late) {
      ++probe_->late_dead_lettered;
      std::string window =
          agg.session
              ? fmt::format("a session of gap {}", FormatDuration(spec.window.gap_ms * 1000))
              : fmt::format("window [{}, {})", FormatTimestampMillis(windows_[0].start_ms),
                            FormatTimestampMillis(windows_[0].end_ms));
      std::string behind = fmt::format("the lateness {}", FormatDuration(spec.lateness_ms * 1000));
      const char* fix = "set late: update to apply such records, or a larger lateness";
      if (too_late) {
        behind +=
            fmt::format(" and late_update_for {}", FormatDuration(*spec.late_update_for_ms * 1000));
        fix =
            "a window's state is deleted once it is final for late_update_for: set a longer "
            "late_update_for to apply such records";
      }
      letter(
          fmt::format("aggregate {}: late record: event time {} is more than {} behind the "
                      "watermark {} of partition {} ({} of group '{}'; {})",
                      spec.table, FormatTimestampMillis(t), behind,
                      FormatTimestampMillis(watermark), record.partition, window, group_key, fix));
      return Status::OK();
    }
  }
  auto touch = [&](Entry* e, const std::string& key) {
    e->through = record.offset + 1;
    if (!e->dirty) {
      e->dirty = true;
      agg.touched.emplace_back(record.partition, key);
    }
  };
  if (agg.session) {
    DF_ASSIGN_OR_RETURN(Entry * e, LoadEntry(agg, *part, record.partition, group_key));
    if (record.offset < e->through) return Status::OK();  // in the stored state already
    e->group_key = group_key;
    describe_group();
    e->group_values = group_values;
    e->described = true;
    Session* s =
        e->sessions.Add(t, spec.window.gap_ms, agg.defs, spec.distinct_exact_limit, &e->replaced);
    Update(agg.defs, inputs_, spec.distinct_exact_limit, &s->state);
    touch(e, group_key);
    return Status::OK();
  }
  for (const Window& w : windows_) {
    std::string& key = key_;
    key.assign(group_key);
    key.push_back('|');
    key += FormatTimestampMillis(w.start_ms);
    DF_ASSIGN_OR_RETURN(Entry * e, LoadEntry(agg, *part, record.partition, key));
    if (record.offset < e->through) continue;  // in the stored state already
    if (!e->described) {
      e->described = true;
      e->window = w;
      e->group_key = group_key;
      describe_group();
      e->group_values = group_values;
    }
    Update(agg.defs, inputs_, spec.distinct_exact_limit, &e->state);
    touch(e, key);
    agg.touched_windows.insert(key);
  }
  return Status::OK();
}

Status AggregateStage::BeforeApply(StoreBatch* batch) {
  if (pending_) DropCaches();  // a failed batch and no OnRow since
  pending_ = true;
  for (auto& agg : aggregates_) {
    DF_RETURN_IF_ERROR(AdvanceIdlePartitions(agg, batch));  // before DeleteFinalStates reads them
    DF_RETURN_IF_ERROR(DeleteFinalStates(agg, batch));      // before WriteResults ends the batch
    DF_RETURN_IF_ERROR(WriteResults(agg, batch));
  }
  int64_t idle = 0;
  for (const auto& agg : aggregates_) idle += static_cast<int64_t>(agg.idle.size());
  probe_->idle_partitions = idle;
  return Status::OK();
}

Status AggregateStage::WriteResults(Aggregate& agg, StoreBatch* batch) {
  const AggregateSpec& spec = *agg.spec;
  auto result_row = [&](const std::string& key, const Entry& e, const Window& window,
                        const AggState& state) {
    batch->rows.push_back(
        {key, ResultRow(agg, key, e.group_values, window, state), false, true, spec.table});
    ++probe_->results_written;
  };
  // Watermarks of the partitions in the batch.
  for (auto& [p, part] : agg.partitions) {
    if (part.in_batch) WriteWatermarkRow(agg, p, part, batch);
  }
  // State rows (and, for sessions, their result rows: a session is one partition's).
  agg.rechecks.clear();
  std::unordered_map<std::string, const Entry*> results;
  for (const auto& [p, key] : agg.touched) {
    Entry& e = agg.partitions[p].entries[key];
    e.dirty = false;
    e.in_store = true;
    std::string encoded =
        agg.session ? EncodeSessions(agg.defs, e.sessions) : EncodeState(agg.defs, e.state);
    AddStateRow(agg, PartitionPrefix(agg.session ? 'g' : 's', p) + key, e.through,
                Base64Encode(encoded), batch);
    if (!agg.session) {
      results.emplace(key, &e);
      continue;
    }
    auto session_key = [&](const Window& w) {
      return fmt::format("{}|{}|p{}", key, FormatTimestampMillis(w.start_ms), p);
    };
    for (const Window& gone : e.replaced) {
      bool still =
          std::any_of(e.sessions.sessions().begin(), e.sessions.sessions().end(),
                      [&](const Session& s) { return s.window.start_ms == gone.start_ms; });
      if (!still) batch->rows.push_back({session_key(gone), "", true, false, spec.table});
    }
    e.replaced.clear();
    // Only the sessions this batch changed: a group's other sessions' rows are current.
    for (Session& s : e.sessions.sessions()) {
      if (!s.changed) continue;
      s.changed = false;
      result_row(session_key(s.window), e, s.window, s.state);
    }
  }
  agg.touched.clear();
  // Result rows: the merge of every partition's state of the window.
  std::vector<int32_t> owned;
  for (const auto& [p, part] : agg.partitions) {
    if (part.in_batch) owned.push_back(p);
  }
  for (const auto& [key, entry] : results) {
    Recheck r{key, entry->window, entry->group_values, owned, {}};
    DF_ASSIGN_OR_RETURN(AggState merged, MergeWindow(agg, key, entry->window, owned, &r.foreign));
    result_row(key, *entry, entry->window, merged);
    if (!r.foreign.empty()) agg.rechecks.push_back(std::move(r));
  }
  agg.touched_windows.clear();
  for (auto& [p, part] : agg.partitions) part.in_batch = false;
  return Status::OK();
}

void AggregateStage::AddStateRow(const Aggregate& agg, const std::string& key, int64_t through,
                                 std::string_view state, StoreBatch* batch) {
  JsonObjectWriter w;
  w.String("state_key", key).Int("through", through).String("state", state);
  batch->rows.push_back({key, w.Finish(), false, true, agg.state_table});
}

int32_t AggregateStage::PartitionCount(const Aggregate& agg) const {
  int32_t partitions = partitions_;
  for (const auto& [p, part] : agg.partitions) partitions = std::max(partitions, p + 1);
  return partitions;
}

std::string AggregateStage::ResultRow(const Aggregate& agg, const std::string& key,
                                      const std::vector<std::string>& group_values,
                                      const Window& window, const AggState& state) {
  const AggregateSpec& spec = *agg.spec;
  JsonObjectWriter w;
  w.String("window_key", key);
  for (size_t i = 0; i < spec.group_by.size(); ++i) w.Raw(spec.group_by[i], group_values[i]);
  w.String("window_start", FormatTimestampMillis(window.start_ms));
  w.String("window_end", FormatTimestampMillis(window.end_ms));
  AppendResults(agg.defs, state, &w);
  return w.Finish();
}

Result<AggState> AggregateStage::MergeWindow(Aggregate& agg, const std::string& key,
                                             const Window& window,
                                             const std::vector<int32_t>& owned,
                                             std::vector<std::pair<int32_t, int64_t>>* foreign) {
  const AggregateSpec& spec = *agg.spec;
  const int32_t partitions = PartitionCount(agg);
  foreign->clear();
  AggState merged = NewState(agg.defs);
  std::string text;
  for (int32_t q = 0; q < partitions; ++q) {
    if (std::find(owned.begin(), owned.end(), q) != owned.end()) {
      Partition& part = agg.partitions[q];
      if (part.fresh && !part.entries.contains(key) && !part.kept.Contains(key) &&
          !part.evicted.MayContain(PartitionPrefix('s', q) + key)) {
        continue;  // no state of this window in q (see Partition::fresh): nothing to merge
      }
      DF_ASSIGN_OR_RETURN(Entry * e, LoadEntry(agg, part, q, key));
      if (!e->described) e->window = window;  // loaded here: for eviction
      MergeInto(agg.defs, e->state, spec.distinct_exact_limit, &merged);
      continue;
    }
    // Another member's partition (or one without records in this batch): its row in the store.
    int64_t through = 0;
    std::string state_key = PartitionPrefix('s', q) + key;
    DF_ASSIGN_OR_RETURN(bool found, ReadState(agg, state_key, &through, &text));
    foreign->emplace_back(q, found ? through : -1);
    if (!found) continue;
    std::optional<std::string> bytes = Base64Decode(text);
    AggState other;
    Status s = bytes ? DecodeState(agg.defs, *bytes, &other) : Status::Corruption("not base64");
    if (!s.ok()) {
      return s.WithContext(
          fmt::format("aggregate {}: state row {} of {}", spec.table, state_key, agg.state_table));
    }
    MergeInto(agg.defs, other, spec.distinct_exact_limit, &merged);
  }
  return merged;
}

Status AggregateStage::RecheckResults(Aggregate& agg) {
  std::string text;
  for (int round = 0; round < 5 && !agg.rechecks.empty(); ++round) {
    StoreBatch fix;
    fix.table = agg.spec->table;
    fix.counted = false;
    std::vector<Recheck> again;
    for (Recheck& r : agg.rechecks) {
      bool moved = false;
      for (const auto& [q, through] : r.foreign) {
        int64_t now = 0;
        DF_ASSIGN_OR_RETURN(bool found,
                            ReadState(agg, PartitionPrefix('s', q) + r.key, &now, &text));
        moved |= (found ? now : -1) != through;
      }
      if (!moved) continue;
      DF_ASSIGN_OR_RETURN(AggState merged, MergeWindow(agg, r.key, r.window, r.owned, &r.foreign));
      fix.rows.push_back({r.key, ResultRow(agg, r.key, r.group_values, r.window, merged), false,
                          true, agg.spec->table});
      again.push_back(std::move(r));
    }
    agg.rechecks = std::move(again);
    if (fix.rows.empty()) break;
    probe_->results_written += fix.rows.size();
    DF_RETURN_IF_ERROR(store_->Apply(fix).WithContext(
        fmt::format("aggregate {}: writing result rows merged again", agg.spec->table)));
  }
  agg.rechecks.clear();  // still moving after 5 rounds: the other member's next batch merges
  return Status::OK();
}

Status AggregateStage::AfterApply(const StoreBatch& batch) {
  (void)batch;
  pending_ = false;
  no_stored_state_ = false;  // the batch that emptied the tables is durable
  probe_->states_deleted += states_deleting_;
  states_deleting_ = 0;
  for (auto& agg : aggregates_) DF_RETURN_IF_ERROR(RecheckResults(agg));
  int64_t open = 0;
  for (auto& agg : aggregates_) {
    const int64_t lateness = agg.spec->lateness_ms;
    for (auto& [p, part] : agg.partitions) {
      if (part.watermark == kNoWatermark) {
        open += static_cast<int64_t>(part.entries.size());
        continue;
      }
      // Final: watermark > end + lateness, i.e. end < watermark - lateness.
      const int64_t final_before = part.watermark - lateness;
      for (auto it = part.entries.begin(); it != part.entries.end();) {
        Entry& e = it->second;
        bool final = false;
        std::optional<int64_t> session_end;  // the last session's (sessions end in order)
        if (agg.session) {
          if (!e.sessions.sessions().empty())
            session_end = e.sessions.sessions().back().window.end_ms;
          e.sessions.DropEndingBefore(final_before);
          final = e.sessions.sessions().empty();
        } else {
          final = e.window.end_ms < final_before;
        }
        if (final && agg.keep()) {
          Keep(agg, part, p, it->first, e);
        } else if (final && part.fresh) {  // (checked here too: no key built otherwise)
          part.RememberEvicted(PartitionPrefix(agg.session ? 'g' : 's', p) + it->first);
        }
        if (final && agg.purge && e.in_store) ListFinal(agg, p, it->first, session_end);
        it = final ? part.entries.erase(it) : std::next(it);
      }
      open += static_cast<int64_t>(part.entries.size());
    }
  }
  probe_->windows_open = open;
  int64_t kept_states = 0, kept_bytes = 0;
  for (const auto& agg : aggregates_) {
    for (const auto& [p, part] : agg.partitions) {
      kept_states += static_cast<int64_t>(part.kept.recent.size() + part.kept.older.size());
      kept_bytes += static_cast<int64_t>(part.kept.recent_bytes + part.kept.older_bytes);
    }
  }
  probe_->final_states_kept = kept_states;
  probe_->final_state_bytes_kept = kept_bytes;
  return Status::OK();
}

void AggregateStage::set_max_kept_bytes(size_t n) {
  for (auto& agg : aggregates_) agg.max_kept_bytes = n;
}

}  // namespace dataforge
