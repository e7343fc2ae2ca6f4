// Slows down password guessing: each failed login from an address, or against an account,
// makes the next failure answer later (2 s, doubling, capped), as Dovecot's auth penalty
// does. Successful logins are never delayed, so the owner of an attacked account still gets
// in (RELIABILITY A01, A02). Past a number of failures per minute across every address and
// account (a spray from many addresses, one try each), every further failure is delayed as
// if they all came from one address. Thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace postino::auth {

class FailureThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  struct Settings {
    std::chrono::milliseconds first_delay{2000};
    std::chrono::milliseconds max_delay{15000};
    std::chrono::seconds forget_after{600};  // a quiet address or account starts over
    std::size_t max_tracked = 100000;        // entries kept; the oldest go first
    std::size_t global_per_minute = 0;       // failures a minute before all are slowed; 0: off
  };

  explicit FailureThrottle(Settings settings) : settings_(settings) {}

  // Records a failed attempt and returns how long to wait before answering it.
  // `password_fingerprint` identifies the wrong password (a hash, never the password):
  // retrying the same wrong password does not grow the delay.
  std::chrono::milliseconds record_failure(const std::string& address, const std::string& account,
                                           const std::string& password_fingerprint,
                                           Clock::time_point now);
  // A success from `address` clears that address's count.
  void record_success(const std::string& address, const std::string& account);

  std::size_t failures_from(const std::string& address, Clock::time_point now) const;

 private:
  struct Entry {
    std::size_t failures = 0;
    std::string last_fingerprint;
    Clock::time_point last;
  };
  std::size_t bump(std::unordered_map<std::string, Entry>& map, const std::string& key,
                   const std::string& fingerprint, Clock::time_point now);
  void trim(std::unordered_map<std::string, Entry>& map, Clock::time_point now);
  std::chrono::milliseconds delay_for(std::size_t failures) const;
  // Counts a failure in the last minute's window; returns the window's count.
  std::size_t count_global(Clock::time_point now);

  Settings settings_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> by_address_;
  std::unordered_map<std::string, Entry> by_account_;
  // Failures per second of the last minute, a ring indexed by the second.
  std::array<std::size_t, 60> per_second_{};
  std::int64_t newest_second_ = 0;
};

}  // namespace postino::auth
