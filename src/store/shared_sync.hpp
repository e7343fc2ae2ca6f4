// One durable-write operation (a directory's fsync) shared by the callers that need one at
// the same time, as the database's group commit shares its WAL fsync: a call returns once
// an operation that began after the call did has finished, so whatever the caller did
// before calling (a rename into the directory) is durable; callers that arrive while one
// runs share the next. The operation's failure goes to the callers it was for, and only
// to them (RELIABILITY F02: never retried, never reported as success).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>

#include "store/error.hpp"

namespace postino::store {

class SharedSync {
 public:
  explicit SharedSync(std::function<Result<void>()> operation) : operation_(std::move(operation)) {}
  SharedSync(const SharedSync&) = delete;
  SharedSync& operator=(const SharedSync&) = delete;

  Result<void> sync() {
    std::unique_lock lock(mutex_);
    const auto mine = ++requested_;
    while (completed_ < mine) {
      if (running_) {
        done_.wait(lock);
        continue;
      }
      running_ = true;
      const auto first = completed_ + 1, last = requested_;  // every caller so far
      lock.unlock();
      auto r = operation_();
      lock.lock();
      running_ = false;
      if (!r) {
        failures_.push_back({first, last, r.error()});
        if (failures_.size() > max_failures_kept) failures_.pop_front();
      }
      completed_ = last;
      done_.notify_all();
    }
    for (const auto& f : failures_) {
      if (mine >= f.first && mine <= f.last) return f.error;
    }
    return {};
  }

 private:
  struct Failure {
    std::uint64_t first, last;
    Error error;
  };
  // Enough for every caller still waiting to find its own (each failed operation wakes
  // its callers at once).
  static constexpr std::size_t max_failures_kept = 1024;

  std::function<Result<void>()> operation_;
  std::mutex mutex_;
  std::condition_variable done_;
  std::uint64_t requested_ = 0, completed_ = 0;
  bool running_ = false;
  std::deque<Failure> failures_;
};

}  // namespace postino::store
