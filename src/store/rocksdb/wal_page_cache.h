// The RocksDB store's WAL is written once, synced with every batch, and read again only to
// recover after a crash, yet each of its bytes would stay in the page cache: a page cache that
// grows by the WAL's size costs kernel time on every write (~5 µs per KiB on our CI VM; fresh
// pages, docs/benchmarks.md "Issue 19: kernel time and ingest"). This file system wraps
// RocksDB's default one and, after each successful Sync/Fsync of a WAL file (`NNNNNN.log`),
// tells the kernel the synced pages may leave the cache (posix_fadvise DONTNEED), so the next
// writes reuse them.
//
// Changes no content and no durability point: the hint comes after the sync returned, dirty
// pages are never dropped, recovery reads the same bytes from the disk. Read-only (secondary)
// instances tailing the WAL read those bytes from the disk instead of the cache.
#pragma once

#include <rocksdb/env.h>

namespace dataforge {

// An Env over RocksDB's default file system with the WAL hint above. Lives for the whole
// process; safe for any number of DBs.
rocksdb::Env* WalCacheDroppingEnv();

}  // namespace dataforge
