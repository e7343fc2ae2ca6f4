// Tests for ENVELOPE formatting (RFC 3501 §7.4.2).
#include "imap/wire/envelope.hpp"

#include <gtest/gtest.h>

namespace postino::imap::wire {
namespace {

TEST(Nstring, ChoosesTheForm) {
  EXPECT_EQ(nstring(""), "NIL");
  EXPECT_EQ(nstring("plain"), "\"plain\"");
  EXPECT_EQ(nstring("a \"q\" \\"), "\"a \\\"q\\\" \\\\\"");
  EXPECT_EQ(nstring("J\xc3\xb6rg"), "{5}\r\nJ\xc3\xb6rg");
  EXPECT_EQ(nstring("a\r\nb"), "{4}\r\na\r\nb");
  EXPECT_EQ(nstring(std::string(1024, 'x')), "\"" + std::string(1024, 'x') + "\"");
  EXPECT_EQ(nstring(std::string(1025, 'x')),
            "{1025}\r\n" + std::string(1025, 'x'));  // long: literal
}

TEST(Envelope, FullMessage) {
  mime::EnvelopeFields f;
  f.date = "Mon, 7 Feb 1994 21:52:25 -0800";
  f.subject = "afternoon meeting";
  f.from = "Terry Gray <gray@cac.washington.edu>";
  f.to = "imap@cac.washington.edu";
  f.cc = "minutes@CNRI.Reston.VA.US, \"John Klensin\" <KLENSIN@MIT.EDU>";
  f.message_id = "<B27397-0100000@cac.washington.edu>";
  // The example of RFC 3501 §8, in one line.
  EXPECT_EQ(format_envelope(f),
            "(\"Mon, 7 Feb 1994 21:52:25 -0800\" \"afternoon meeting\" "
            "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
            "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
            "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
            "((NIL NIL \"imap\" \"cac.washington.edu\")) "
            "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")"
            "(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) "
            "NIL NIL \"<B27397-0100000@cac.washington.edu>\")");
}

TEST(Envelope, EmptyAndGroups) {
  EXPECT_EQ(format_envelope({}), "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
  mime::EnvelopeFields f;
  f.from = "a@x.test";
  f.reply_to = "r@y.test";
  f.to = "undisclosed-recipients:;";
  f.bcc = "nobody";
  EXPECT_EQ(format_envelope(f),
            "(NIL NIL ((NIL NIL \"a\" \"x.test\")) ((NIL NIL \"a\" \"x.test\")) "
            "((NIL NIL \"r\" \"y.test\")) "
            "((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) NIL "
            "((NIL NIL \"nobody\" \"MISSING_DOMAIN\")) NIL NIL)");
}

}  // namespace
}  // namespace postino::imap::wire
