// Tests for logfmt rendering (hostile values can never forge fields or lines) and for the
// process's logger on stderr.
#include "base/log.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

namespace postino::base::log {
namespace {

TEST(Log, PlainValuesStayBare) {
  EXPECT_EQ(logfmt_value("smtp"), "smtp");
  EXPECT_EQ(logfmt_value("127.0.0.1:25"), "127.0.0.1:25");
}

TEST(Log, ValuesWithSpacesQuotesOrControlsAreQuotedAndEscaped) {
  EXPECT_EQ(logfmt_value(""), "\"\"");
  EXPECT_EQ(logfmt_value("a b"), "\"a b\"");
  EXPECT_EQ(logfmt_value("x=\"y\""), "\"x=\\\"y\\\"\"");
  EXPECT_EQ(logfmt_value("evil\r\nlevel=error"), "\"evil\\x0d\\x0alevel=error\"");
}

TEST(Log, RendersSessionEventAndFieldsInOrder) {
  EXPECT_EQ(render_fields("S1", "connect", {{"proto", "smtp"}, {"remote", "1.2.3.4:5"}}),
            "session=S1 event=connect proto=smtp remote=1.2.3.4:5");
  EXPECT_EQ(render_fields("", "start", {}), "event=start");
}

TEST(Log, FieldsParseBackFromEitherFormat) {
  const auto line =
      "time=2026-12-01T20:00:00.000Z level=info " +
      render_fields(
          "S1", "delivery",
          {{"queue_id", "S1.1"}, {"reply", "550 5.1.1 \"x\" \\ \x01 ok"}, {"to", "<a@b>"}});
  const auto f = parse_fields(line);
  ASSERT_EQ(f.size(), 7u);
  EXPECT_EQ(f[0], (std::pair<std::string, std::string>{"time", "2026-12-01T20:00:00.000Z"}));
  EXPECT_EQ(f[2].second, "S1");
  EXPECT_EQ(f[4], (std::pair<std::string, std::string>{"queue_id", "S1.1"}));
  EXPECT_EQ(f[5].second, "550 5.1.1 \"x\" \\ \x01 ok");
  EXPECT_EQ(f[6].second, "<a@b>");
  const auto text = parse_fields("2026-12-01 20:00:00.000 level=warn event=x");
  ASSERT_EQ(text.size(), 2u);
  EXPECT_EQ(text[1].second, "x");
}

// What the process's logger (init) has written to stderr so far, waiting up to `wait` for
// `until` to appear ("" to wait the whole time).
std::string read_for(int fd, std::chrono::milliseconds wait, std::string_view until) {
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < deadline) {
    char buffer[4096];
    const auto n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) got.append(buffer, static_cast<std::size_t>(n));
    if (!until.empty() && got.find(until) != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return got;
}

// The process's logger gathers lines for log.gather_ms (init's Buffering), but an error is
// written at once, with every line before it.
TEST(Log, LinesAreGatheredButAnErrorIsWrittenAtOnceWithThoseBeforeIt) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ASSERT_EQ(::fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
  const int saved = ::dup(STDERR_FILENO);
  ASSERT_GE(::dup2(fds[1], STDERR_FILENO), 0);
  init(Level::info, Format::logfmt, {1 << 20, std::chrono::minutes(1)});
  info("S1", "first");
  const auto early = read_for(fds[0], std::chrono::milliseconds(200), "");
  error("S1", "broken");
  const auto later = read_for(fds[0], std::chrono::seconds(5), "event=broken");
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  init(Level::info, Format::logfmt);
  ::close(fds[0]);
  ::close(fds[1]);
  EXPECT_EQ(early, "");  // gathered, not written yet
  const auto first = later.find("level=info session=S1 event=first");
  const auto broken = later.find("level=error session=S1 event=broken");
  ASSERT_NE(first, std::string::npos) << later;
  ASSERT_NE(broken, std::string::npos) << later;
  EXPECT_LT(first, broken);
}

}  // namespace
}  // namespace postino::base::log
