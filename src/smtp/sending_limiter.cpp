// Per-user sending limit; see sending_limiter.hpp.
#include "smtp/sending_limiter.hpp"

namespace postino::smtp {

void SendingLimiter::expire(std::deque<Clock::time_point>& sent, Clock::time_point now) const {
  while (!sent.empty() && now - sent.front() >= std::chrono::hours(1)) sent.pop_front();
}

bool SendingLimiter::may_send(const std::string& account, Clock::time_point now) {
  if (max_per_hour_ == 0) return true;
  std::lock_guard lock(mutex_);
  auto it = sent_.find(account);
  if (it == sent_.end()) return true;
  expire(it->second, now);
  return it->second.size() < max_per_hour_;
}

void SendingLimiter::record(const std::string& account, Clock::time_point now) {
  if (max_per_hour_ == 0) return;
  std::lock_guard lock(mutex_);
  auto& sent = sent_[account];
  expire(sent, now);
  sent.push_back(now);
}

}  // namespace postino::smtp
