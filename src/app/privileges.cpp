// See privileges.hpp. glibc applies set*id calls to every thread of the process, so the
// worker threads started before drop() lose root with the main thread.
#include "app/privileges.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

namespace postino::app {
namespace {

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

}  // namespace

Privileges Privileges::resolve(const std::string& user, std::string& error) {
  error.clear();
  Privileges p;
  if (user.empty() || ::geteuid() != 0) return p;
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  if (::getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found) {
    error = "server.user \"" + user + "\" is not a user of this system (create it: useradd " +
            "--system --home-dir /var/lib/postino --shell /usr/sbin/nologin " + user + ")";
    return p;
  }
  if (found->pw_uid == 0) {
    error = "server.user \"" + user + "\" is root; name an unprivileged user";
    return p;
  }
  p.name_ = user;
  p.uid_ = found->pw_uid;
  p.gid_ = found->pw_gid;
  return p;
}

std::string Privileges::prepare_data_dir(const std::string& dir) const {
  if (!uid_) return "";
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return "cannot create " + dir + ": " + ec.message();
    if (::chown(dir.c_str(), *uid_, gid_) != 0) return errno_text("cannot chown " + dir);
    ::chmod(dir.c_str(), 0750);
    return "";
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return errno_text("cannot stat " + dir);
  if (st.st_uid != *uid_) {
    return "the data directory " + dir + " belongs to uid " + std::to_string(st.st_uid) +
           ", not to server.user \"" + name_ + "\"; fix it with: chown -R " + name_ + ": " + dir;
  }
  return "";
}

std::string Privileges::act_as_user() const {
  if (!uid_) return "";
  if (::initgroups(name_.c_str(), gid_) != 0) return errno_text("initgroups " + name_);
  if (::setegid(gid_) != 0) return errno_text("setegid");
  if (::seteuid(*uid_) != 0) return errno_text("seteuid");
  return "";
}

std::string Privileges::regain() const {
  if (!uid_) return "";
  if (::seteuid(0) != 0) return errno_text("seteuid(0)");
  if (::setegid(0) != 0) return errno_text("setegid(0)");
  return "";
}

std::string Privileges::drop() const {
  if (!uid_) return "";
  if (::initgroups(name_.c_str(), gid_) != 0) return errno_text("initgroups " + name_);
  if (::setresgid(gid_, gid_, gid_) != 0) return errno_text("setresgid");
  if (::setresuid(*uid_, *uid_, *uid_) != 0) return errno_text("setresuid");
  if (::setuid(0) == 0 || ::geteuid() == 0) return "root could be regained after dropping it";
  return "";
}

}  // namespace postino::app
