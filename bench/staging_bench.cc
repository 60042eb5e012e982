// The staging benchmark driver: generates N randomuser-like records once (the built-in API's
// generator, split into records by the HTTP source's parser, so key = login.uuid and raw = the
// minified JSON object text, the bytes the pipeline stages), then commits them in batches of B
// through OpenStaging() and prints records/s, per-batch commit latency, MB/s of raw JSON and
// peak RSS. Every backend gets the same records (same seed, same bytes).
//
//   build/bench/staging_bench --staging sqlite:///tmp/s.db --records 200000
//   build/bench/staging_bench --staging postgresql://u:p@127.0.0.1:5432/db --records 200000
//   build/bench/staging_bench --records 200000 --dump /tmp/records.copy   # only the dump
//
// --dump FILE writes the records as a COPY text-format file (key<TAB>raw per line) for the
// psql \copy ceiling in bench/postgres_bench.sh. Without --staging and without --dump the
// records go into a temporary SQLite file, removed after.
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/allocator.h"
#include "common/clock.h"
#include "common/latency_histogram.h"
#include "common/redact.h"
#include "config/pipeline_config.h"
#include "source/http/response_parser.h"
#include "source/mockapi/user_generator.h"
#include "staging/staging.h"

using namespace dataforge;

namespace {

constexpr int kPage = 5000;  // the generator's maximum results per page

double PeakRssMb() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// N records from pages of the deterministic generator (seed `seed`), in page order.
std::vector<SourceRecord> Generate(uint64_t n, const std::string& seed, uint64_t* dead) {
  std::vector<SourceRecord> out;
  out.reserve(n);
  SourceConfig config;  // key_paths = {"login.uuid"}, as the default pipeline
  ResponseParser parser(config);
  const int64_t fetched_at = Clock::Real()->NowMicros();
  std::vector<PageItem> items;
  for (int page = 1; out.size() < n; ++page) {
    mockapi::MockQuery q;
    q.results = kPage;
    q.seed = seed;
    q.page = page;
    items.clear();
    parser.Parse(mockapi::GenerateResponse(q), fmt::format("page {}", page), fetched_at, &items);
    for (auto& item : items) {
      if (item.dead) {
        ++*dead;
        continue;
      }
      if (out.size() < n) out.push_back(std::move(item.record));
    }
  }
  return out;
}

// COPY's text format: backslash, tab, newline and carriage return escaped.
void AppendCopyText(std::string* out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '\\':
        *out += "\\\\";
        break;
      case '\t':
        *out += "\\t";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      default:
        out->push_back(c);
    }
  }
}

