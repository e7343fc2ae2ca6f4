// Messages per hour per authenticated user (the sending limit users are told about):
// counted in a sliding hour, in this process. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

namespace postino::smtp {

class SendingLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // 0 turns the limit off.
  explicit SendingLimiter(std::size_t max_per_hour) : max_per_hour_(max_per_hour) {}

  // True when `account` may send one more message now.
  bool may_send(const std::string& account, Clock::time_point now = Clock::now());
  // Counts one sent message.
  void record(const std::string& account, Clock::time_point now = Clock::now());

 private:
  void expire(std::deque<Clock::time_point>& sent, Clock::time_point now) const;
  std::size_t max_per_hour_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::deque<Clock::time_point>> sent_;
};

}  // namespace postino::smtp
