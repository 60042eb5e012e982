#include "common/allocator.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>
#include <cstring>

namespace dataforge {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

// A block of a Kafka fetch buffer's size comes from malloc's heap, not from a mapping of its own
// that free() would unmap (and the next one fault in again page by page).
TEST(AllocatorTest, BlocksUnder32MiBComeFromTheHeapAndStayMappedAfterFree) {
  if (kSanitized) GTEST_SKIP() << "the sanitizer's allocator ignores mallopt";
  if (!TuneAllocator()) GTEST_SKIP() << "GLIBC_TUNABLES sets malloc: TuneAllocator leaves it alone";
  const size_t mapped_before = mallinfo2().hblks;
  constexpr size_t kSize = 4 << 20;
  char* block = static_cast<char*>(std::malloc(kSize));
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, kSize);
  EXPECT_EQ(mallinfo2().hblks, mapped_before);  // not a mapping of its own
  std::free(block);
  // Kept for the next allocation: the heap holds at least the block, free.
  EXPECT_GE(mallinfo2().fordblks, kSize);
}

}  // namespace
}  // namespace dataforge
