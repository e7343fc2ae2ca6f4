// For tests of reads that never wait for the disk (store/no_wait.hpp).
#pragma once

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

namespace postino::store::test_support {

// Drops a file's pages from the page cache (the store's commits left them clean); false
// when they are still there (a file system that keeps them, tmpfs say).
inline bool evict_from_page_cache(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ::fdatasync(fd);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  char byte;
  iovec v{&byte, 1};
  const bool gone = ::preadv2(fd, &v, 1, 0, RWF_NOWAIT) < 0 && errno == EAGAIN;
  ::close(fd);
  return gone;
}

// The same for a store's database and its WAL, in the data directory `dir`.
inline bool evict_store_from_page_cache(const std::filesystem::path& dir) {
  return evict_from_page_cache(dir / "store.db") && evict_from_page_cache(dir / "store.db-wal");
}

}  // namespace postino::store::test_support
