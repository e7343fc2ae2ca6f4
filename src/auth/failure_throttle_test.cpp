// Tests for authentication failure delays.
#include "auth/failure_throttle.hpp"

#include <gtest/gtest.h>

namespace postino::auth {
namespace {

using namespace std::chrono_literals;

TEST(FailureThrottle, DelayDoublesAndIsCapped) {
  FailureThrottle t({2000ms, 15000ms, 600s, 1000});
  const auto now = FailureThrottle::Clock::now();
  EXPECT_EQ(t.record_failure("a", "u", "p1", now), 2000ms);
  EXPECT_EQ(t.record_failure("a", "u", "p2", now), 4000ms);
  EXPECT_EQ(t.record_failure("a", "u", "p3", now), 8000ms);
  EXPECT_EQ(t.record_failure("a", "u", "p4", now), 15000ms);
  EXPECT_EQ(t.record_failure("a", "u", "p5", now), 15000ms);
}

TEST(FailureThrottle, SameWrongPasswordDoesNotGrowTheDelay) {
  FailureThrottle t({2000ms, 15000ms, 600s, 1000});
  const auto now = FailureThrottle::Clock::now();
  EXPECT_EQ(t.record_failure("a", "u", "same", now), 2000ms);
  EXPECT_EQ(t.record_failure("a", "u", "same", now), 2000ms);
  EXPECT_EQ(t.failures_from("a", now), 1u);
}

TEST(FailureThrottle, SuccessClearsTheAddressAndQuietPeriodsAreForgotten) {
  FailureThrottle t({2000ms, 15000ms, 600s, 1000});
  const auto now = FailureThrottle::Clock::now();
  t.record_failure("a", "u", "p1", now);
  t.record_failure("a", "u", "p2", now);
  t.record_success("a", "u");
  EXPECT_EQ(t.failures_from("a", now), 0u);
  // The account keeps its count: a spray from another address is still slowed.
  EXPECT_EQ(t.record_failure("b", "u", "p3", now), 8000ms);
  EXPECT_EQ(t.record_failure("b", "u", "p4", now + 601s), 2000ms);
}

TEST(FailureThrottle, TracksABoundedNumberOfEntries) {
  FailureThrottle t({2000ms, 15000ms, 600s, 10});
  const auto now = FailureThrottle::Clock::now();
  for (int i = 0; i < 100; ++i)
    t.record_failure("ip" + std::to_string(i), "u" + std::to_string(i), "p",
                     now + std::chrono::seconds(i));
  EXPECT_EQ(t.failures_from("ip0", now + 100s), 0u);
  EXPECT_EQ(t.failures_from("ip99", now + 100s), 1u);
}

}  // namespace
}  // namespace postino::auth
