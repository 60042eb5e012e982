// Test only: how many pages of a file's byte range are in the kernel's page cache (mincore over
// a read-only mapping; mapping does not fault pages in). For tests of cache hints
// (FileSystem::DropCachedPages). -1 when the file cannot be opened or mapped.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

namespace dataforge::testing {

inline int64_t ResidentPages(const std::string& path, uint64_t offset, uint64_t length) {
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  uint64_t from = offset / page * page;
  uint64_t n = (offset + length - from + page - 1) / page;
  if (n == 0) return 0;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  void* map = ::mmap(nullptr, n * page, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(from));
  ::close(fd);
  if (map == MAP_FAILED) return -1;
  std::vector<unsigned char> in(n);
  int rc = ::mincore(map, n * page, in.data());
  ::munmap(map, n * page);
  if (rc != 0) return -1;
  int64_t resident = 0;
  for (unsigned char c : in) resident += c & 1;
  return resident;
}

}  // namespace dataforge::testing
