// Connection counting; see connection_limiter.hpp.
#include "net/connection_limiter.hpp"

namespace postino::net {

ConnectionLimiter::Verdict ConnectionLimiter::admit(const std::string& address, bool is_trusted) {
  std::lock_guard lock(mutex_);
  if (total_ >= max_total_) return Verdict::too_many_total;
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
