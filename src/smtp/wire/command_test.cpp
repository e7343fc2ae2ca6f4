// Tests for SMTP command line parsing.
#include "smtp/wire/command.hpp"

#include <gtest/gtest.h>

namespace postino::smtp::wire {
namespace {

TEST(SmtpCommand, VerbsAreCaseInsensitiveAndArgumentsTrimmed) {
  auto c = parse_command("ehlo  client.example  ");
  EXPECT_EQ(c.verb, Verb::ehlo);
  EXPECT_EQ(c.argument, "client.example");
  EXPECT_EQ(parse_command("StartTLS").verb, Verb::starttls);
  EXPECT_EQ(parse_command("MAIL FROM:<a@b>").argument, "FROM:<a@b>");
  EXPECT_EQ(parse_command("XFOO bar").verb, Verb::unknown);
  EXPECT_EQ(parse_command("").verb, Verb::unknown);
}

TEST(SmtpCommand, NonSmtpLinesAreForbidden) {
  for (auto line : {"GET / HTTP/1.1", "POST /x HTTP/1.0", "CONNECT x:25 HTTP/1.1", "Host: x",
                    "User-Agent: curl", "\x16\x03\x01\x02", "<html>", "1 NOOP"}) {
    EXPECT_EQ(parse_command(line).verb, Verb::forbidden) << line;
  }
}

TEST(SmtpCommand, ControlCharactersAreFlagged) {
  EXPECT_TRUE(parse_command("EHLO evil\rX-Injected: 1").has_control_chars);
  EXPECT_TRUE(parse_command(std::string_view("NO\0OP", 5)).has_control_chars);
  EXPECT_FALSE(parse_command("EHLO fine").has_control_chars);
}

TEST(SmtpCommand, HeloArgument) {
  EXPECT_TRUE(is_valid_helo_argument("mx.example.org"));
  EXPECT_TRUE(is_valid_helo_argument("[192.0.2.1]"));
  EXPECT_FALSE(is_valid_helo_argument(""));
  EXPECT_FALSE(is_valid_helo_argument("two words"));
  EXPECT_FALSE(is_valid_helo_argument("evil\rX-Injected: 1"));
  EXPECT_FALSE(is_valid_helo_argument(std::string(256, 'a')));
  EXPECT_TRUE(is_valid_helo_argument(std::string(255, 'a')));
}

}  // namespace
}  // namespace postino::smtp::wire
