#include "cli/top_view.h"

#include <simdjson.h>

#include <fmt/format.h>

#include "pipeline/pipeline.h"
#include "schedule/schedule.h"

namespace dataforge {
namespace {

int64_t Int(simdjson::dom::element e, std::string_view key) {
  int64_t v = 0;
  return e[key].get_int64().get(v) == simdjson::SUCCESS ? v : 0;
}

std::string Text(simdjson::dom::element e, std::string_view key) {
  std::string_view v;
  return e[key].get_string().get(v) == simdjson::SUCCESS ? std::string(v) : std::string();
}

Result<simdjson::dom::element> Parse(simdjson::dom::parser& parser, const std::string& body,
                                     const std::string& what) {
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    return Status::Corruption(fmt::format("{}: the answer is not a JSON object", what));
  }
  return doc;
}

}  // namespace

Status TopModel::Refresh(int64_t monotonic_us) {
  TopSample s;
  s.monotonic_us = monotonic_us;
  simdjson::dom::parser parser;
  {
    DF_ASSIGN_OR_RETURN(std::string body, get_("/v1/status"));
    DF_ASSIGN_OR_RETURN(auto st, Parse(parser, body, "GET /v1/status"));
    s.role = Text(st, "role");
    s.fetched = Int(st, "fetched");
    s.staged = Int(st, "staged");
    s.streamed = Int(st, "streamed");
    s.stored = Int(st, "stored");
    s.dead_lettered = Int(st, "dead_lettered");
    s.dead_lettered_source = Int(st, "dead_lettered_source");
    s.dead_lettered_process = Int(st, "dead_lettered_process");
    s.lost = Int(st, "lost");
    s.filtered = Int(st, "filtered");  // 0 from a server older than the field
    s.staging_lag = Int(st, "staging_lag");
    s.log_lag = Int(st, "log_lag");
    s.in_flight = Int(st, "in_flight");
    s.store_rows = Int(st, "store_rows");
    simdjson::dom::array parts;
    if (st["partitions"].get_array().get(parts) == simdjson::SUCCESS) {
      for (auto p : parts) {
        s.partitions.push_back({Int(p, "partition"), Int(p, "start_offset"), Int(p, "end_offset"),
                                Int(p, "processed_offset"), Int(p, "lag"), Int(p, "lost")});
      }
    }
  }
  {
    DF_ASSIGN_OR_RETURN(std::string body, get_("/v1/dags"));
    DF_ASSIGN_OR_RETURN(auto doc, Parse(parser, body, "GET /v1/dags"));
    simdjson::dom::array dags;
    if (doc["dags"].get_array().get(dags) == simdjson::SUCCESS) {
      for (auto d : dags) {
        bool paused = false;
        if (d["paused"].get_bool().get(paused) != simdjson::SUCCESS) paused = false;
        s.dags.push_back(
            {Text(d, "dag_id"), Text(d, "last_run_state"), Text(d, "next_run_due"), paused});
      }
    }
  }
  {
    DF_ASSIGN_OR_RETURN(std::string body, get_(fmt::format("/v1/runs?limit={}", kRunsShown)));
    DF_ASSIGN_OR_RETURN(auto doc, Parse(parser, body, "GET /v1/runs"));
    simdjson::dom::array runs;
    if (doc["runs"].get_array().get(runs) == simdjson::SUCCESS) {
      for (auto r : runs) {
        ++s.runs_by_state[Text(r, "state")];
        ++s.runs_counted;
      }
    }
  }
  DF_RETURN_IF_ERROR(ReadDeadLetters());
  if (has_sample_) {
    previous_ = std::move(sample_);
    has_previous_ = true;
  }
  sample_ = std::move(s);
  has_sample_ = true;
  return Status::OK();
}

Status TopModel::ReadDeadLetters() {
  simdjson::dom::parser parser;
  for (int pages = 0; pages < 1000; ++pages) {
    std::string target = "/v1/deadletters?limit=1000";
    if (!letters_cursor_.empty()) target += "&cursor=" + letters_cursor_;
    DF_ASSIGN_OR_RETURN(std::string body, get_(target));
    DF_ASSIGN_OR_RETURN(auto doc, Parse(parser, body, "GET /v1/deadletters"));
    simdjson::dom::array list;
    if (doc["dead_letters"].get_array().get(list) == simdjson::SUCCESS) {
      for (auto d : list) {
        TopLetter l{Text(d, "stage"), Text(d, "reason"), Text(d, "location"), Int(d, "id"),
                    Int(d, "at_us")};
        auto seen = seen_id_.find(l.stage);
        if (seen != seen_id_.end() && l.id <= seen->second) continue;
        seen_id_[l.stage] = l.id;
        letters_.push_back(std::move(l));
        if (letters_.size() > kLettersShown) letters_.pop_front();
      }
    }
    std::string_view next;
    if (doc["next_cursor"].get_string().get(next) != simdjson::SUCCESS) break;  // the last page
    letters_cursor_ = std::string(next);
  }
  return Status::OK();
}

