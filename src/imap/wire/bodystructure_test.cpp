// Tests for BODY and BODYSTRUCTURE (RFC 3501 §7.4.2) from a parsed MIME structure.
#include "imap/wire/bodystructure.hpp"

#include <gtest/gtest.h>

namespace postino::imap::wire {
namespace {

std::string structure_of(std::string_view message, bool extensible) {
  const auto s = mime::parse_structure(message);
  return format_bodystructure(s, bodystructure_needs_message(s) ? message : "", extensible);
}

TEST(BodyStructure, PlainText) {
  const std::string m = "Subject: x\r\n\r\nline one\r\nline two\r\n";
  EXPECT_EQ(structure_of(m, false),
            "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 20 2)");
  EXPECT_EQ(
      structure_of(m, true),
      "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 20 2 NIL NIL NIL NIL)");
}

TEST(BodyStructure, MultipartWithAttachmentAndMessage) {
  const std::string m =
      "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
      "--b1\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
      "hi\r\n"
      "--b1\r\n"
      "Content-Type: application/pdf; name=\"r.pdf\"\r\n"
      "Content-Disposition: attachment; filename=\"r.pdf\"\r\n"
      "Content-Transfer-Encoding: base64\r\n"
      "Content-ID: <c1@x>\r\n\r\n"
      "AAAA\r\n"
      "--b1\r\n"
      "Content-Type: message/rfc822\r\n\r\n"
      "From: a@x.test\r\nSubject: inner\r\n\r\nbody\r\n"
      "--b1--\r\n";
  EXPECT_EQ(
      structure_of(m, false),
      // The CRLF before a boundary belongs to the boundary (RFC 2046 §5.1.1).
      "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 2 0)"
      "(\"application\" \"pdf\" (\"name\" \"r.pdf\") \"<c1@x>\" NIL \"base64\" 4)"
      "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 38 (NIL \"inner\" "
      "((NIL NIL \"a\" \"x.test\")) ((NIL NIL \"a\" \"x.test\")) ((NIL NIL \"a\" \"x.test\")) "
      "NIL NIL NIL NIL NIL) "
      "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 4 0) 3) \"mixed\")");
  const auto ext = structure_of(m, true);
  EXPECT_NE(ext.find("\"base64\" 4 NIL (\"attachment\" (\"filename\" \"r.pdf\")) NIL NIL)"),
            std::string::npos)
      << ext;
  EXPECT_TRUE(ext.ends_with(" \"mixed\" (\"boundary\" \"b1\") NIL NIL NIL)")) << ext;
}

TEST(BodyStructure, MultipartWithoutPartsStillShowsOne) {
  // The parser reads a multipart whose boundary never appears as one text part.
  EXPECT_EQ(
      structure_of("Content-Type: multipart/mixed; boundary=zz\r\n\r\nno parts at all\r\n", false),
      "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 17 1)");
  // A multipart with no children (RFC 3501's grammar wants one) shows an empty text part.
  mime::Structure s;
  s.parts.emplace_back();
  s.parts[0].type = "multipart";
  s.parts[0].subtype = "mixed";
  EXPECT_EQ(format_bodystructure(s, "", false),
            "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0) \"mixed\")");
}

}  // namespace
}  // namespace postino::imap::wire
