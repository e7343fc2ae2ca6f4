#include "base/metrics.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace postino::base::metrics {
namespace {

TEST(Metrics, CountersAndGaugesRenderWithHelpTypeAndEscapedLabels) {
  auto& c = counter("test_events_total", "Events seen.", {"kind"});
  c.with({"a\"b\\c\nd"}).add(3);
  c.with({"plain"}).add();
  auto& g = gauge("test_open", "Things open.");
  g.with().add(5);
  g.with().sub(2);
  const auto text = render();
  EXPECT_NE(text.find("# HELP test_events_total Events seen.\n# TYPE test_events_total counter\n"),
            std::string::npos);
  EXPECT_NE(text.find("test_events_total{kind=\"a\\\"b\\\\c\\nd\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("test_events_total{kind=\"plain\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE test_open gauge\ntest_open 3\n"), std::string::npos);
}

TEST(Metrics, DeclaringTwiceFindsTheSameFamily) {
  auto& a = counter("test_twice_total", "Once.");
  auto& b = counter("test_twice_total", "Once.");
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(&a.with(), &b.with());
}

TEST(Metrics, HistogramBucketsAreCumulativeWithSumAndCount) {
  auto& h = histogram("test_wait_seconds", "Waits.", {"op"}, {0.1, 1});
  auto& s = h.with({"x"});
  s.observe(0.05);
  s.observe(0.5);
  s.observe(0.5);
  s.observe(7.0);
  const auto text = render();
  EXPECT_NE(text.find("test_wait_seconds_bucket{op=\"x\",le=\"0.1\"} 1\n"
                      "test_wait_seconds_bucket{op=\"x\",le=\"1\"} 3\n"
                      "test_wait_seconds_bucket{op=\"x\",le=\"+Inf\"} 4\n"
                      "test_wait_seconds_sum{op=\"x\"} 8.05\n"
                      "test_wait_seconds_count{op=\"x\"} 4\n"),
            std::string::npos)
      << text;
}

TEST(Metrics, ComputedSamplesFollowTheFamilies) {
  const auto text =
      render({{"test_queue", "Queued.", "gauge", {"state"}, {{{"held"}, 2}, {{"active"}, 0.5}}}});
  EXPECT_NE(text.find("# TYPE test_queue gauge\ntest_queue{state=\"held\"} 2\n"
                      "test_queue{state=\"active\"} 0.5\n"),
            std::string::npos);
}

TEST(Metrics, ConcurrentIncrementsAreAllCounted) {
  auto& c = counter("test_concurrent_total", "Concurrent.").with();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&c] {
      for (int i = 0; i < 10000; ++i) c.add();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 40000u);
}

}  // namespace
}  // namespace postino::base::metrics
