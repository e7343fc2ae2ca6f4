// Counts open connections overall and per client address, and refuses past the limits.
// Thread-safe: connections are admitted on one loop and released on others.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace postino::net {

class ConnectionLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // `max_new_per_minute_per_address`: 0 turns the rate limit off.
  ConnectionLimiter(std::size_t max_total, std::size_t max_per_address,
                    std::size_t max_new_per_minute_per_address = 0)
      : max_total_(max_total),
        max_per_address_(max_per_address),
        max_new_per_minute_(max_new_per_minute_per_address) {}

  enum class Verdict { admitted, too_many_total, too_many_from_address, too_fast_from_address };
  // Admits the connection and counts it, or says which limit refused it (then nothing is
  // counted). Trusted clients skip the per-address limits, never the total.
  Verdict admit(const std::string& address, bool is_trusted, Clock::time_point now = Clock::now());
  // Releases one admitted connection of `address`.
  void release(const std::string& address);

  std::size_t total() const;
  std::size_t from(const std::string& address) const;

 private:
  mutable std::mutex mutex_;
  std::size_t max_total_;
  std::size_t max_per_address_;
  std::size_t max_new_per_minute_;
  std::size_t total_ = 0;
  std::unordered_map<std::string, std::size_t> per_address_;
  // Connections opened per address in the current one-minute window.
  struct Window {
    Clock::time_point start;
    std::size_t count = 0;
  };
  std::unordered_map<std::string, Window> recent_;
};

}  // namespace postino::net
