// Running as root only as long as needed (server.user): the process binds its ports and
// reads its TLS key as root, then becomes the unprivileged user for good. Files of the
// data directory are created by that user from the start (the store is opened with the
// user as effective uid), so a restart finds them writable.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace postino::app {

class Privileges {
 public:
  // Looks the user up when running as root and `user` is not empty; an error text in
  // `error` otherwise ("" when nothing is to be done or all is well).
  static Privileges resolve(const std::string& user, std::string& error);

  bool will_drop() const { return uid_.has_value(); }
  // Creates the data directory for the user if it is missing; refuses (error text) a
  // directory the user cannot write, naming the command that fixes it.
  std::string prepare_data_dir(const std::string& dir) const;
  // Acts as the user (effective ids only) until regain(): files created now are theirs.
  std::string act_as_user() const;
  std::string regain() const;
  // Becomes the user for good: supplementary groups, gid, uid; checks root cannot be
  // regained.
  std::string drop() const;

 private:
  std::string name_;
  std::optional<uid_t> uid_;
  gid_t gid_ = 0;
};

}  // namespace postino::app
