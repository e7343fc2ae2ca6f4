// Tests for dot-stuffing (SMTP DATA, POP3) and POP3 TOP.
#include "base/dot_stuffer.hpp"

#include <gtest/gtest.h>

#include <random>

namespace postino::base {
namespace {

TEST(DotStuff, StuffsLeadingDotsAndTerminates) {
  EXPECT_EQ(dot_stuff("A: b\r\n\r\n.hidden\r\n..two\r\nend\r\n"),
            "A: b\r\n\r\n..hidden\r\n...two\r\nend\r\n.\r\n");
  EXPECT_EQ(dot_stuff(""), ".\r\n");
  EXPECT_EQ(dot_stuff("no final break"), "no final break\r\n.\r\n");
  EXPECT_EQ(dot_stuff("bare\nlf\n"), "bare\r\nlf\r\n.\r\n");
  EXPECT_EQ(dot_stuff(".\r\n"), "..\r\n.\r\n");
}

TEST(DotStuff, TopSendsHeaderBlankLineAndNBodyLines) {
  const std::string msg = "A: 1\r\nB: 2\r\n\r\nl1\r\n.l2\r\nl3\r\n";
  EXPECT_EQ(dot_stuff(msg, 0), "A: 1\r\nB: 2\r\n\r\n.\r\n");
  EXPECT_EQ(dot_stuff(msg, 2), "A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\n.\r\n");
  EXPECT_EQ(dot_stuff(msg, 99), dot_stuff(msg));
}

TEST(DotStuff, ChunkedFeedingGivesTheSameBytesAtEverySplitPoint) {
  const std::string msg = "A: 1\r\n\r\n.x\r\nbare\ncr\rmid\r\n..\r\nlast";
  for (std::optional<std::uint64_t> top :
       {std::optional<std::uint64_t>{}, std::optional<std::uint64_t>{2}}) {
    const auto whole = dot_stuff(msg, top);
    for (std::size_t chunk = 1; chunk <= msg.size(); ++chunk) {
      DotStuffer s(top);
      std::string got;
      for (std::size_t pos = 0; pos < msg.size(); pos += chunk)
        got += s.feed(std::string_view(msg).substr(pos, chunk));
      got += s.finish();
      EXPECT_EQ(got, whole) << chunk;
    }
  }
}

TEST(DotStuffer, ForSmtpNoBareCrOrLfLeavesAndEveryDotLineIsStuffed) {
  // The SMTP smuggling shapes (SEC Consult 2023): none may end the data early.
  DotStuffer smtp(std::nullopt, DotStuffer::BareCr::space);
  std::string out = smtp.feed("a\r\n.\r\r\nb\n.\nc\r.\rd\r\n.\r");
  out += smtp.finish();
  EXPECT_EQ(out, "a\r\n.. \r\nb\r\n..\r\nc . d\r\n..\r\n.\r\n");
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '\r') {
      EXPECT_EQ(out[i + 1], '\n') << i;
    }
    if (out[i] == '\n') {
      EXPECT_EQ(out[i - 1], '\r') << i;
    }
  }
  EXPECT_EQ(out.find("\r\n.\r\n"), out.size() - 5);
}

// The stuffer as first written, a byte at a time: the model the one that copies runs of
// text in one piece must agree with.
std::string stuffed_byte_by_byte(std::string_view message, std::optional<std::uint64_t> top,
                                 DotStuffer::BareCr bare_cr) {
  std::string out;
  bool at_line_start = true, line_empty = true, pending_cr = false, in_body = false, done = false;
  std::uint64_t body_lines = 0;
  const auto end_line = [&] {
    out += "\r\n";
    pending_cr = false;
    if (in_body) ++body_lines;
    if (!in_body && line_empty) in_body = true;
    at_line_start = line_empty = true;
    if (top && in_body && body_lines >= *top) done = true;
  };
  for (std::size_t i = 0; i < message.size() && !done; ++i) {
    const char c = message[i];
    if (c == '\n') {
      end_line();
      continue;
    }
    if (pending_cr) {
      out.push_back(bare_cr == DotStuffer::BareCr::keep ? '\r' : ' ');
      pending_cr = false;
    }
    if (c == '\r') {
      pending_cr = true;
      at_line_start = false;
      continue;
    }
    if (at_line_start && c == '.') out.push_back('.');
    at_line_start = line_empty = false;
    out.push_back(c);
  }
  if (!done && (!at_line_start || pending_cr)) end_line();
  return out + ".\r\n";
}

TEST(DotStuffer, AgreesWithTheByteByByteModelOnRandomMessagesAndSplits) {
  std::mt19937 rng(2026);
  const std::string alphabet = "..\r\r\n\nab c";
  for (int round = 0; round < 3000; ++round) {
    std::string message(std::uniform_int_distribution<std::size_t>(0, 80)(rng), ' ');
    for (auto& c : message) c = alphabet[rng() % alphabet.size()];
    if (round % 5 == 4) {
      // Mostly clean lines, as most messages are (the fast path for runs of them), with
      // now and then a dot, a bare CR or a bare LF among them.
      message.clear();
      const std::string words[] = {"ab c", "", ".x", "a\rb", "q", "\n", "zz z"};
      for (int line = 0, lines = static_cast<int>(rng() % 12); line < lines; ++line) {
        message += rng() % 4 == 0 ? words[rng() % std::size(words)] : "plain text";
        message += "\r\n";
      }
      if (rng() % 2 == 0) message += "no line end";
    }
    const std::optional<std::uint64_t> top =
        round % 3 == 0 ? std::nullopt : std::optional<std::uint64_t>(rng() % 4);
    const auto bare_cr = round % 2 == 0 ? DotStuffer::BareCr::keep : DotStuffer::BareCr::space;
    DotStuffer s(top, bare_cr);
    std::string got;
    for (std::size_t pos = 0; pos < message.size();) {
      const auto n = std::uniform_int_distribution<std::size_t>(1, 20)(rng);
      s.feed(std::string_view(message).substr(pos, n), got);
      pos += n;
    }
    got += s.finish();
    ASSERT_EQ(got, stuffed_byte_by_byte(message, top, bare_cr)) << "round " << round;
  }
}

}  // namespace
}  // namespace postino::base
