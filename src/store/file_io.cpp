// File system calls shared by the blob store and the body log; see file_io.hpp.
#include "store/file_io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "store/sync_metrics.hpp"

namespace postino::store {

Error io_error(const std::string& what, int err) {
  const auto kind = (err == ENOSPC || err == EDQUOT) ? ErrorKind::no_space : ErrorKind::temporary;
  return make_error(kind, what + ": " + std::strerror(err));
}

int timed_fsync(int fd, Sync kind) {
  static auto& file = sync_duration("file");
  static auto& directory = sync_duration("directory");
  const auto began = std::chrono::steady_clock::now();
  const int rc = ::fsync(fd);
  const int err = errno;  // the caller reads it
  (kind == Sync::file ? file : directory).observe(std::chrono::steady_clock::now() - began);
  errno = err;
  return rc;
}

Result<void> fsync_dir(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("open " + dir.string(), errno);
  const int rc = timed_fsync(fd, Sync::directory);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return io_error("fsync " + dir.string(), err);
  return {};
}

}  // namespace postino::store