bool Dump(const std::string& path, const std::vector<SourceRecord>& records) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(fopen(path.c_str(), "wb"), fclose);
  if (!f) {
    fmt::print(stderr, "staging_bench: cannot write {}: {}\n", path, strerror(errno));
    return false;
  }
  std::string line;
  for (const auto& r : records) {
    line.clear();
    AppendCopyText(&line, r.key);
    line.push_back('\t');
    AppendCopyText(&line, r.raw);
    line.push_back('\n');
    if (fwrite(line.data(), 1, line.size(), f.get()) != line.size()) {
      fmt::print(stderr, "staging_bench: writing {}: {}\n", path, strerror(errno));
      return false;
    }
  }
  if (fflush(f.get()) != 0) return false;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  dataforge::TuneAllocator();  // as the dataforge binary does
  CLI::App app{"DataForge staging benchmark: N records committed in batches through a staging"};
  std::string url;
  uint64_t records = 200000;
  int batch = 1000;
  std::string dump;
  std::string instance = "staging-bench";
  std::string seed = "bench";
  bool no_sync = false;
  app.add_option("--staging", url,
                 "Staging URL: sqlite:///path or postgresql://user:pass@host:port/db "
                 "(default: a temporary SQLite file; none with --dump alone)");
  app.add_option("--records", records, "Records to generate and commit")->capture_default_str();
  app.add_option("--batch", batch, "Records per committed batch")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--dump", dump,
                 "Also write the records as a COPY text file (key<TAB>raw) for psql \\copy");
  app.add_option("--instance", instance, "Staging instance name (PostgreSQL: the writer)")
      ->capture_default_str();
  app.add_option("--seed", seed, "Generator seed (the same seed gives the same bytes)")
      ->capture_default_str();
  app.add_flag("--no-sync", no_sync, "Commits not durable on return (synchronous_full=false)");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);

  auto t0 = std::chrono::steady_clock::now();
  uint64_t dead = 0;
  std::vector<SourceRecord> all = Generate(records, seed, &dead);
  uint64_t raw_bytes = 0;
  for (const auto& r : all) raw_bytes += r.raw.size();
  const double gen_s = Seconds(t0);
  const double rss_generated = PeakRssMb();
  fmt::print(
      "staging_bench: {} records (seed {}), {:.1f} MB of raw JSON ({:.0f} bytes/record), "
      "generated in {:.2f} s{}\n",
      all.size(), seed, raw_bytes / 1048576.0,
      all.empty() ? 0.0 : static_cast<double>(raw_bytes) / all.size(), gen_s,
      dead ? fmt::format(" ({} dead letters skipped)", dead) : "");

  if (!dump.empty()) {
    auto td = std::chrono::steady_clock::now();
    if (!Dump(dump, all)) return 1;
    fmt::print("  dump              {} (COPY text format, key<TAB>raw), {:.2f} s\n", dump,
               Seconds(td));
    if (url.empty()) return 0;
  }

  std::string temp_dir;
  if (url.empty()) {
    char tmpl[] = "/tmp/df_staging_bench_XXXXXX";
    temp_dir = mkdtemp(tmpl);
    url = "sqlite://" + temp_dir + "/staging.db";
  }
  // Removes the temporary SQLite staging on every way out (after the staging is closed).
  std::unique_ptr<std::string, void (*)(std::string*)> remove_temp(
      temp_dir.empty() ? nullptr : &temp_dir,
      [](std::string* d) { std::filesystem::remove_all(*d); });
  int rc = 0;
  {
    auto to = std::chrono::steady_clock::now();
    auto staging = OpenStaging(url, OpenMode::kReadWrite, /*synchronous_full=*/!no_sync, instance);
    if (!staging.ok()) {
      fmt::print(stderr, "staging_bench: open: {}\n", staging.status().ToString());
      return 1;
    }
    const double open_ms = Seconds(to) * 1000;
    auto before = (*staging)->Counters();
    if (!before.ok()) {
      fmt::print(stderr, "staging_bench: counters: {}\n", before.status().ToString());
      return 1;
    }

    LatencyHistogram latency;
    uint64_t batches = 0;
    SourceBatch b;
    // The relay's share of staging, as in the pipeline: every 200 ms the cursor is committed
    // over what was staged (PostgreSQL brings its upsert view up to date in that transaction),
    // on the relay's own connection, and once more at the end; the time includes it all.
    std::atomic<uint64_t> staged_seq{before->last_seq};
    std::atomic<bool> done{false};
    Status relay_status;
    uint64_t relayed = before->relay_cursor;
    auto advance = [&] {
      uint64_t to = staged_seq.load();
      if (to <= relayed || !relay_status.ok()) return;
      relay_status = (*staging)->CommitRelayCursor(to, to - relayed);
      relayed = to;
    };
    std::thread relay([&] {
      while (!done.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        advance();
      }
    });
    auto start = std::chrono::steady_clock::now();
    struct rusage cpu0 {};
    getrusage(RUSAGE_SELF, &cpu0);
    double busy_s = 0;
    for (size_t i = 0; i < all.size(); i += static_cast<size_t>(batch)) {
      size_t end = std::min(all.size(), i + static_cast<size_t>(batch));
      // Moved in and back out: no copy of the records outside the timed commit either.
      b.records.assign(std::make_move_iterator(all.begin() + static_cast<ptrdiff_t>(i)),
                       std::make_move_iterator(all.begin() + static_cast<ptrdiff_t>(end)));
      b.position = fmt::format("{{\"bench_batch\":{}}}", batches);
      auto c0 = std::chrono::steady_clock::now();
      auto seq = (*staging)->Commit("staging_bench", b);
      auto c1 = std::chrono::steady_clock::now();
      if (!seq.ok()) {
        fmt::print(stderr, "staging_bench: commit of batch {}: {}\n", batches,
                   seq.status().ToString());
        done = true;
        relay.join();
        return 1;
      }
      staged_seq = *seq;
      busy_s += std::chrono::duration<double>(c1 - c0).count();
      latency.Record(std::chrono::duration_cast<std::chrono::microseconds>(c1 - c0).count());
      std::move(b.records.begin(), b.records.end(), all.begin() + static_cast<ptrdiff_t>(i));
      ++batches;
    }
    done = true;
    relay.join();
    advance();
    const double total_s = Seconds(start);
    struct rusage cpu1 {};
    getrusage(RUSAGE_SELF, &cpu1);
    auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
    // The client's CPU while committing (this process: the commits, COPY encoding, libpq and the
    // relay thread), which the machine's load does not inflate the way it does wall time.
    const double cpu_s =
        secs(cpu1.ru_utime) - secs(cpu0.ru_utime) + secs(cpu1.ru_stime) - secs(cpu0.ru_stime);
    if (!relay_status.ok()) {
      fmt::print(stderr, "staging_bench: relay cursor: {}\n", relay_status.ToString());
      return 1;
    }
    auto after = (*staging)->Counters();
    if (!after.ok()) {
      fmt::print(stderr, "staging_bench: counters: {}\n", after.status().ToString());
      return 1;
    }
    const uint64_t staged = after->staged - before->staged;
    const double n = static_cast<double>(all.size());
    fmt::print("  staging           {} (instance {}), batch {}, {}\n", Redact(url), instance, batch,
               no_sync ? "synchronous off" : "durable commits (fsync / synchronous_commit=on)");
    fmt::print("  open              {:>10.1f} ms\n", open_ms);
    fmt::print("  duration          {:>10.2f} s  ({} batches; {:.2f} s inside Commit)\n", total_s,
               batches, busy_s);
    fmt::print("  records/s         {:>10.0f}\n", total_s > 0 ? n / total_s : 0.0);
    fmt::print("  client CPU        {:>10.2f} s  ({:.1f} us/record, user + system)\n", cpu_s,
               n > 0 ? cpu_s * 1e6 / n : 0.0);
    fmt::print("  MB/s (raw JSON)   {:>10.1f}\n",
               total_s > 0 ? static_cast<double>(raw_bytes) / 1048576.0 / total_s : 0.0);
    fmt::print("  commit p50        {:>10.2f} ms  (per batch of {})\n",
               latency.Percentile(50) / 1e3, batch);
    fmt::print("  commit p99        {:>10.2f} ms\n", latency.Percentile(99) / 1e3);
    fmt::print("  commit max        {:>10.2f} ms\n", latency.Max() / 1e3);
    fmt::print("  staged / keys     {:>10} / {} (this run / distinct keys in staging)\n", staged,
               after->distinct_keys);
    fmt::print("  peak RSS          {:>10.1f} MB  ({:.1f} MB after generating the records)\n",
               PeakRssMb(), rss_generated);
    if (staged != all.size()) {
      fmt::print(stderr, "staging_bench: staged {} of {} records\n", staged, all.size());
      rc = 1;
    }
  }
  return rc;
}
