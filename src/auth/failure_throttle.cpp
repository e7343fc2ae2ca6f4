// Authentication failure delays; see failure_throttle.hpp.
#include "auth/failure_throttle.hpp"

#include <algorithm>

namespace postino::auth {

std::size_t FailureThrottle::bump(std::unordered_map<std::string, Entry>& map,
                                  const std::string& key, const std::string& fingerprint,
                                  Clock::time_point now) {
  if (map.size() >= settings_.max_tracked) trim(map, now);
  auto& e = map[key];
  if (e.failures > 0 && now - e.last > settings_.forget_after) e = Entry{};
  if (e.failures == 0 || e.last_fingerprint != fingerprint) ++e.failures;
  e.last_fingerprint = fingerprint;
  e.last = now;
  return e.failures;
}

void FailureThrottle::trim(std::unordered_map<std::string, Entry>& map, Clock::time_point now) {
  std::erase_if(map, [&](const auto& kv) { return now - kv.second.last > settings_.forget_after; });
  while (map.size() >= settings_.max_tracked) {
    auto oldest = std::min_element(map.begin(), map.end(), [](const auto& a, const auto& b) {
      return a.second.last < b.second.last;
    });
    map.erase(oldest);
  }
}

std::chrono::milliseconds FailureThrottle::delay_for(std::size_t failures) const {
  if (failures == 0) return std::chrono::milliseconds(0);
  auto delay = settings_.first_delay;
  for (std::size_t i = 1; i < failures && delay < settings_.max_delay; ++i) delay *= 2;
  return std::min(delay, settings_.max_delay);
}

std::size_t FailureThrottle::count_global(Clock::time_point now) {
  const auto second =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  // Seconds that went by since the last failure are emptied (all of them after a minute).
  for (auto s = std::max(newest_second_ + 1, second - 59); s <= second; ++s) {
    per_second_[static_cast<std::size_t>(s % 60)] = 0;
  }
  newest_second_ = std::max(newest_second_, second);
  ++per_second_[static_cast<std::size_t>(second % 60)];
  std::size_t total = 0;
  for (const auto n : per_second_) total += n;
  return total;
}

std::chrono::milliseconds FailureThrottle::record_failure(const std::string& address,
                                                          const std::string& account,
                                                          const std::string& password_fingerprint,
                                                          Clock::time_point now) {
  std::lock_guard lock(mutex_);
  const auto from_address = bump(by_address_, address, password_fingerprint, now);
  const auto against_account = bump(by_account_, account, password_fingerprint, now);
  auto delay = std::max(delay_for(from_address), delay_for(against_account));
  if (settings_.global_per_minute > 0) {
    const auto in_last_minute = count_global(now);
    if (in_last_minute > settings_.global_per_minute) {
      delay = std::max(delay, delay_for(in_last_minute - settings_.global_per_minute));
    }
  }
  return delay;
}

void FailureThrottle::record_success(const std::string& address, const std::string&) {
  // The account's count stays: a spray from many addresses keeps being slowed even when
  // the owner logs in in between.
  std::lock_guard lock(mutex_);
  by_address_.erase(address);
}

std::size_t FailureThrottle::failures_from(const std::string& address,
                                           Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  auto it = by_address_.find(address);
  if (it == by_address_.end() || now - it->second.last > settings_.forget_after) return 0;
  return it->second.failures;
}

}  // namespace postino::auth
