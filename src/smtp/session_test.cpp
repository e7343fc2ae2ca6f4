// Tests for the SMTP session state machine, scripted as bytes in and bytes out.
#include "smtp/session.hpp"

#include <gtest/gtest.h>

namespace postino::smtp {
namespace {

SessionSettings settings() {
  SessionSettings s;
  s.hostname = "mx.test";
  s.max_line_bytes = 2048;
  s.max_errors = 5;
  return s;
}

struct Script {
  Session session{settings(), net::ClientInfo{}};
  std::string input;
  net::Output send(std::string_view bytes) {
    input += bytes;
    return session.receive(input);
  }
};

TEST(SmtpSession, GreetsWithHostName) {
  Script s;
  EXPECT_EQ(s.session.greet().bytes, "220 mx.test ESMTP Postino\r\n");
}

TEST(SmtpSession, EhloAdvertisesStartTlsOnlyBeforeTls) {
  Script s;
  EXPECT_EQ(s.send("EHLO client.test\r\n").bytes,
            "250-mx.test\r\n250-STARTTLS\r\n250 ENHANCEDSTATUSCODES\r\n");
  EXPECT_TRUE(std::holds_alternative<Session::Ready>(s.session.state()));
  auto out = s.send("STARTTLS\r\n");
  EXPECT_EQ(out.bytes, "220 2.0.0 Ready to start TLS\r\n");
  EXPECT_EQ(out.after, net::After::start_tls);
  s.session.tls_started({"TLSv1.3", "TLS_AES_128_GCM_SHA256"});
  EXPECT_TRUE(std::holds_alternative<Session::Greeted>(s.session.state()));
  EXPECT_EQ(s.send("EHLO client.test\r\n").bytes, "250-mx.test\r\n250 ENHANCEDSTATUSCODES\r\n");
  EXPECT_EQ(s.send("STARTTLS\r\n").bytes, "503 5.5.1 Error: TLS already active\r\n");
}

TEST(SmtpSession, StartTlsDiscardsEverythingPipelinedAfterIt) {
  Script s;
  auto out = s.send("EHLO x\r\nSTARTTLS\r\nXINJECT\r\nMAIL FROM:<a@b>\r\n");
  EXPECT_EQ(out.after, net::After::start_tls);
  EXPECT_EQ(out.bytes.find("XINJECT"), std::string::npos);
  EXPECT_TRUE(out.bytes.ends_with("220 2.0.0 Ready to start TLS\r\n"));
  EXPECT_TRUE(s.input.empty());
}

TEST(SmtpSession, StartTlsWithArgumentsIsASyntaxError) {
  Script s;
  EXPECT_EQ(s.send("STARTTLS now\r\n").bytes, "501 5.5.4 Syntax error: no arguments allowed\r\n");
}

TEST(SmtpSession, NotYetImplementedAndUnknownCommands) {
  Script s;
  EXPECT_EQ(s.send("MAIL FROM:<a@b>\r\n").bytes, "502 5.5.1 Error: command not implemented\r\n");
  EXPECT_EQ(s.send("XYZZY\r\n").bytes, "500 5.5.2 Error: command not recognized\r\n");
  EXPECT_EQ(s.send("NOOP\r\nRSET\r\n").bytes, "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n");
}

TEST(SmtpSession, HttpRequestIsAnsweredAndClosed) {
  Script s;
  auto out = s.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(out.bytes, "221 2.7.0 Error: I can break rules, too. Goodbye.\r\n");
  EXPECT_EQ(out.after, net::After::close);
}

TEST(SmtpSession, HeloWithControlCharactersOrTooLongIsRefused) {
  Script s;
  EXPECT_EQ(s.send("EHLO evil\rX-Injected: 1\r\n").bytes, "501 5.5.4 Syntax: EHLO hostname\r\n");
  EXPECT_EQ(s.send("HELO " + std::string(1000, 'a') + "\r\n").bytes,
            "501 5.5.4 Syntax: HELO hostname\r\n");
  EXPECT_TRUE(std::holds_alternative<Session::Greeted>(s.session.state()));
}

TEST(SmtpSession, LineLimitAtItsBoundaryAndResync) {
  Script s;
  EXPECT_EQ(s.send("NOOP " + std::string(2043, 'a') + "\r\n").bytes, "250 2.0.0 Ok\r\n");
  EXPECT_EQ(s.send("NOOP " + std::string(2044, 'a') + "\r\nNOOP\r\n").bytes,
            "500 5.5.2 Error: line too long\r\n250 2.0.0 Ok\r\n");
}

TEST(SmtpSession, EndlessLineIsNotBuffered) {
  Script s;
  EXPECT_EQ(s.send(std::string(100000, 'A')).bytes, "500 5.5.2 Error: line too long\r\n");
  EXPECT_TRUE(s.input.empty());
  EXPECT_EQ(s.send(std::string(100000, 'A')).bytes, "");
  EXPECT_EQ(s.send("\r\nNOOP\r\n").bytes, "250 2.0.0 Ok\r\n");
}

TEST(SmtpSession, TooManyErrorsEndsWith421) {
  Script s;
  auto out = s.send("X\r\nX\r\nX\r\nX\r\nX\r\nNOOP\r\n");
  EXPECT_TRUE(out.bytes.ends_with("421 4.7.0 mx.test Error: too many errors\r\n"));
  EXPECT_EQ(out.after, net::After::close);
  EXPECT_EQ(out.bytes.find("250"), std::string::npos);
}

TEST(SmtpSession, SameAnswersAtEverySplitPoint) {
  const std::string script = "EHLO a.test\r\nNOOP\r\nXX\r\nHELO b\r\nQUIT\r\nNOOP\r\n";
  Script whole;
  const auto expected = whole.send(script);
  EXPECT_EQ(expected.after, net::After::close);
  for (std::size_t chunk = 1; chunk < script.size(); ++chunk) {
    Script s;
    std::string got;
    net::After after = net::After::read;
    for (std::size_t pos = 0; pos < script.size() && after == net::After::read; pos += chunk) {
      auto out = s.send(script.substr(pos, chunk));
      got += out.bytes;
      after = out.after;
    }
    EXPECT_EQ(got, expected.bytes) << "chunk " << chunk;
    EXPECT_EQ(after, net::After::close);
  }
}

TEST(SmtpSession, TimeoutAndShutdownReplies) {
  Script s;
  EXPECT_EQ(s.session.timeout_reply(), "421 4.4.2 mx.test Error: timeout exceeded\r\n");
  EXPECT_EQ(s.session.shutdown_reply(), "421 4.3.2 mx.test Service shutting down\r\n");
}

}  // namespace
}  // namespace postino::smtp
