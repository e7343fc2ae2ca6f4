// See retry.hpp.
#include "queue/retry.hpp"

#include <algorithm>

namespace postino::queue {

std::chrono::seconds backoff(const RetryPolicy& policy, int attempts) {
  auto wait = policy.min_backoff;
  for (int i = 1; i < attempts && wait < policy.max_backoff; ++i) wait *= 2;
  return std::min(wait, policy.max_backoff);
}

std::optional<Clock::time_point> next_attempt(const RetryPolicy& policy, Clock::time_point arrival,
                                              Clock::time_point now, int attempts) {
  const auto next = now + backoff(policy, attempts);
  if (next > arrival + policy.lifetime) {
    // One last try at the end of the lifetime, unless that is already behind us.
    if (now >= arrival + policy.lifetime) return std::nullopt;
    return arrival + policy.lifetime;
  }
  return next;
}

bool delay_warning_due(const RetryPolicy& policy, Clock::time_point arrival, Clock::time_point now,
                       bool already_warned) {
  return policy.delay_warning.count() > 0 && !already_warned &&
         now >= arrival + policy.delay_warning;
}

}  // namespace postino::queue
