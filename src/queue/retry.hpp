// When a message that could not be delivered is tried again, and when it is given up
// (RFC 5321 §4.5.4.1: retry at least 30 minutes apart, give up after 4–5 days), with
// Postfix's shape: a first retry after minutes, doubling to at most an hour, a delay
// warning after hours (RFC 3461 NOTIFY=DELAY), a bounce after days. Pure.
#pragma once

#include <chrono>
#include <optional>

namespace postino::queue {

using Clock = std::chrono::system_clock;  // what the queue stores (unix seconds)

struct RetryPolicy {
  std::chrono::seconds min_backoff{300};         // Postfix minimal_backoff_time
  std::chrono::seconds max_backoff{3600};        // Postfix maximal_backoff_time (4000 s)
  std::chrono::seconds lifetime{5 * 24 * 3600};  // Postfix maximal_queue_lifetime
  std::chrono::seconds delay_warning{4 * 3600};  // 0: no delay warnings
};

// The wait after the `attempts`-th failed try (1 for the first): min_backoff doubled per
// further try, never more than max_backoff.
std::chrono::seconds backoff(const RetryPolicy& policy, int attempts);

// The next try after `attempts` failed ones, or nullopt when it would come after the
// message's lifetime: it has expired and bounces now.
std::optional<Clock::time_point> next_attempt(const RetryPolicy& policy, Clock::time_point arrival,
                                              Clock::time_point now, int attempts);

// True when a delay warning is due: the message has waited delay_warning, none was sent
// yet, and warnings are on.
bool delay_warning_due(const RetryPolicy& policy, Clock::time_point arrival, Clock::time_point now,
                       bool already_warned);

}  // namespace postino::queue
