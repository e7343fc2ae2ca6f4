// Connection counting; see connection_limiter.hpp.
#include "net/connection_limiter.hpp"

namespace postino::net {

ConnectionLimiter::Verdict ConnectionLimiter::admit(const std::string& address, bool is_trusted,
                                                    Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (total_ >= max_total_) return Verdict::too_many_total;
  if (!is_trusted && max_new_per_minute_ > 0) {
    // Postfix anvil's smtpd_client_connection_rate_limit: a fixed one-minute window.
    if (recent_.size() > 100000) {
      std::erase_if(recent_, [&](const auto& kv) {
        return now - kv.second.start >= std::chrono::minutes(1);
      });
    }
    auto& w = recent_[address];
    if (w.count == 0 || now - w.start >= std::chrono::minutes(1)) w = {now, 0};
    if (w.count >= max_new_per_minute_) return Verdict::too_fast_from_address;
    ++w.count;
  }
  auto& count = per_address_[address];
  if (!is_trusted && count >= max_per_address_) {
    if (count == 0) per_address_.erase(address);
    return Verdict::too_many_from_address;
  }
  ++count;
  ++total_;
  return Verdict::admitted;
}

void ConnectionLimiter::release(const std::string& address) {
  std::lock_guard lock(mutex_);
  auto it = per_address_.find(address);
  if (it == per_address_.end()) return;
  if (--it->second == 0) per_address_.erase(it);
  --total_;
}

std::size_t ConnectionLimiter::total() const {
  std::lock_guard lock(mutex_);
  return total_;
}

std::size_t ConnectionLimiter::from(const std::string& address) const {
  std::lock_guard lock(mutex_);
  auto it = per_address_.find(address);
  return it == per_address_.end() ? 0 : it->second;
}

}  // namespace postino::net
