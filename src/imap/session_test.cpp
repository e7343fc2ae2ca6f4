// Tests for the IMAP session state machine, scripted as bytes in and bytes out.
#include "imap/session.hpp"

#include <gtest/gtest.h>

namespace postino::imap {
namespace {

struct Script {
  explicit Script(bool tls = false) : session(SessionSettings{}, client(tls)) {}
  static net::ClientInfo client(bool tls) {
    net::ClientInfo c;
    c.is_tls = tls;
    return c;
  }
  Session session;
  std::string input;
  net::Output send(std::string_view bytes) {
    input += bytes;
    return session.receive(input);
  }
};

TEST(ImapSession, GreetingAndCapabilityBeforeAndAfterTls) {
  Script s;
  EXPECT_EQ(s.session.greet().bytes,
            "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] Postino ready.\r\n");
  EXPECT_EQ(s.send("a CAPABILITY\r\n").bytes,
            "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\na OK CAPABILITY completed\r\n");
  auto out = s.send("b STARTTLS\r\n");
  EXPECT_EQ(out.bytes, "b OK Begin TLS negotiation now\r\n");
  EXPECT_EQ(out.after, net::After::start_tls);
  s.session.tls_started({});
  EXPECT_EQ(s.send("c capability\r\n").bytes,
            "* CAPABILITY IMAP4rev1 LOGINDISABLED\r\nc OK CAPABILITY completed\r\n");
  EXPECT_EQ(s.send("d STARTTLS\r\n").bytes, "d BAD TLS is already active\r\n");
}

TEST(ImapSession, ImplicitTlsNeverOffersStartTls) {
  Script s(true);
  EXPECT_EQ(s.session.greet().bytes,
            "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED] Postino ready.\r\n");
}

TEST(ImapSession, StartTlsDropsPipelinedCommands) {
  Script s;
  auto out = s.send("a STARTTLS\r\nb NOOP\r\n");
  EXPECT_EQ(out.bytes, "a OK Begin TLS negotiation now\r\n");
  EXPECT_TRUE(s.input.empty());
}

TEST(ImapSession, LoginBeforeTlsIsRefusedWithPrivacyRequired) {
  Script s;
  EXPECT_EQ(s.send("a LOGIN demo@example.test secret\r\n").bytes,
            "a NO [PRIVACYREQUIRED] LOGIN is disabled before STARTTLS\r\n");
}

TEST(ImapSession, NoopAndLogout) {
  Script s;
  EXPECT_EQ(s.send("a NOOP\r\n").bytes, "a OK NOOP completed\r\n");
  auto out = s.send("b LOGOUT\r\nc NOOP\r\n");
  EXPECT_EQ(out.bytes, "* BYE Logging out\r\nb OK LOGOUT completed\r\n");
  EXPECT_EQ(out.after, net::After::close);
}

TEST(ImapSession, ThreeBadCommandsBeforeLoginCloseTheConnection) {
  Script s;
  auto out = s.send("GET / HTTP/1.1\r\nHost: x\r\n\r\nz NOOP\r\n");
  EXPECT_EQ(out.bytes,
            "GET BAD Unknown command\r\nHost: BAD Unknown command\r\n* BAD Missing tag\r\n"
            "* BYE Too many invalid commands.\r\n");
  EXPECT_EQ(out.after, net::After::close);
}

TEST(ImapSession, NotImplementedCommandsAnswerBad) {
  Script s;
  EXPECT_EQ(s.send("a SELECT INBOX\r\n").bytes, "a BAD Command not implemented\r\n");
}

TEST(ImapSession, PreauthLineLimitAtItsBoundary) {
  Script s;
  EXPECT_EQ(s.send("a NOOP" + std::string(8192 - 6, ' ') + "\r\n").bytes,
            "a OK NOOP completed\r\n");
  EXPECT_EQ(s.send("a NOOP" + std::string(8192 - 5, ' ') + "\r\nb NOOP\r\n").bytes,
            "* BAD Command line too long\r\nb OK NOOP completed\r\n");
}

TEST(ImapSession, LiteralsBeforeLoginAreBoundedAndAnsweredInOrder) {
  Script s;
  // RELIABILITY L06: refused before any continuation; the session goes on.
  EXPECT_EQ(s.send("a LOGIN {8193}\r\nb NOOP\r\n").bytes,
            "a NO [TOOBIG] Literal too big\r\nb OK NOOP completed\r\n");
  EXPECT_EQ(s.send("c LOGIN {4}\r\n").bytes, "+ Ready for literal data\r\n");
  EXPECT_EQ(s.send("demo {6}\r\n").bytes, "+ Ready for literal data\r\n");
  EXPECT_EQ(s.send("secret\r\n").bytes,
            "c NO [PRIVACYREQUIRED] LOGIN is disabled before STARTTLS\r\n");
  auto out = s.send("d APPEND INBOX {9000+}\r\n");
  EXPECT_EQ(out.bytes, "* BYE [TOOBIG] Literal too big\r\n");
  EXPECT_EQ(out.after, net::After::close);
}

TEST(ImapSession, SameAnswersAtEverySplitPoint) {
  const std::string script = "a NOOP\r\nb CAPABILITY\r\nc LOGOUT\r\n";
  Script whole;
  const auto expected = whole.send(script).bytes;
  for (std::size_t chunk = 1; chunk < script.size(); ++chunk) {
    Script s;
    std::string got;
    for (std::size_t pos = 0; pos < script.size(); pos += chunk) {
      got += s.send(script.substr(pos, chunk)).bytes;
    }
    EXPECT_EQ(got, expected) << chunk;
  }
}

}  // namespace
}  // namespace postino::imap
