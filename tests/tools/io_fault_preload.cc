// Test tool: LD_PRELOADed into the real `dataforge` binary by
// tests/integration/log_io_failure_test.cc to make the disk under the embedded log fail, which
// a test cannot otherwise do without root and device-mapper. It replaces fdatasync() or write()
// for the files whose path starts with a directory and ends with ".log" (the log's segments);
// inside the process the failure takes the same path as a real one (FileSystem::Default()).
// Unit tests inject faults through the FileSystem seam instead (common/testing/).
//
//   DF_IO_FAULT_DIR     the directory prefix, e.g. /tmp/x/data/log/ (unset: no faults)
//   DF_IO_FAULT_CALL    fdatasync (default) or write
//   DF_IO_FAULT_AFTER   how many such calls on matching files succeed first (default 0)
//   DF_IO_FAULT_ERRNO   5 (EIO, default) or 28 (ENOSPC)
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>

namespace {

std::atomic<long> matched{0};

bool ShouldFail(int fd, const char* call) {
  const char* dir = getenv("DF_IO_FAULT_DIR");
  if (dir == nullptr || *dir == '\0') return false;
  const char* which = getenv("DF_IO_FAULT_CALL");
  if (strcmp(which != nullptr ? which : "fdatasync", call) != 0) return false;
  char link[64];
  char path[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 4) return false;
  path[n] = '\0';
  if (strncmp(path, dir, strlen(dir)) != 0 || strcmp(path + n - 4, ".log") != 0) return false;
  const char* after = getenv("DF_IO_FAULT_AFTER");
  return matched.fetch_add(1) >= (after != nullptr ? atol(after) : 0);
}

int Errno() {
  const char* e = getenv("DF_IO_FAULT_ERRNO");
  return e != nullptr ? atoi(e) : EIO;
}

}  // namespace

extern "C" int fdatasync(int fd) {
  static auto real = reinterpret_cast<int (*)(int)>(dlsym(RTLD_NEXT, "fdatasync"));
  if (ShouldFail(fd, "fdatasync")) {
    errno = Errno();
    return -1;
  }
  return real(fd);
}

extern "C" ssize_t write(int fd, const void* buf, size_t count) {
  static auto real =
      reinterpret_cast<ssize_t (*)(int, const void*, size_t)>(dlsym(RTLD_NEXT, "write"));
  if (ShouldFail(fd, "write")) {
    errno = Errno();
    return -1;
  }
  return real(fd, buf, count);
}
