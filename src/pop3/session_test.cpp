// Tests for the POP3 session state machine and command parsing.
#include "pop3/session.hpp"

#include <gtest/gtest.h>

namespace postino::pop3 {
namespace {

struct Script {
  Session session{SessionSettings{}, net::ClientInfo{}};
  std::string input;
  net::Output send(std::string_view bytes) {
    input += bytes;
    return session.receive(input);
  }
};

TEST(Pop3Command, KeywordsAndArguments) {
  wire::Command cmd;
  ASSERT_TRUE(wire::parse_command("top 1  10", cmd));
  EXPECT_EQ(cmd.keyword, "TOP");
  ASSERT_EQ(cmd.arguments.size(), 2u);
  EXPECT_EQ(cmd.arguments[1], "10");
  EXPECT_FALSE(wire::parse_command("", cmd));
  EXPECT_FALSE(wire::parse_command("GO", cmd));
  ASSERT_TRUE(wire::parse_command("GET / HTTP/1.1", cmd));  // a keyword; the session refuses it
  EXPECT_EQ(cmd.keyword, "GET");
  EXPECT_FALSE(wire::parse_command("QUITS", cmd));
  EXPECT_FALSE(wire::parse_command("NO1P", cmd));
  EXPECT_FALSE(wire::parse_command(std::string_view("NO\0P", 4), cmd));
}

TEST(Pop3Session, GreetingCapaAndStls) {
  Script s;
  EXPECT_EQ(s.session.greet().bytes, "+OK Postino ready.\r\n");
  EXPECT_EQ(s.send("CAPA\r\n").bytes,
            "+OK Capability list follows\r\nSTLS\r\nRESP-CODES\r\nPIPELINING\r\n"
            "IMPLEMENTATION Postino\r\n.\r\n");
  auto out = s.send("STLS\r\nCAPA\r\n");
  EXPECT_EQ(out.bytes, "+OK Begin TLS negotiation\r\n");
  EXPECT_EQ(out.after, net::After::start_tls);
  EXPECT_TRUE(s.input.empty());
  s.session.tls_started({});
  EXPECT_EQ(s.send("capa\r\n").bytes,
            "+OK Capability list follows\r\nRESP-CODES\r\nPIPELINING\r\n"
            "IMPLEMENTATION Postino\r\n.\r\n");
  EXPECT_EQ(s.send("STLS\r\n").bytes, "-ERR Command not permitted when TLS active\r\n");
}

TEST(Pop3Session, NoopQuitAndPipelining) {
  Script s;
  auto out = s.send("NOOP\r\nNOOP\r\nQUIT\r\nNOOP\r\n");
  EXPECT_EQ(out.bytes, "+OK\r\n+OK\r\n+OK Postino signing off\r\n");
  EXPECT_EQ(out.after, net::After::close);
}

TEST(Pop3Session, ThreeBadCommandsClose) {
  Script s;
  auto out = s.send("GET / HTTP/1.1\r\nUSER demo\r\nXYZ\r\nNOOP\r\n");
  EXPECT_EQ(out.bytes,
            "-ERR Unknown command\r\n-ERR Command not implemented\r\n-ERR Unknown command\r\n"
            "-ERR Too many bad commands, closing\r\n");
  EXPECT_EQ(out.after, net::After::close);
}

TEST(Pop3Session, LineLimitAtItsBoundary) {
  Script s;
  EXPECT_EQ(s.send("NOOP" + std::string(508, ' ') + "\r\n").bytes, "+OK\r\n");
  EXPECT_EQ(s.send("NOOP" + std::string(509, ' ') + "\r\nNOOP\r\n").bytes,
            "-ERR Line too long\r\n+OK\r\n");
}

}  // namespace
}  // namespace postino::pop3
