// Tests for ConnectionLimiter: limits at their boundary, trusted exemption, release.
#include "net/connection_limiter.hpp"

#include <gtest/gtest.h>

namespace postino::net {
namespace {

using V = ConnectionLimiter::Verdict;

TEST(ConnectionLimiter, PerAddressLimitAtItsBoundary) {
  ConnectionLimiter limiter(100, 2);
  EXPECT_EQ(limiter.admit("192.0.2.1", false), V::admitted);
  EXPECT_EQ(limiter.admit("192.0.2.1", false), V::admitted);
  EXPECT_EQ(limiter.admit("192.0.2.1", false), V::too_many_from_address);
  EXPECT_EQ(limiter.admit("192.0.2.2", false), V::admitted);
  EXPECT_EQ(limiter.from("192.0.2.1"), 2u);
  limiter.release("192.0.2.1");
  EXPECT_EQ(limiter.admit("192.0.2.1", false), V::admitted);
  EXPECT_EQ(limiter.total(), 3u);
}

TEST(ConnectionLimiter, TrustedSkipsPerAddressButNotTotal) {
  ConnectionLimiter limiter(3, 1);
  EXPECT_EQ(limiter.admit("127.0.0.1", true), V::admitted);
  EXPECT_EQ(limiter.admit("127.0.0.1", true), V::admitted);
  EXPECT_EQ(limiter.admit("127.0.0.1", true), V::admitted);
  EXPECT_EQ(limiter.admit("127.0.0.1", true), V::too_many_total);
  EXPECT_EQ(limiter.admit("192.0.2.9", false), V::too_many_total);
  EXPECT_EQ(limiter.total(), 3u);
}

TEST(ConnectionLimiter, RefusalCountsNothingAndReleaseOfUnknownIsHarmless) {
  ConnectionLimiter limiter(1, 1);
  EXPECT_EQ(limiter.admit("a", false), V::admitted);
  EXPECT_EQ(limiter.admit("b", false), V::too_many_total);
  EXPECT_EQ(limiter.from("b"), 0u);
  limiter.release("b");
  EXPECT_EQ(limiter.total(), 1u);
  limiter.release("a");
  EXPECT_EQ(limiter.total(), 0u);
}

TEST(ConnectionLimiter, NewConnectionsPerMinuteAtTheBoundary) {
  ConnectionLimiter limiter(100, 100, 3);
  const auto t0 = ConnectionLimiter::Clock::now();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(limiter.admit("192.0.2.1", false, t0), V::admitted);
    limiter.release("192.0.2.1");
  }
  EXPECT_EQ(limiter.admit("192.0.2.1", false, t0 + std::chrono::seconds(59)),
            V::too_fast_from_address);
  EXPECT_EQ(limiter.admit("192.0.2.2", false, t0), V::admitted);
  EXPECT_EQ(limiter.admit("127.0.0.1", true, t0), V::admitted);  // trusted: no rate limit
  EXPECT_EQ(limiter.admit("192.0.2.1", false, t0 + std::chrono::seconds(60)), V::admitted);
}

}  // namespace
}  // namespace postino::net
