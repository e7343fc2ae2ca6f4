// Tests for dot-stuffing (SMTP DATA, POP3) and POP3 TOP.
#include "base/dot_stuffer.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace postino::base
