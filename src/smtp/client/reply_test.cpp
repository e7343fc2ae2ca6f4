// Tests for the SMTP client's reply reader, at every split point, and its bounds (F07).
#include "smtp/client/reply.hpp"

#include <gtest/gtest.h>

namespace postino::smtp::client {
namespace {

std::vector<Reply> read_all(const std::string& bytes, std::size_t split) {
  ReplyReader reader;
  std::string input;
  std::vector<Reply> out;
  for (const auto& piece : {bytes.substr(0, split), bytes.substr(split)}) {
    input += piece;
    for (;;) {
      auto step = reader.next(input);
      if (step.kind != ReplyReader::Step::Kind::reply) {
        EXPECT_NE(step.kind, ReplyReader::Step::Kind::error) << step.error;
        break;
      }
      out.push_back(step.reply);
    }
  }
  return out;
}

TEST(ReplyReader, MultiLineRepliesAndEnhancedCodesAtEverySplitPoint) {
  const std::string bytes =
      "220 mx.example.test ESMTP\r\n"
      "250-mx.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n"
      "550-5.1.1 no such user\r\n550 5.1.1 see https://example.test\r\n"
      "250\r\n"
      "451 4.3.0 try again\n";  // a bare LF is taken too
  for (std::size_t split = 0; split <= bytes.size(); ++split) {
    auto replies = read_all(bytes, split);
    ASSERT_EQ(replies.size(), 5u) << split;
    EXPECT_EQ(replies[0].code, 220);
    EXPECT_EQ(replies[0].enhanced, "");
    EXPECT_EQ(replies[1].lines, (std::vector<std::string>{"mx.example.test", "PIPELINING",
                                                          "SIZE 10240000", "8BITMIME"}));
    EXPECT_EQ(replies[2].code, 550);
    EXPECT_EQ(replies[2].enhanced, "5.1.1");
    EXPECT_EQ(replies[2].summary(), "550 5.1.1 no such user see https://example.test");
    EXPECT_TRUE(replies[2].is_permanent());
    EXPECT_EQ(replies[3].code, 250);
    EXPECT_TRUE(replies[3].lines == std::vector<std::string>{""});
    EXPECT_TRUE(replies[4].is_temporary());
    EXPECT_EQ(replies[4].enhanced, "4.3.0");
  }
}

TEST(ReplyReader, AnEnhancedCodeMustMatchTheReplyClass) {
  std::string input = "550 4.1.1 odd\r\n";
  auto step = ReplyReader().next(input);
  ASSERT_EQ(step.kind, ReplyReader::Step::Kind::reply);
  EXPECT_EQ(step.reply.enhanced, "");
  EXPECT_EQ(step.reply.summary(), "550 4.1.1 odd");
}

TEST(ReplyReader, HostileRepliesAreErrorsNotMemoryOrMixedReplies) {
  auto error_of = [](std::string input, ReplyReader::Limits limits = {}) {
    ReplyReader reader(limits);
    for (;;) {
      auto step = reader.next(input);
      if (step.kind == ReplyReader::Step::Kind::error) return step.error;
      if (step.kind == ReplyReader::Step::Kind::need_more) return std::string("need more");
    }
  };
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\n"), "not an SMTP reply line");
  EXPECT_EQ(error_of("25\r\n"), "not an SMTP reply line");
  EXPECT_EQ(error_of("650 no\r\n"), "not an SMTP reply line");
  EXPECT_EQ(error_of("250_x\r\n"), "not an SMTP reply line");
  EXPECT_EQ(error_of("250-a\r\n251 b\r\n"), "reply code changes within a multi-line reply");
  EXPECT_EQ(error_of("250 " + std::string(5000, 'x')), "reply line too long");
  EXPECT_EQ(error_of("250 " + std::string(5000, 'x') + "\r\n"), "reply line too long");
  std::string many;
  for (int i = 0; i < 300; ++i) many += "250-line\r\n";
  EXPECT_EQ(error_of(many), "too many lines in one reply");
  EXPECT_EQ(error_of("250-still going\r\n"), "need more");
}

TEST(ReplyReader, SummariesHoldNoControlCharacters) {
  std::string input = "554 5.7.1 bad\x01\x1b[31m\r\n";
  auto step = ReplyReader().next(input);
  EXPECT_EQ(step.reply.summary(), "554 5.7.1 bad??[31m");
}

}  // namespace
}  // namespace postino::smtp::client
