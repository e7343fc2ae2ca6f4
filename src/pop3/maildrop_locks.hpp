// One POP3 session per maildrop at a time (RFC 1939 §8: the server acquires an exclusive
// lock on the maildrop). In-process now; a cluster takes the lock in the store.
#pragma once

#include <mutex>
#include <set>

#include "store/types.hpp"

namespace postino::pop3 {

class MaildropLocks {
 public:
  // True when the lock was free and is now held.
  bool try_lock(store::AccountId account) {
    std::lock_guard lock(mutex_);
    return held_.insert(account).second;
  }
  void unlock(store::AccountId account) {
    std::lock_guard lock(mutex_);
    held_.erase(account);
  }

 private:
  std::mutex mutex_;
  std::set<store::AccountId> held_;
};

}  // namespace postino::pop3
