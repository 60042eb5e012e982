// How the process's allocator (glibc malloc) keeps memory it frees.
#pragma once

namespace dataforge {

// Called once at process start, before any thread (main, the benches). Keeps freed memory for
// reuse instead of returning it to the kernel at once: blocks under 32 MiB come from malloc's
// heaps rather than their own mmap (glibc's default, from 128 KiB up, maps and unmaps each), and a
// heap keeps up to 128 MiB free at its top. Each page the process touches again then costs no
// page fault; on virtual machines a fault can cost ~10 us (docs/benchmarks.md), and librdkafka's
// fetch buffers, RocksDB's memtable blocks and SQLite's page cache were faulted in over and over.
// The price: memory freed after a peak is returned later or not at all (peak RSS unchanged in
// the benches). A user's own malloc settings win: with any glibc.malloc.* in GLIBC_TUNABLES this
// does nothing. Not thread-safe; a no-op under sanitizers (their allocator ignores mallopt).
void TuneAllocator();

}  // namespace dataforge
