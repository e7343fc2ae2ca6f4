// Tests for IMAP command line framing.
#include "imap/wire/command_line.hpp"

#include <gtest/gtest.h>

namespace postino::imap::wire {
namespace {

TEST(ImapCommandLine, SplitsTagNameAndArguments) {
  CommandLine cmd;
  LineError err;
  ASSERT_TRUE(parse_command_line("a1 login user pass", cmd, err));
  EXPECT_EQ(cmd.tag, "a1");
  EXPECT_EQ(cmd.name, "LOGIN");
  EXPECT_EQ(cmd.arguments, "user pass");
  ASSERT_TRUE(parse_command_line("x] NOOP", cmd, err));
  EXPECT_EQ(cmd.tag, "x]");
  EXPECT_EQ(cmd.arguments, "");
}

TEST(ImapCommandLine, RejectsBadTagsAndMissingCommands) {
  CommandLine cmd;
  LineError err;
  for (auto line : {"", " NOOP", "a+ NOOP", "a* NOOP", "a\"b NOOP", "(a NOOP", "{1} NOOP"}) {
    EXPECT_FALSE(parse_command_line(line, cmd, err)) << line;
    EXPECT_EQ(err.tag, "") << line;
  }
  EXPECT_FALSE(parse_command_line("a1", cmd, err));
  EXPECT_EQ(err.tag, "a1");
  EXPECT_EQ(err.message, "Missing command");
  EXPECT_FALSE(parse_command_line("a1 NO(OP", cmd, err));
  EXPECT_EQ(err.message, "Invalid command name");
  EXPECT_FALSE(parse_command_line(std::string_view("a\0 NOOP", 7), cmd, err));
}

}  // namespace
}  // namespace postino::imap::wire
