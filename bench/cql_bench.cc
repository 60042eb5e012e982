// The Cassandra store and the CQL endpoint, measured on one machine:
//
//   1. writes: N mapped randomuser rows applied in batches (as the processor does: rows +
//      offsets + counters) to RocksDB directly, then through the Cassandra store over loopback
//      TCP to a CQL endpoint (dataforge's, over its own RocksDB) -> records/s, batch latency;
//   2. point reads: prepared `SELECT * ... WHERE id = ?` by random key with C requests in flight
//      for S seconds from the CQL client -> reads/s, latency p50/p99/max.
//
//   build/bench/cql_bench --records 100000                     # endpoint started in-process
//   build/bench/cql_bench --endpoint 127.0.0.1:9042            # a running `dataforge cql-serve`
//   bench/cql_bench.sh                                          # both, endpoint in its own process
//
// Peak RSS is this process's (with the in-process endpoint: client and endpoint together).
#include <simdjson.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "common/allocator.h"
#include "common/latency_histogram.h"
#include "config/pipeline_file.h"
#include "cql/client/session.h"
#include "process/mapper.h"
#include "process/processor.h"
#include "serve/cql/cql_engine.h"
#include "serve/cql/cql_server.h"
#include "source/mockapi/user_generator.h"
#include "store/store.h"

namespace dataforge {
namespace {

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

long PeakRssMb() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

// `records` rows of the default mapping from the built-in API's users, in batches.
std::vector<StoreBatch> MakeBatches(const PipelineConfig& config, int records, int batch) {
  auto mapper = Mapper::Create(config.process);
  if (!mapper.ok()) {
    fmt::print(stderr, "mapper: {}\n", mapper.status().ToString());
    std::exit(1);
  }
  std::vector<StoreBatch> out;
  simdjson::dom::parser parser;
  int made = 0;
  int64_t offset = 0;
  for (int page = 1; made < records; ++page) {
    std::string body = mockapi::GenerateResponse({500, "cql-bench", page, {}, "", {}, {}});
    simdjson::dom::element root;
    if (parser.parse(body).get(root) != simdjson::SUCCESS) std::exit(1);
    for (auto user : root["results"].get_array()) {
      if (made == records) break;
      if (out.empty() || static_cast<int>(out.back().rows.size()) == batch) {
        out.emplace_back();
        out.back().table = config.process.table;
        out.back().group = "bench";
      }
      std::string_view key = user["login"]["uuid"].get_string().value();
      MapResult m = mapper->Map(key, simdjson::minify(user));
      if (!m.ok) continue;
      StoreBatch& b = out.back();
      b.rows.push_back({std::move(m.key), std::move(m.row_json), false});
      ++offset;
      b.offsets = {{"users_created", 0, offset, b.rows.size(), 0}};
      ++made;
    }
  }
  return out;
}

struct WriteFigures {
  double records_per_s = 0;
  LatencyHistogram batch_us;
};

bool ApplyAll(Store* store, const PipelineConfig& config, const std::vector<StoreBatch>& batches,
              WriteFigures* f) {
  if (Status s = store->EnsureTable(OutputSchema(config.process)); !s.ok()) {
    fmt::print(stderr, "EnsureTable: {}\n", s.ToString());
    return false;
  }
  size_t n = 0;
  int64_t t0 = NowUs();
  for (const auto& b : batches) {
    int64_t b0 = NowUs();
    if (Status s = store->Apply(b); !s.ok()) {
      fmt::print(stderr, "Apply: {}\n", s.ToString());
      return false;
    }
    f->batch_us.Record(NowUs() - b0);
    n += b.rows.size();
  }
  f->records_per_s = static_cast<double>(n) / (static_cast<double>(NowUs() - t0) / 1e6);
  return true;
}

void PrintWrite(const char* name, const WriteFigures& f) {
  fmt::print("  {:<34} {:>9.0f} records/s   batch p50 {:>7.1f} ms  p99 {:>7.1f} ms\n", name,
             f.records_per_s, f.batch_us.Percentile(50) / 1000.0,
             f.batch_us.Percentile(99) / 1000.0);
}

}  // namespace
}  // namespace dataforge

