// See durable_file.hpp.
#include "base/durable_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

namespace postino::base {

std::string write_file_durably(const std::filesystem::path& path, std::string_view bytes,
                               mode_t mode) {
  const auto tmp = path.string() + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return "cannot create " + tmp;
  bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) &&
            ::fchmod(fd, mode) == 0 && ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return "cannot write " + path.string();
  }
  const auto parent = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  int dir = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return "cannot open " + parent.string();
  ok = ::fsync(dir) == 0;
  ::close(dir);
  return ok ? "" : "cannot sync " + parent.string();
}

}  // namespace postino::base
