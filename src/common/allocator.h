// How the process's allocator (glibc malloc) keeps memory it frees.
#pragma once

namespace dataforge {

// Called once at process start, before any thread (main, the benches). Keeps freed memory for
// reuse instead of returning it to the kernel at once: blocks under 32 MiB come from malloc's
// heaps rather than a mapping of their own (glibc's default maps blocks from 128 KiB up, a
// threshold that only grows as such blocks are freed), and a heap keeps up to 128 MiB free at
// its top (the default trims it past 128 KiB). Each page the process touches again then costs no
// page fault; on virtual machines a fault can cost ~10 us (docs/benchmarks.md), and librdkafka's
// receive buffers were faulted in over and over. The price: memory freed after a peak is returned
// later or not at all (peak RSS +15-25 MB in the Kafka process role's bench). A user's own malloc
// settings win: with any glibc.malloc.* in GLIBC_TUNABLES this does nothing and returns false.
// Not thread-safe; mallopt is a no-op under sanitizers (their allocator ignores it).
bool TuneAllocator();

}  // namespace dataforge
