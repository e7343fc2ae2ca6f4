// How the store's background threads (the scrub, the tidying) wait between pieces of work:
// until a time or until they are told to stop, whichever comes first.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace postino::store {

class StopSignal {
 public:
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
  }
  // Waits until `when` or a stop; false when stopping.
  bool sleep_until(std::chrono::steady_clock::time_point when) {
    std::unique_lock lock(mutex_);
    wake_.wait_until(lock, when, [this] { return stopping_; });
    return !stopping_;
  }
  bool stopping() {
    std::lock_guard lock(mutex_);
    return stopping_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace postino::store
