// Tests for the MIME structure parser: exact offsets, broken mail, limits.
#include "mime/part.hpp"

#include <gtest/gtest.h>

namespace postino::mime {
namespace {

std::string_view header_of(std::string_view msg, const Part& p) {
  return msg.substr(p.header_offset, p.header_size);
}
std::string_view body_of(std::string_view msg, const Part& p) {
  return msg.substr(p.body_offset, p.body_size);
}

TEST(Structure, PlainMessageDefaultsToTextPlainUsAscii) {
  const std::string msg = "From: a@b\r\nSubject: hi\r\n\r\nline 1\r\nline 2\r\n";
  auto s = parse_structure(msg);
  ASSERT_EQ(s.parts.size(), 1u);
  const auto& p = s.parts[0];
  EXPECT_EQ(header_of(msg, p), "From: a@b\r\nSubject: hi\r\n\r\n");
  EXPECT_EQ(body_of(msg, p), "line 1\r\nline 2\r\n");
  EXPECT_EQ(p.body_lines, 2u);
  EXPECT_EQ(p.type, "text");
  EXPECT_EQ(p.subtype, "plain");
  ASSERT_EQ(p.parameters.size(), 1u);
  EXPECT_EQ(p.parameters[0].value, "us-ascii");
  EXPECT_EQ(p.encoding, "7bit");
  EXPECT_FALSE(s.is_truncated);
}

TEST(Structure, NoBlankLineMeansAllHeaderAndEmptyBody) {
  const std::string msg = "Subject: x\r\nFrom: y";
  auto s = parse_structure(msg);
  EXPECT_EQ(s.parts[0].header_size, msg.size());
  EXPECT_EQ(s.parts[0].body_size, 0u);
  auto empty = parse_structure("");
  EXPECT_EQ(empty.parts[0].header_size, 0u);
  auto body_only = parse_structure("\r\nbody");
  EXPECT_EQ(body_only.parts[0].header_size, 2u);
  EXPECT_EQ(body_of("\r\nbody", body_only.parts[0]), "body");
}

const std::string nested =
    "Content-Type: multipart/mixed; boundary=outer\r\n"
    "\r\n"
    "preamble\r\n"
    "--outer\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "first=20part\r\n"
    "--outer\r\n"
    "Content-Type: multipart/alternative; boundary=\"inner\"\r\n"
    "\r\n"
    "--inner\r\n"
    "\r\n"
    "plain\r\n"
    "--inner\r\n"
    "Content-Type: text/html\r\n"
    "\r\n"
    "<p>html</p>\r\n"
    "--inner--\r\n"
    "--outer\r\n"
    "Content-Type: message/rfc822\r\n"
    "Content-Disposition: attachment; filename=fwd.eml\r\n"
    "\r\n"
    "Subject: inner message\r\n"
    "\r\n"
    "inner body\r\n"
    "--outer--  \r\n"
    "epilogue\r\n";

TEST(Structure, NestedMultipartsAndAnEncapsulatedMessage) {
  auto s = parse_structure(nested);
  ASSERT_EQ(s.parts.size(), 7u);
  const auto& root = s.parts[0];
  EXPECT_EQ(root.type, "multipart");
  EXPECT_EQ(root.subtype, "mixed");
  ASSERT_EQ(root.children.size(), 3u);
  const auto& first = s.parts[root.children[0]];
  EXPECT_EQ(body_of(nested, first), "first=20part");  // the CRLF before "--outer" is not its
  EXPECT_EQ(first.encoding, "quoted-printable");
  EXPECT_EQ(first.parameters[0].value, "utf-8");
  EXPECT_EQ(first.body_lines, 0u);
  const auto& alt = s.parts[root.children[1]];
  EXPECT_EQ(alt.subtype, "alternative");
  ASSERT_EQ(alt.children.size(), 2u);
  const auto& plain = s.parts[alt.children[0]];
  EXPECT_EQ(plain.header_size, 2u);  // just the blank line
  EXPECT_EQ(body_of(nested, plain), "plain");
  EXPECT_EQ(body_of(nested, s.parts[alt.children[1]]), "<p>html</p>");
  const auto& rfc822 = s.parts[root.children[2]];
  EXPECT_TRUE(rfc822.is_message_rfc822());
  EXPECT_EQ(rfc822.disposition, "attachment");
  EXPECT_EQ(rfc822.disposition_parameters[0].value, "fwd.eml");
  ASSERT_EQ(rfc822.children.size(), 1u);
  const auto& inner = s.parts[rfc822.children[0]];
  EXPECT_EQ(header_of(nested, inner), "Subject: inner message\r\n\r\n");
  EXPECT_EQ(body_of(nested, inner), "inner body");
  EXPECT_EQ(inner.parent, root.children[2]);
  EXPECT_EQ(rfc822.body_size, inner.header_size + inner.body_size);
}

TEST(Structure, MissingCloseDelimiterEndsAtTheParentsEnd) {
  const std::string msg =
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nonly part\r\nno close\r\n";
  auto s = parse_structure(msg);
  ASSERT_EQ(s.parts.size(), 2u);
  EXPECT_EQ(body_of(msg, s.parts[1]), "only part\r\nno close\r\n");
}

TEST(Structure, InnerMultipartWithoutCloseStopsAtTheOuterDelimiter) {
  const std::string msg =
      "Content-Type: multipart/mixed; boundary=outer\r\n\r\n"
      "--outer\r\nContent-Type: multipart/mixed; boundary=inner\r\n\r\n"
      "--inner\r\n\r\nA\r\n"
      "--outer\r\n\r\nB\r\n--outer--\r\n";
  auto s = parse_structure(msg);
  const auto& root = s.parts[0];
  ASSERT_EQ(root.children.size(), 2u);
  const auto& inner = s.parts[root.children[0]];
  ASSERT_EQ(inner.children.size(), 1u);
  EXPECT_EQ(body_of(msg, s.parts[inner.children[0]]), "A");
  EXPECT_EQ(body_of(msg, s.parts[root.children[1]]), "B");
}

TEST(Structure, BoundaryMustMatchTheWholeDelimiterLine) {
  const std::string msg =
      "Content-Type: multipart/mixed; boundary=abc\r\n\r\n"
      "--abc\r\n\r\n--abcdef is text\r\n--abc--\r\n";
  auto s = parse_structure(msg);
  ASSERT_EQ(s.parts.size(), 2u);
  EXPECT_EQ(body_of(msg, s.parts[1]), "--abcdef is text");
}

TEST(Structure, MultipartWithoutBoundaryOrDelimitersIsOneTextPart) {
  for (const std::string msg :
       {"Content-Type: multipart/mixed\r\n\r\nno boundary\r\n",
        "Content-Type: multipart/mixed; boundary=x\r\n\r\nno delimiter\r\n"}) {
    auto s = parse_structure(msg);
    ASSERT_EQ(s.parts.size(), 1u);
    EXPECT_EQ(s.parts[0].type, "text");
  }
}

TEST(Structure, DigestPartsDefaultToMessageRfc822) {
  const std::string msg =
      "Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: "
      "one\r\n\r\nbody\r\n--d--\r\n";
  auto s = parse_structure(msg);
  ASSERT_EQ(s.parts.size(), 3u);
  EXPECT_TRUE(s.parts[1].is_message_rfc822());
  EXPECT_EQ(header_of(msg, s.parts[2]), "Subject: one\r\n\r\n");
}

TEST(Structure, BareLfMessages) {
  const std::string msg = "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\ny\n--b--\n";
  auto s = parse_structure(msg);
  ASSERT_EQ(s.parts.size(), 2u);
  EXPECT_EQ(body_of(msg, s.parts[1]), "x\ny");
  EXPECT_EQ(s.parts[1].body_lines, 1u);
}

TEST(Structure, DeepNestingIsCutAtTheLimitWithoutStackGrowth) {
  // RELIABILITY M01: 10,000 nested multiparts.
  std::string msg;
  for (int i = 0; i < 10000; ++i) {
    msg += "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\r\n\r\n--b" +
           std::to_string(i) + "\r\n";
  }
  msg += "\r\ninnermost\r\n";
  auto s = parse_structure(msg);
  EXPECT_TRUE(s.is_truncated);
  EXPECT_LE(s.parts.size(), 102u);
  // message/rfc822 nested 1,000 deep.
  std::string deep;
  for (int i = 0; i < 1000; ++i) deep += "Content-Type: message/rfc822\r\n\r\n";
  deep += "Subject: x\r\n\r\nbody\r\n";
  auto d = parse_structure(deep);
  EXPECT_TRUE(d.is_truncated);
  EXPECT_LE(d.parts.size(), 101u);
}

TEST(Structure, PartCountIsCapped) {
  std::string msg = "Content-Type: multipart/mixed; boundary=b\r\n\r\n";
  for (int i = 0; i < 20000; ++i) msg += "--b\r\n\r\nx\r\n";
  msg += "--b--\r\n";
  Limits limits;
  limits.max_parts = 1000;
  auto s = parse_structure(msg, limits);
  EXPECT_TRUE(s.is_truncated);
  EXPECT_EQ(s.parts.size(), 1000u);
}

TEST(Structure, HugeHeaderParsesInLinearTime) {
  // RELIABILITY M02: 500,000 "To:" lines.
  std::string msg;
  for (int i = 0; i < 500000; ++i) msg += "To: a@b\r\n";
  msg += "Content-Type: text/html\r\n\r\nbody\r\n";
  const auto start = std::chrono::steady_clock::now();
  auto s = parse_structure(msg);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(s.parts[0].subtype, "html");
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

}  // namespace
}  // namespace postino::mime
