// Tests for LineSplitter: every split point, limits, resync after an overlong line.
#include "base/line_splitter.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace postino::base {
namespace {

// Feeds `input` in chunks of `chunk` bytes and collects lines ("!" marks a too-long line).
std::vector<std::string> split(std::string_view input, std::size_t chunk, std::size_t limit) {
  LineSplitter splitter(limit);
  std::vector<std::string> out;
  std::string buffer;
  for (std::size_t pos = 0; pos < input.size(); pos += chunk) {
    buffer.append(input.substr(pos, chunk));
    for (;;) {
      auto step = splitter.next(buffer);
      if (step.kind == LineStep::Kind::line) out.emplace_back(step.line);
      if (step.kind == LineStep::Kind::too_long) out.emplace_back("!");
      buffer.erase(0, step.consumed);
      if (step.kind == LineStep::Kind::need_more && step.consumed == 0) break;
      if (buffer.empty()) break;
    }
  }
  return out;
}

TEST(LineSplitter, SplitsCrlfAndBareLfAtEverySplitPoint) {
  const std::string input = "EHLO a\r\nNOOP\nQUIT\r\n";
  for (std::size_t chunk = 1; chunk <= input.size(); ++chunk) {
    EXPECT_EQ(split(input, chunk, 100), (std::vector<std::string>{"EHLO a", "NOOP", "QUIT"}))
        << "chunk " << chunk;
  }
}

TEST(LineSplitter, KeepsBareCrInsideTheLine) {
  EXPECT_EQ(split("EHLO evil\rX-Injected: 1\r\n", 64, 100),
            (std::vector<std::string>{"EHLO evil\rX-Injected: 1"}));
}

TEST(LineSplitter, LineAtTheLimitPassesOneOverFails) {
  EXPECT_EQ(split(std::string(10, 'a') + "\r\n", 3, 10),
            (std::vector<std::string>{std::string(10, 'a')}));
  EXPECT_EQ(split(std::string(11, 'a') + "\r\nNOOP\r\n", 4, 10),
            (std::vector<std::string>{"!", "NOOP"}));
}

TEST(LineSplitter, EndlessLineIsReportedOnceAndNotBuffered) {
  LineSplitter splitter(10);
  std::string buffer(5000, 'A');
  auto step = splitter.next(buffer);
  EXPECT_EQ(step.kind, LineStep::Kind::too_long);
  EXPECT_EQ(step.consumed, buffer.size());
  EXPECT_TRUE(splitter.is_discarding());
  step = splitter.next(std::string(5000, 'B'));
  EXPECT_EQ(step.kind, LineStep::Kind::need_more);
  EXPECT_EQ(step.consumed, 5000u);
  step = splitter.next("tail\r\nNOOP\r\n");
  EXPECT_EQ(step.consumed, 6u);
  EXPECT_FALSE(splitter.is_discarding());
  step = splitter.next("NOOP\r\n");
  ASSERT_EQ(step.kind, LineStep::Kind::line);
  EXPECT_EQ(step.line, "NOOP");
}

TEST(LineSplitter, ResyncsAtEverySplitPointAfterOverlongLine) {
  const std::string input = std::string(50, 'x') + "\r\nNOOP\r\n";
  for (std::size_t chunk = 1; chunk <= input.size(); ++chunk) {
    EXPECT_EQ(split(input, chunk, 20), (std::vector<std::string>{"!", "NOOP"})) << chunk;
  }
}

}  // namespace
}  // namespace postino::base

namespace postino::base {
namespace {

TEST(ConsumeLines, StopsWhereTheHandlerSaysAndKeepsTheRest) {
  LineSplitter splitter(100);
  std::string input = "A\r\nSTOP\r\nB\r\npartial";
  std::vector<std::string> seen;
  consume_lines(splitter, input, [&](const LineStep& step) {
    seen.emplace_back(step.line);
    return step.line != "STOP";
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"A", "STOP"}));
  EXPECT_EQ(input, "B\r\npartial");
  seen.clear();
  consume_lines(splitter, input, [&](const LineStep& step) {
    seen.emplace_back(step.line);
    return true;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"B"}));
  EXPECT_EQ(input, "partial");
}

}  // namespace
}  // namespace postino::base
