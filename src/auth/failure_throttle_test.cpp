// Tests for authentication failure delays.
#include "auth/failure_throttle.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

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

TEST(FailureThrottle, ASprayFromManyAddressesIsSlowedPastTheGlobalLimit) {
  // RELIABILITY A02: one try each for many accounts from many addresses; per address and
  // per account each is a first failure, but past 5 a minute every failure is slowed.
  FailureThrottle t({100ms, 1600ms, 600s, 1000, 5});
  const auto now = FailureThrottle::Clock::now();
  std::vector<std::chrono::milliseconds> delays;
  for (int i = 0; i < 9; ++i) {
    const auto n = std::to_string(i);
    delays.push_back(t.record_failure("192.0.2." + n, "user" + n, "p", now));
  }
  EXPECT_EQ(delays, (std::vector<std::chrono::milliseconds>{100ms, 100ms, 100ms, 100ms, 100ms,
                                                            100ms, 200ms, 400ms, 800ms}));
  // The window is a minute: once it has passed, a failure is a first one again.
  EXPECT_EQ(t.record_failure("198.51.100.1", "other", "p", now + 61s), 100ms);
  // Without a global limit, the same spray is never slowed.
  FailureThrottle off({100ms, 1600ms, 600s, 1000});
  for (int i = 0; i < 9; ++i) {
    const auto n = std::to_string(i);
    EXPECT_EQ(off.record_failure("192.0.2." + n, "user" + n, "p", now), 100ms);
  }
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
