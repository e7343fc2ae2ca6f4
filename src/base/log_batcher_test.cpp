// Tests for LogBatcher: lines written in batches, in order, none lost.
#include "base/log_batcher.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace postino::base::log {
namespace {

using namespace std::chrono_literals;

struct Recorder {
  std::mutex mutex;
  std::vector<std::string> writes;
  std::atomic<int> delay_ms{0};
  LogBatcher::Write writer() {
    return [this](std::string_view text) {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
      const std::lock_guard lock(mutex);
      writes.emplace_back(text);
    };
  }
  std::string all() {
    const std::lock_guard lock(mutex);
    std::string out;
    for (const auto& w : writes) out += w;
    return out;
  }
  std::size_t count() {
    const std::lock_guard lock(mutex);
    return writes.size();
  }
  // What was written once something was, or after 5 s.
  std::string first_written() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (count() == 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return all();
  }
};

TEST(LogBatcher, LinesLoggedTogetherAreWrittenInOneWrite) {
  Recorder r;
  LogBatcher b(r.writer(), {.gather = 200ms, .max_bytes = 1 << 20});
  std::string expected;
  for (int i = 0; i < 100; ++i) {
    const auto line = "line " + std::to_string(i) + "\n";
    b.append(line);
    expected += line;
  }
  b.flush();
  EXPECT_EQ(r.count(), 1u);  // one wake-up, one write, not 100
  EXPECT_EQ(r.all(), expected);
}

TEST(LogBatcher, ALineIsWrittenWithinTheGatheringDelayWithoutAFlush) {
  Recorder r;
  LogBatcher b(r.writer(), {.gather = 5ms, .max_bytes = 1 << 20});
  b.append("one\n");
  EXPECT_EQ(r.first_written(), "one\n");
}

TEST(LogBatcher, HurryWritesWithoutTheGatheringDelay) {
  Recorder r;
  LogBatcher b(r.writer(), {.gather = 60s, .max_bytes = 1 << 20});
  b.append("error\n");
  b.hurry();
  EXPECT_EQ(r.first_written(), "error\n");
}

TEST(LogBatcher, WhatIsWaitingIsWrittenWhenItStops) {
  Recorder r;
  {
    LogBatcher b(r.writer(), {.gather = 60s, .max_bytes = 1 << 20});
    b.append("a\n");
    b.append("b\n");
  }
  EXPECT_EQ(r.all(), "a\nb\n");
}

TEST(LogBatcher, AFullBufferMakesLoggersWaitAndLosesNothing) {
  Recorder r;
  r.delay_ms = 2;  // a slow reader of stderr
  std::string expected[4];
  {
    LogBatcher b(r.writer(), {.gather = 1ms, .max_bytes = 256});
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 200; ++i) {
          const auto line = "t" + std::to_string(t) + " " + std::to_string(i) + "\n";
          b.append(line);
          expected[t] += line;
        }
      });
    }
    for (auto& t : threads) t.join();
    b.flush();
    // Bounded: no batch much beyond the limit (one append may pass it).
    const std::lock_guard lock(r.mutex);
    for (const auto& w : r.writes) EXPECT_LT(w.size(), 256u + 16u);
  }
  // Each thread's lines, in its order, none missing.
  const auto all = r.all();
  for (int t = 0; t < 4; ++t) {
    std::string mine;
    const auto prefix = "t" + std::to_string(t) + " ";
    for (std::size_t at = 0; at < all.size();) {
      const auto end = all.find('\n', at) + 1;
      if (all.compare(at, prefix.size(), prefix) == 0) mine += all.substr(at, end - at);
      at = end;
    }
    EXPECT_EQ(mine, expected[t]);
  }
}

TEST(LogBatcher, WriteFdWritesEverything) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  LogBatcher::write_fd(fds[1], "hello\n");
  ::close(fds[1]);
  char buffer[16] = {};
  EXPECT_EQ(::read(fds[0], buffer, sizeof buffer), 6);
  EXPECT_EQ(std::string(buffer), "hello\n");
  ::close(fds[0]);
}

}  // namespace
}  // namespace postino::base::log