int main(int argc, char** argv) {
  dataforge::TuneAllocator();  // as the dataforge binary does
  using namespace dataforge;
  CLI::App app{"CQL endpoint and Cassandra store benchmark"};
  int records = 100000, batch = 1000, concurrency = 32, connections = 2;
  double read_seconds = 10;
  std::string endpoint;
  bool no_fsync = false, no_direct = false;
  app.add_option("--records", records, "Rows to write")->capture_default_str();
  app.add_option("--batch", batch, "Rows per store batch")->capture_default_str();
  app.add_option("--endpoint", endpoint,
                 "host:port of a running CQL endpoint (default: start one in-process)");
  app.add_option("--concurrency", concurrency, "Point reads in flight")->capture_default_str();
  app.add_option("--connections", connections, "Client connections per host")
      ->capture_default_str();
  app.add_option("--read-seconds", read_seconds, "Length of the read phase")->capture_default_str();
  int max_in_flight = 128;
  app.add_option("--max-in-flight", max_in_flight,
                 "Cassandra store: requests in flight per connection")
      ->capture_default_str();
  app.add_flag("--no-fsync", no_fsync, "Stores do not fsync (RocksDB WAL sync off)");
  app.add_flag("--no-direct", no_direct, "Skip the RocksDB-direct write phase (for profiling)");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);

  char tmpl[] = "/tmp/df_cql_bench_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  PipelineConfig config = DefaultPipelineConfig();
  StoreOptions so;
  so.sync = !no_fsync;
  so.cassandra.connections_per_host = connections;
  so.cassandra.max_in_flight_per_connection = max_in_flight;
  auto batches = MakeBatches(config, records, batch);
  fmt::print("cql_bench: {} rows in batches of {}, fsync {}, endpoint {}\n", records, batch,
             no_fsync ? "off" : "per batch", endpoint.empty() ? "in-process" : endpoint);

  // 1a. RocksDB directly.
  WriteFigures direct;
  if (!no_direct) {
    auto s = OpenStore("rocksdb://" + dir + "/direct", OpenMode::kReadWrite, so);
    if (!s.ok() || !ApplyAll(s->get(), config, batches, &direct)) return 1;
    PrintWrite("RocksDB store, direct", direct);
  }

  // 1b. The Cassandra store through a CQL endpoint.
  std::unique_ptr<Store> endpoint_store;
  std::unique_ptr<cql::CqlEngine> engine;
  std::unique_ptr<cql::CqlServer> server;
  if (endpoint.empty()) {
    auto s = OpenStore("rocksdb://" + dir + "/endpoint", OpenMode::kReadWrite, so);
    if (!s.ok()) return 1;
    endpoint_store = std::move(s).value();
    engine = std::make_unique<cql::CqlEngine>(endpoint_store.get(), cql::EngineOptions{});
    cql::CqlServerOptions o;
    o.port = 0;
    server = std::make_unique<cql::CqlServer>(o);
    if (Status st = server->Listen(); !st.ok() || !server->Start(engine.get()).ok()) {
      fmt::print(stderr, "endpoint: {}\n", st.ToString());
      return 1;
    }
    endpoint = fmt::format("127.0.0.1:{}", server->port());
  }
  WriteFigures via_cql;
  {
    auto s = OpenStore("cassandra://" + endpoint + "/cql_bench", OpenMode::kReadWrite, so);
    if (!s.ok()) {
      fmt::print(stderr, "cassandra store: {}\n", s.status().ToString());
      return 1;
    }
    if (!ApplyAll(s->get(), config, batches, &via_cql)) return 1;
  }
  PrintWrite("Cassandra store -> CQL endpoint", via_cql);
  if (!no_direct) {
    fmt::print("  {:<34} {:>9.0f} %\n", "Cassandra store / RocksDB direct",
               100.0 * via_cql.records_per_s / direct.records_per_s);
  }

  // 2. Point reads.
  cql::client::SessionOptions opts;
  auto colon = endpoint.rfind(':');
  opts.contact_points = {{endpoint.substr(0, colon), std::stoi(endpoint.substr(colon + 1))}};
  opts.connections_per_host = connections;
  auto session = cql::client::Session::Open(opts);
  if (!session.ok()) {
    fmt::print(stderr, "session: {}\n", session.status().ToString());
    return 1;
  }
  std::string table =
      "cql_bench." + config.process.table.substr(config.process.table.find('.') + 1);
  auto select = (*session)->Prepare(fmt::format("SELECT * FROM {} WHERE id = ?", table));
  if (!select.ok()) {
    fmt::print(stderr, "prepare: {}\n", select.status().ToString());
    return 1;
  }
  std::vector<std::string> keys;
  for (const auto& b : batches) {
    for (const auto& r : b.rows) keys.push_back(cql::EncodeUuid(r.key).value());
  }
  LatencyHistogram read_us;
  std::atomic<uint64_t> reads{0}, misses{0}, errors{0};
  std::mutex mu;
  std::condition_variable cv;
  int outstanding = 0;
  int64_t end = NowUs() + static_cast<int64_t>(read_seconds * 1e6);
  std::mt19937_64 rng(42);
  int64_t t0 = NowUs();
  std::function<void()> issue = [&] {
    std::string key;
    {
      std::lock_guard lock(mu);
      key = keys[rng() % keys.size()];
      ++outstanding;
    }
    cql::QueryParameters p;
    p.consistency = cql::Consistency::kLocalOne;
    p.values = {cql::Value::Of(key)};
    int64_t start = NowUs();
    (*session)->ExecuteAsync(*select, std::move(p), [&, start](Result<cql::ResultMessage> r) {
      read_us.Record(NowUs() - start);
      if (!r.ok()) {
        ++errors;
      } else if (r->rows.rows.size() != 1) {
        ++misses;
      }
      ++reads;
      {
        std::lock_guard lock(mu);
        --outstanding;
      }
      cv.notify_all();
    });
  };
  // Keep `concurrency` requests in flight from this thread until the time is up.
  {
    std::unique_lock lock(mu);
    while (NowUs() < end) {
      while (outstanding < concurrency) {
        lock.unlock();
        issue();
        lock.lock();
      }
      cv.wait_for(lock, std::chrono::milliseconds(10));
    }
    cv.wait(lock, [&] { return outstanding == 0; });
  }
  double secs = static_cast<double>(NowUs() - t0) / 1e6;
  fmt::print(
      "  point reads, {} in flight, {} conns  {:>9.0f} reads/s   p50 {:>6.2f} ms  p99 {:>6.2f} "
      "ms  max {:>6.1f} ms  (misses {}, errors {})\n",
      concurrency, connections, static_cast<double>(reads) / secs, read_us.Percentile(50) / 1000.0,
      read_us.Percentile(99) / 1000.0, read_us.Max() / 1000.0, misses.load(), errors.load());
  fmt::print("  peak RSS                           {:>9} MB\n", PeakRssMb());
  session->reset();
  if (server) server->Stop();
  std::filesystem::remove_all(dir);
  return errors == 0 && misses == 0 ? 0 : 1;
}
