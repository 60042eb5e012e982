// `dataforge topic list|describe|consume`.
#include <signal.h>

#include <stop_token>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/read_only_backends.h"
#include "common/clock.h"
#include "common/json_writer.h"
#include "pipeline/log_format.h"
#include "process/wire_decoder.h"
#include "schedule/schedule.h"

namespace dataforge {
namespace {

// `decoder`: log.format confluent-* (the value decoded, with its schema id), else null.
std::string RecordJson(const std::string& topic, const ConsumedRecord& c, WireDecoder* decoder) {
  std::string headers = JsonObjectOfStrings(c.record.headers);
  DisplayedValue value = DisplayLogValue(decoder, c.record);
  JsonObjectWriter w;
  w.String("topic", topic)
      .Int("partition", c.partition)
      .Int("offset", c.offset)
      .Int("timestamp_us", c.record.timestamp_us)
      .String("key", c.record.key)
      .Raw("headers", headers)
      .Raw("value", value.json);
  if (value.schema_id >= 0) w.Int("schema_id", value.schema_id);
  if (!value.error.empty()) w.String("value_error", value.error);
  return w.Finish();
}

struct ConsumeOptions {
  std::string topic;
  bool from_beginning = false;
  std::string from_time;  // ISO 8601 or unix ms (ParseInstant); "" = none
  uint64_t max = 0;
  std::string group;
  int64_t timeout_ms = -1;
};

Status Consume(Log& log, WireDecoder* decoder, ConsumeOptions o) {
  std::optional<int64_t> from_us;
  if (!o.from_time.empty()) {
    auto t = ParseInstant(o.from_time);
    if (!t.ok()) return Status::ConfigError(fmt::format("--from-time: {}", t.status().message()));
    from_us = *t;
  }
  DF_ASSIGN_OR_RETURN(auto info, log.DescribeTopic(o.topic));
  size_t n = info.partitions.size();
  std::vector<int64_t> next(n);
  std::vector<std::optional<int64_t>> group_offsets;
  if (!o.from_beginning && !o.group.empty() && !from_us) {
    DF_ASSIGN_OR_RETURN(group_offsets, log.GroupOffsets(o.group, o.topic, static_cast<int32_t>(n)));
  }
  for (size_t p = 0; p < n; ++p) {
    const auto& part = info.partitions[p];
    next[p] = o.from_beginning ? part.start_offset : part.end_offset;
    if (from_us) {
      DF_ASSIGN_OR_RETURN(next[p], log.OffsetForTime(o.topic, part.partition, *from_us));
      continue;
    }
    if (p < group_offsets.size() && group_offsets[p]) next[p] = *group_offsets[p];
  }
  uint64_t printed = 0;
  int64_t idle_since = Clock::Real()->MonotonicMicros();
  std::vector<ConsumedRecord> batch;
  std::string out;
  while (o.max == 0 || printed < o.max) {
    bool any = false;
    for (size_t p = 0; p < n && (o.max == 0 || printed < o.max); ++p) {
      batch.clear();
      size_t want = o.max == 0 ? 1000 : std::min<uint64_t>(1000, o.max - printed);
      DF_RETURN_IF_ERROR(log.Read(o.topic, info.partitions[p].partition, next[p], want, &batch));
      for (const auto& c : batch) {
        out += RecordJson(o.topic, c, decoder);
        out += '\n';
        next[p] = c.offset + 1;
        ++printed;
      }
      any |= !batch.empty();
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    out.clear();
    int64_t now = Clock::Real()->MonotonicMicros();
    if (any) {
      idle_since = now;
      continue;
    }
    // Nothing new: --from-beginning without --max ends at the end; otherwise tail.
    if ((o.from_beginning || from_us) && o.max == 0 && o.timeout_ms < 0) break;
    if (o.timeout_ms >= 0 && now - idle_since >= o.timeout_ms * 1000) break;
    log.WaitForData(o.topic, info.partitions[0].partition, next[0], 100'000, std::stop_token());
  }
  return Status::OK();
}

}  // namespace

void AddTopicCommands(CLI::App& app, CliContext& ctx, int* exit_code) {
  auto* topic = app.add_subcommand("topic", "Read the log's topics");
  topic->require_subcommand(1);

  auto* list = topic->add_subcommand("list", "Print the topics, one per line");
  list->callback([&ctx, exit_code] {
    auto c = LoadConfig(ctx);
    if (!c.ok()) {
      *exit_code = ReportError(c.status());
      return;
    }
    auto log = OpenLogForReading(ctx, *c);
    if (!log.ok()) {
      *exit_code = ReportError(log.status());
      return;
    }
    auto topics = (*log)->ListTopics();
    if (!topics.ok()) {
      *exit_code = ReportError(topics.status());
      return;
    }
    for (const auto& t : *topics) fmt::print("{}\n", t);
    *exit_code = 0;
  });

  auto describe_topic = std::make_shared<std::string>();
  auto describe_group = std::make_shared<std::string>();
  auto* describe = topic->add_subcommand(
      "describe",
      "Print a topic's partitions as JSON lines: start/end offsets (end = high watermark), the "
      "consumer group's committed offset and its lag (and sizes, for the embedded log)");
  describe->add_option("TOPIC", *describe_topic, "Topic")->required();
  describe->add_option("--group", *describe_group,
                       "Consumer group whose lag to show (default: process.group)");
  describe->callback([&ctx, exit_code, describe_topic, describe_group] {
    auto c = LoadConfig(ctx);
    auto log = c.ok() ? OpenLogForReading(ctx, *c) : Result<std::unique_ptr<Log>>(c.status());
    if (!log.ok()) {
      *exit_code = ReportError(log.status());
      return;
    }
    auto info = (*log)->DescribeTopic(*describe_topic);
    if (!info.ok()) {
      *exit_code = ReportError(info.status());
      return;
    }
    std::string group = describe_group->empty() ? c->process.group : *describe_group;
    // The embedded log's group file is written lazily; its store holds the exact offsets.
    std::unique_ptr<Store> store;
    if (!(*log)->Shared()) {
      auto s = OpenStoreForReading(ctx, *c);
      if (s.ok()) store = std::move(s).value();
    }
    // The store's offsets of this log (another log's in a shared store are not its).
    std::string log_id;
    if (store) {
      auto id = (*log)->LogId(info->name);
      if (id.ok()) log_id = *id;
    }
    std::vector<std::optional<int64_t>> group_offsets;
    if (auto g =
            (*log)->GroupOffsets(group, info->name, static_cast<int32_t>(info->partitions.size()));
        g.ok()) {
      group_offsets = std::move(g).value();
    }
    for (const auto& p : info->partitions) {
      std::optional<int64_t> committed;
      if (static_cast<size_t>(p.partition) < group_offsets.size()) {
        committed = group_offsets[p.partition];
      }
      if (store) {
        auto own = store->CommittedOffset(group, info->name, p.partition, log_id);
        if (own.ok() && *own && (!committed || **own > *committed)) committed = *own;
      }
      int64_t done = std::max(committed.value_or(0), p.start_offset);
      JsonObjectWriter w;
      w.String("topic", info->name)
          .Int("partition", p.partition)
          .Int("start_offset", p.start_offset)
          .Int("end_offset", p.end_offset)
          .String("group", group);
      if (committed) {
        w.Int("committed", *committed);
      } else {
        w.Raw("committed", "null");
      }
      w.Int("lag", std::max<int64_t>(0, p.end_offset - done));
      if (!(*log)->Shared()) {
        w.Int("size_bytes", static_cast<int64_t>(p.size_bytes)).Int("segments", p.segments);
      }
      fmt::print("{}\n", w.Finish());
    }
    *exit_code = 0;
  });

  auto o = std::make_shared<ConsumeOptions>();
  auto* consume = topic->add_subcommand(
      "consume",
      "Print records of TOPIC as JSON lines. Without --from-beginning it waits for new records "
      "(Ctrl-C to stop); with it, it ends at the end of the topic");
  consume->add_option("TOPIC", o->topic, "Topic")->required();
  auto* beginning =
      consume->add_flag("--from-beginning", o->from_beginning, "Start at the oldest record");
  consume
      ->add_option("--from-time", o->from_time,
                   "Start, in each partition, at the first record with a timestamp at or after "
                   "TIME (ISO 8601, UTC without an offset, or Unix milliseconds); like "
                   "--from-beginning, it ends at the end of the topic")
      ->excludes(beginning);
  consume->add_option("--max", o->max, "Stop after this many records");
  consume->add_option("--group", o->group,
                      "Start at this consumer group's committed offsets (read-only)");
  consume->add_option("--timeout-ms", o->timeout_ms, "Stop after this long without new records");
  consume->callback([&ctx, exit_code, o] {
    auto c = LoadConfig(ctx);
    auto log = c.ok() ? OpenLogForReading(ctx, *c) : Result<std::unique_ptr<Log>>(c.status());
    if (!log.ok()) {
      *exit_code = ReportError(log.status());
      return;
    }
    // The pipeline's topic in a confluent log.format: values decoded by their schema ids.
    std::unique_ptr<registry::SchemaRegistry> registry;
    std::unique_ptr<WireDecoder> decoder;
    if (c->log.format != LogConfig::Format::kJson && o->topic == c->log.topic) {
      auto opened = OpenRegistryForReading(ctx, *c);
      if (!opened.ok()) {
        *exit_code = ReportError(opened.status());
        return;
      }
      registry = std::move(opened).value();  // null: no registry yet, values shown as they are
      if (registry) {
        decoder = std::make_unique<WireDecoder>(registry.get(), LogSchemaType(c->log.format));
      }
    }
    Status s = Consume(**log, decoder.get(), *o);
    *exit_code = s.ok() ? 0 : ReportError(s);
  });
}

}  // namespace dataforge
