// Tests for MAIL/RCPT argument parsing (RELIABILITY S05–S08, R01).
#include "smtp/wire/envelope.hpp"

#include <gtest/gtest.h>

namespace postino::smtp::wire {
namespace {

MailFrom mail_ok(std::string_view arg) {
  auto r = parse_mail_from(arg);
  if (auto* e = std::get_if<EnvelopeError>(&r)) ADD_FAILURE() << arg << ": " << e->reply;
  return std::get_if<MailFrom>(&r) ? std::get<MailFrom>(r) : MailFrom{};
}

std::string mail_error(std::string_view arg) {
  auto r = parse_mail_from(arg);
  return std::holds_alternative<EnvelopeError>(r) ? std::get<EnvelopeError>(r).reply : "accepted";
}

std::string rcpt_error(std::string_view arg) {
  auto r = parse_rcpt_to(arg);
  return std::holds_alternative<EnvelopeError>(r) ? std::get<EnvelopeError>(r).reply : "accepted";
}

TEST(Envelope, MailFromWithParameters) {
  auto m = mail_ok("FROM:<Alice@Example.org> SIZE=1000 BODY=8BITMIME RET=HDRS ENVID=a+2Bb AUTH=<>");
  ASSERT_TRUE(m.sender);
  EXPECT_EQ(m.sender->str(), "Alice@Example.org");
  EXPECT_EQ(m.size, 1000u);
  EXPECT_EQ(m.body, Body::eight_bit_mime);
  EXPECT_EQ(m.ret, Ret::headers);
  EXPECT_EQ(m.envid, "a+b");
  EXPECT_EQ(m.auth, "");
  EXPECT_FALSE(mail_ok("from: <>").sender);  // the null reverse-path, lenient spacing
  EXPECT_EQ(mail_ok("FROM:bare@example.org").sender->str(), "bare@example.org");
  EXPECT_EQ(mail_ok("FROM:<\"john doe\"@example.org>").sender->str(), "\"john doe\"@example.org");
  EXPECT_EQ(mail_ok("FROM:<@relay.example,@b.example:u@example.org>").sender->str(),
            "u@example.org");
  EXPECT_EQ(mail_ok("FROM:<u@[192.0.2.1]>").sender->domain, "[192.0.2.1]");
  EXPECT_TRUE(mail_ok("FROM:<j\xc3\xb6rg@example.org> SMTPUTF8").smtputf8);
}

TEST(Envelope, MalformedSendersAndParameters) {
  EXPECT_EQ(mail_error(std::string("FROM:<a\0b@x>", 13)), "501 5.1.7 Bad sender address syntax");
  EXPECT_EQ(mail_error("FROM:<a@b> ENVID=\xe2\x82"), "501 5.5.4 Syntax error in parameters");
  EXPECT_EQ(mail_error("FROM:<;sleep 66;>"), "501 5.1.7 Bad sender address syntax");
  EXPECT_EQ(mail_error("FROM:<a@b> X=\""), "555 5.5.4 Unsupported option: X");
  EXPECT_EQ(mail_error("FROM:<a@b> ="), "501 5.5.4 Syntax error in parameters");
  EXPECT_EQ(mail_error("FROM:<\"a b\"@c> SIZE="), "501 5.5.4 Syntax error in parameters");
  EXPECT_EQ(mail_ok("FROM:<a@b> SIZE=99999999999999999999").size, UINT64_MAX);  // no wrap
  EXPECT_EQ(mail_error("FROM:<a@b> SIZE=999999999999999999999"),
            "501 5.5.4 Syntax error in parameters");
  EXPECT_EQ(mail_error("FROM:<a@b> SIZE=12x"), "501 5.5.4 Syntax error in parameters");
  EXPECT_EQ(mail_error("FROM:<a@b> BODY=BINARYMIME"), "555 5.5.4 Unsupported BODY type");
  EXPECT_EQ(mail_error("FROM:<> AUTH=Raven+0AReyes"), "501 5.5.4 Syntax error in parameters");
  EXPECT_EQ(mail_error("FROM:<a@b> ENVID=a+00b"), "501 5.5.4 Syntax error in parameters");
  EXPECT_EQ(mail_error("TO:<a@b>"), "501 5.5.4 Syntax: MAIL FROM:<address>");
  EXPECT_EQ(mail_error("FROM:<a@b"), "501 5.1.7 Bad sender address syntax");
  EXPECT_EQ(mail_error("FROM:<j\xc3\xb6rg@example.org>"),
            "553 5.6.7 Non-ASCII address requires SMTPUTF8");
  EXPECT_EQ(mail_error("FROM:<a@b> ENVID=" + std::string(600, 'x')),
            "501 5.5.4 Parameter value too long");
}

TEST(Envelope, RcptToWithDsnParameters) {
  auto r = parse_rcpt_to(
      "TO:<demo@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;demo+2B1@example.test");
  ASSERT_TRUE(std::holds_alternative<RcptTo>(r));
  auto& rcpt = std::get<RcptTo>(r);
  EXPECT_TRUE(rcpt.notify.success && rcpt.notify.failure && !rcpt.notify.delay);
  EXPECT_EQ(rcpt.orcpt_type, "rfc822");
  EXPECT_EQ(rcpt.orcpt_address, "demo+1@example.test");
  auto pm = parse_rcpt_to("TO:<Postmaster>");
  ASSERT_TRUE(std::holds_alternative<RcptTo>(pm));
  EXPECT_EQ(std::get<RcptTo>(pm).recipient.domain, "");
}

TEST(Envelope, MalformedRecipients) {
  for (auto bad : {"TO:<>", "TO:<\"\"@example.test>", "TO:<a@@b>", "TO:<a@b..c>", "TO:<a b@c>",
                   "TO:<${run{/bin/sh -c id}}@example.test", "TO:<v@external.example@example.test>",
                   "TO:<external.example!v>"}) {
    EXPECT_EQ(rcpt_error(bad).substr(0, 3), "501") << bad;
  }
  EXPECT_EQ(rcpt_error("TO:<a@b> NOTIFY=NEVER,SUCCESS"), "501 5.5.4 Syntax error in parameters");
  EXPECT_EQ(rcpt_error("TO:<a@b> ORCPT=rfc822;x+0D+0AX-Injected:+201"),
            "501 5.5.4 Syntax error in parameters");
  EXPECT_EQ(rcpt_error("TO:<a@b> ORCPT=rfc822;" + std::string(20000, 'x')),
            "501 5.5.4 Parameter value too long");
  EXPECT_EQ(rcpt_error("TO:<a@b> FOO=1"), "555 5.5.4 Unsupported option: FOO");
}

TEST(Envelope, Xtext) {
  EXPECT_EQ(decode_xtext("a+2Bb+3D"), "a+b=");
  EXPECT_FALSE(decode_xtext("a+2b"));  // lower-case hex
  EXPECT_FALSE(decode_xtext("a+2"));   // truncated
  EXPECT_FALSE(decode_xtext("a+0A"));  // LF
  EXPECT_FALSE(decode_xtext("a=b"));
  EXPECT_FALSE(decode_xtext("a b"));
}

}  // namespace
}  // namespace postino::smtp::wire
