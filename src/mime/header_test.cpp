// Tests for header fields and structured MIME fields.
#include "mime/header.hpp"

#include <gtest/gtest.h>

namespace postino::mime {
namespace {

TEST(Header, SplitsFieldsWithFoldingAndStopsAtTheBlankLine) {
  const std::string block =
      "From: a@b\r\nSubject: one\r\n two\r\n\tthree\r\nbroken line\r\nX-Empty:\r\n\r\nBody: no\r\n";
  auto fields = parse_header(block);
  ASSERT_EQ(fields.size(), 3u);
  EXPECT_EQ(fields[0].name, "From");
  EXPECT_EQ(fields[1].value, " one\r\n two\r\n\tthree");
  EXPECT_EQ(unfold(fields[1].value), "one two\tthree");
  EXPECT_EQ(fields[2].name, "X-Empty");
  EXPECT_EQ(find_field(fields, "subject"), &fields[1]);
  EXPECT_EQ(find_field(fields, "Body"), nullptr);
}

TEST(Header, BareLfAndMissingFinalLineBreak) {
  auto fields = parse_header("A: 1\nB: 2\n continued");
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(unfold(fields[1].value), "2 continued");
}

TEST(Header, ContentTypeWithCommentsQuotesAndCase) {
  auto ct = parse_content_type(
      " (comment) Multipart/Mixed (another (nested) one); BOUNDARY=\"=_a b;c\\\"d\"; charset=utf-8 "
      "(x)");
  ASSERT_TRUE(ct.is_valid);
  EXPECT_EQ(ct.type, "multipart");
  EXPECT_EQ(ct.subtype, "mixed");
  ASSERT_EQ(ct.parameters.size(), 2u);
  EXPECT_EQ(ct.parameters[0].name, "boundary");
  EXPECT_EQ(ct.parameters[0].value, "=_a b;c\"d");
  EXPECT_EQ(ct.parameters[1].value, "utf-8");
  EXPECT_FALSE(parse_content_type("text").is_valid);
  EXPECT_FALSE(parse_content_type("/plain").is_valid);
  EXPECT_FALSE(parse_content_type("").is_valid);
}

TEST(Header, Rfc2231ContinuationsAndCharsets) {
  // RFC 2231 §3 and §4.1 examples.
  auto ps = parse_parameters(
      "; URL*0=\"ftp://\"; URL*1=\"cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar\"");
  ASSERT_EQ(ps.size(), 1u);
  EXPECT_EQ(ps[0].name, "url");
  EXPECT_EQ(ps[0].value, "ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar");
  ps = parse_parameters(
      "; title*0*=us-ascii'en'This%20is%20even%20more%20; title*1*=%2A%2A%2Afun%2A%2A%2A%20;"
      " title*2=\"isn't it!\"");
  ASSERT_EQ(ps.size(), 1u);
  EXPECT_EQ(ps[0].value, "This is even more ***fun*** isn't it!");
  EXPECT_EQ(ps[0].charset, "us-ascii");
  EXPECT_EQ(ps[0].language, "en");
  ps = parse_parameters("; filename*=UTF-8''%E2%82%AC%20rates.pdf; size=12");
  ASSERT_EQ(ps.size(), 2u);
  EXPECT_EQ(ps[0].value, "\xe2\x82\xac rates.pdf");
  EXPECT_EQ(ps[0].charset, "utf-8");
  EXPECT_EQ(ps[1].value, "12");
}

TEST(Header, BrokenParametersAreSkippedNotFatal) {
  auto ps = parse_parameters("; =x; a; b=\"unterminated; c=3");
  ASSERT_EQ(ps.size(), 1u);
  EXPECT_EQ(ps[0].name, "b");
  ps = parse_parameters("; name*1=second; name*0=first");
  ASSERT_EQ(ps.size(), 1u);
  EXPECT_EQ(ps[0].value, "firstsecond");
  ps = parse_parameters("; p*0=a; p*2=c");  // a gap ends the value
  EXPECT_EQ(ps[0].value, "a");
}

TEST(Header, DispositionEncodingAndLanguages) {
  auto d = parse_disposition("Attachment; filename=\"a.txt\"");
  EXPECT_EQ(d.type, "attachment");
  EXPECT_EQ(d.parameters[0].value, "a.txt");
  EXPECT_EQ(parse_token(" Base64 (comment)"), "base64");
  EXPECT_EQ(parse_token_list("en, de-CH (Swiss),fr"),
            (std::vector<std::string>{"en", "de-CH", "fr"}));
}

TEST(Header, AQuotedPairAtTheEndOfAValueEndsIt) {
  // Found by fuzz/mime_fields: a last "\\" inside a comment read past the value (a
  // Content-Disposition like this made delivery throw).
  EXPECT_EQ(parse_disposition("attachment (\\").type, "attachment");
  EXPECT_EQ(parse_disposition("attachment; filename=a (x\\").type, "attachment");
  EXPECT_EQ(parse_content_type("text/plain (\\").subtype, "plain");
  EXPECT_EQ(parse_token("(\\"), "");
}

}  // namespace
}  // namespace postino::mime
