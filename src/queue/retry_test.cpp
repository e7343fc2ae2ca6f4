// Tests for the retry schedule.
#include "queue/retry.hpp"

#include <gtest/gtest.h>

namespace postino::queue {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(Retry, BackoffDoublesFromMinutesToAnHour) {
  const RetryPolicy p;
  EXPECT_EQ(backoff(p, 1), minutes(5));
  EXPECT_EQ(backoff(p, 2), minutes(10));
  EXPECT_EQ(backoff(p, 3), minutes(20));
  EXPECT_EQ(backoff(p, 4), minutes(40));
  EXPECT_EQ(backoff(p, 5), hours(1));
  EXPECT_EQ(backoff(p, 1000), hours(1));  // no overflow however many tries
  EXPECT_EQ(backoff(p, 0), minutes(5));
}

TEST(Retry, TheLastTryComesAtTheEndOfTheLifetimeThenTheMessageExpires) {
  const RetryPolicy p;
  const auto arrival = Clock::from_time_t(1796000000);
  EXPECT_EQ(next_attempt(p, arrival, arrival, 1), arrival + minutes(5));
  const auto late = arrival + p.lifetime - minutes(10);
  EXPECT_EQ(next_attempt(p, arrival, late, 30), arrival + p.lifetime);
  EXPECT_EQ(next_attempt(p, arrival, arrival + p.lifetime, 31), std::nullopt);
  EXPECT_EQ(next_attempt(p, arrival, arrival + p.lifetime + hours(1), 31), std::nullopt);
  RetryPolicy tiny;
  tiny.lifetime = seconds(0);  // a test config: bounce at the first failure
  EXPECT_EQ(next_attempt(tiny, arrival, arrival, 1), std::nullopt);
}

TEST(Retry, OneDelayWarningAfterFourHoursWhenTheyAreOn) {
  RetryPolicy p;
  const auto arrival = Clock::from_time_t(1796000000);
  EXPECT_FALSE(delay_warning_due(p, arrival, arrival + hours(3), false));
  EXPECT_TRUE(delay_warning_due(p, arrival, arrival + hours(4), false));
  EXPECT_FALSE(delay_warning_due(p, arrival, arrival + hours(5), true));
  p.delay_warning = seconds(0);
  EXPECT_FALSE(delay_warning_due(p, arrival, arrival + hours(5), false));
}

}  // namespace
}  // namespace postino::queue