std::string TopModel::Render(const std::string& title) const {
  std::string out = title + "\n\n";
  if (!has_sample_) return out + "  (no sample yet)\n";
  const TopSample& s = sample_;
  double seconds =
      has_previous_ ? static_cast<double>(s.monotonic_us - previous_.monotonic_us) / 1e6 : 0;
  auto rate = [&](int64_t now, int64_t before) {
    if (!has_previous_ || seconds <= 0) return std::string("-");
    return fmt::format("{:.1f}", static_cast<double>(now - before) / seconds);
  };
  const TopSample& p = has_previous_ ? previous_ : s;
  out += fmt::format("  {:<14}{:>14}  {:>12}  {}\n", "STAGE", "RECORDS", "RATE/s", "LAG");
  auto line = [&](const char* name, int64_t now, int64_t before, const std::string& lag) {
    std::string text = fmt::format("  {:<14}{:>14}  {:>12}  {}", name, now, rate(now, before), lag);
    while (text.back() == ' ') text.pop_back();
    out += text + "\n";
  };
  line("fetched", s.fetched, p.fetched, "");
  line("staged", s.staged, p.staged, "");
  line("streamed", s.streamed, p.streamed,
       fmt::format("{} (staged, not yet in the log)", s.staging_lag));
  line("stored", s.stored, p.stored, fmt::format("{} (in the log, not yet processed)", s.log_lag));
  line("dead-lettered", s.dead_lettered, p.dead_lettered,
       fmt::format("(source {}, process {})", s.dead_lettered_source, s.dead_lettered_process));
  line("lost", s.lost, p.lost, "");
  if (s.filtered > 0) line("filtered", s.filtered, p.filtered, "(process.where dropped them)");
  RunTotals totals;
  totals.fetched = static_cast<uint64_t>(s.fetched);
  totals.stored = static_cast<uint64_t>(s.stored);
  totals.dead_lettered = static_cast<uint64_t>(s.dead_lettered);
  totals.lost = static_cast<uint64_t>(s.lost);
  totals.filtered = static_cast<uint64_t>(s.filtered);
  out += fmt::format("\n  {}\n", BalanceLine(totals, static_cast<uint64_t>(s.in_flight)));

  std::string lagging;
  size_t shown = 0, with_lag = 0;
  for (const auto& part : s.partitions) {
    if (part.lag == 0) continue;
    ++with_lag;
    if (shown++ >= 10) continue;
    lagging += fmt::format("  partition {:<4} lag {:>10}   offsets {}..{}, processed to {}{}\n",
                           part.partition, part.lag, part.start_offset, part.end_offset,
                           part.processed, part.lost ? fmt::format(", lost {}", part.lost) : "");
  }
  out += fmt::format("\nPARTITIONS WITH LAG ({} of {})\n", with_lag, s.partitions.size());
  out += with_lag == 0 ? "  none: every partition is processed to its end\n" : lagging;
  if (with_lag > 10) out += fmt::format("  ... and {} more\n", with_lag - 10);

  out += fmt::format("\nDAG RUNS (newest {}):", kRunsShown);
  if (s.runs_counted == 0) out += " none";
  for (const char* state : {"running", "queued", "success", "failed"}) {
    auto it = s.runs_by_state.find(state);
    if (it != s.runs_by_state.end()) out += fmt::format(" {} {}", state, it->second);
  }
  out += "\n";
  for (const auto& d : s.dags) {
    out += fmt::format("  {:<24} {:<7} last run {:<8} next due {}\n", d.id,
                       d.paused ? "paused" : "active",
                       d.last_run_state.empty() ? "-" : d.last_run_state,
                       d.next_run_due.empty() ? "never" : d.next_run_due);
  }

  out += "\nRECENT ERRORS (latest dead letters)\n";
  if (letters_.empty()) out += "  none\n";
  for (auto it = letters_.rbegin(); it != letters_.rend(); ++it) {
    std::string reason = it->reason.size() > 100 ? it->reason.substr(0, 97) + "..." : it->reason;
    out += fmt::format("  {} {}:{}  {}  at {}\n", FormatIso8601(it->at_us, "UTC"), it->stage,
                       it->id, reason, it->location);
  }
  return out;
}

}  // namespace dataforge
