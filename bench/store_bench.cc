// The store benchmark: StoreBatch::Apply of N rows in batches of B into the embedded RocksDB
// store (or any store URL), three workloads over the same keys, each timed on its own:
//   insert   every key new (full rows: 12 columns of randomuser-like text, ~400 bytes);
//   upsert   every key again, full rows (a re-ingest, a CDC update of every column);
//   partial  every key again, one column (a CDC update that leaves the other columns out:
//            the store keeps them, store.h RowWrite), read-modify-write on RocksDB.
// Prints rows/s and the mean Apply latency of each.
//
//   build/bench/store_bench --rows 200000 --batch 1000            # RocksDB, fsync per batch
//   build/bench/store_bench --store cassandra://127.0.0.1:9042    # any store URL
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/allocator.h"
#include "store/store.h"

using namespace dataforge;

namespace {

std::string Key(uint64_t i) {
  return fmt::format("{:08x}-0000-4000-8000-{:012x}", i * 2654435761u % 4294967291u, i);
}

std::string FullRow(uint64_t i, int version) {
  return fmt::format(
      R"({{"id":"{}","first_name":"First{}","last_name":"Last{}","gender":"female",)"
      R"("address":"{} Main Street, Springfield, Oregon, United States","post_code":"{}",)"
      R"("email":"first{}.last{}@example.com","username":"user{}v{}","dob":"1990-01-02T03:04:05.006Z",)"
      R"("registered_date":"2015-06-07T08:09:10.011Z","phone":"(555)-{:03}-{:04}",)"
      R"("picture":"https://randomuser.me/api/portraits/med/women/{}.jpg"}})",
      Key(i), i, i, i % 9999, 10000 + i % 89999, i, i, i, version, i % 1000, i % 10000, i % 99);
}

}  // namespace

int main(int argc, char** argv) {
  dataforge::TuneAllocator();  // as the dataforge binary does
  CLI::App app{"DataForge store benchmark: Apply of full and partial upserts"};
  uint64_t rows = 200000;
  size_t batch = 1000;
  bool no_fsync = false;
  std::string url;
  app.add_option("--rows", rows, "Keys written by each workload");
  app.add_option("--batch", batch, "Rows per StoreBatch (one Apply)")->check(CLI::PositiveNumber);
  app.add_option("--store", url, "Store URL (default: RocksDB in a fresh temp dir)");
  app.add_flag("--no-fsync", no_fsync, "Do not fsync the WAL per Apply (RocksDB)");
  CLI11_PARSE(app, argc, argv);

  std::string dir;
  if (url.empty()) {
    char tmpl[] = "/tmp/df_store_bench_XXXXXX";
    dir = mkdtemp(tmpl);
    url = "rocksdb://" + dir;
  }
  StoreOptions options;
  options.sync = !no_fsync;
  auto opened = OpenStore(url, OpenMode::kReadWrite, options);
  if (!opened.ok()) {
    fmt::print(stderr, "store_bench: {}\n", opened.status().ToString());
    return 1;
  }
  std::unique_ptr<Store> store = std::move(opened).value();
  TableSchema schema{"bench.users", "id", {{"id", "uuid"}}};
  for (const char* c : {"first_name", "last_name", "gender", "address", "post_code", "email",
                        "username", "dob", "registered_date", "phone", "picture"}) {
    schema.columns.push_back(
        {c, std::string(c) == "dob" || std::string(c) == "registered_date" ? "timestamp" : "text"});
  }
  if (Status s = store->EnsureTable(schema); !s.ok()) {
    fmt::print(stderr, "store_bench: {}\n", s.ToString());
    return 1;
  }
  fmt::print("store_bench: {} rows per workload, batch {}, {}, store {}\n", rows, batch,
             no_fsync ? "no fsync" : "fsync per batch", dir.empty() ? url : "rocksdb (temp dir)");
  int64_t offset = 0;
  auto run = [&](const char* name, auto row_of) -> bool {
    auto start = std::chrono::steady_clock::now();
    uint64_t applies = 0;
    for (uint64_t first = 0; first < rows; first += batch) {
      StoreBatch b;
      b.table = schema.table;
      b.group = "bench";
      uint64_t last = std::min<uint64_t>(rows, first + batch);
      for (uint64_t i = first; i < last; ++i) b.rows.push_back({Key(i), row_of(i), false});
      offset += static_cast<int64_t>(last - first);
      b.offsets.push_back({"bench", 0, offset, last - first, 0, 0});
      if (Status s = store->Apply(b); !s.ok()) {
        fmt::print(stderr, "store_bench: {}: {}\n", name, s.ToString());
        return false;
      }
      ++applies;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fmt::print("  {:<8} {:>10.0f} rows/s   {:>7.2f} ms per Apply of {}\n", name, rows / secs,
               secs * 1000 / static_cast<double>(applies), batch);
    return true;
  };
  bool ok = run("insert", [](uint64_t i) { return FullRow(i, 1); }) &&
            run("upsert", [](uint64_t i) { return FullRow(i, 2); }) &&
            run("partial", [](uint64_t i) {
              return fmt::format(R"({{"id":"{}","username":"user{}v3"}})", Key(i), i);
            });
  if (ok) {
    auto check = store->Get(schema.table, Key(rows / 2));
    fmt::print("  row {}: {}\n", rows / 2, check.ok() ? *check : check.status().ToString());
  }
  store.reset();
  if (!dir.empty()) std::filesystem::remove_all(dir);
  return ok ? 0 : 1;
}
