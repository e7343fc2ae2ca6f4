// Tests for FETCH body sections (RFC 3501 §6.4.5).
#include "imap/wire/section.hpp"

#include <gtest/gtest.h>

namespace postino::imap::wire {
namespace {

const std::string kMessage =
    "From: a@x.test\r\nSubject: outer\r\nX-Long: one\r\n two\r\n"
    "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
    "--b1\r\n"
    "Content-Type: text/plain\r\n\r\n"
    "hello\r\n"
    "--b1\r\n"
    "Content-Type: message/rfc822\r\n\r\n"
    "Subject: inner\r\nContent-Type: multipart/alternative; boundary=b2\r\n\r\n"
    "--b2\r\n\r\nplain\r\n--b2\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--b2--\r\n"
    "--b1--\r\n";

std::string cut(std::string_view spec) {
  auto section = parse_section(spec);
  if (!section) return "(invalid)";
  std::string storage;
  return std::string(section_bytes(mime::parse_structure(kMessage), kMessage, *section, storage));
}

TEST(Section, ParsesAndEchoes) {
  EXPECT_EQ(parse_section("")->name, "");
  EXPECT_EQ(parse_section("1.2.mime")->name, "1.2.MIME");
  EXPECT_EQ(parse_section("header.fields (From \"To\")")->name, "HEADER.FIELDS (FROM TO)");
  EXPECT_EQ(parse_section("2.HEADER.FIELDS.NOT (Subject)")->path, (std::vector<std::uint32_t>{2}));
  for (auto bad : {"0", "1.", ".1", "MIME", "HEADER.FIELDS ()", "HEADER.FIELDS From", "BOGUS",
                   "1.2x", "HEADER.FIELDS (a:b)", "TEXTS"}) {
    EXPECT_FALSE(parse_section(bad)) << bad;
  }
}

TEST(Section, CutsPartsOfANestedMessage) {
  EXPECT_EQ(cut(""), kMessage);
  EXPECT_EQ(cut("1"), "hello");
  EXPECT_EQ(cut("1.MIME"), "Content-Type: text/plain\r\n\r\n");
  EXPECT_EQ(cut("2.HEADER"),
            "Subject: inner\r\nContent-Type: multipart/alternative; boundary=b2\r\n\r\n");
  EXPECT_EQ(cut("2.1"), "plain");
  EXPECT_EQ(cut("2.2"), "<p>html</p>");
  EXPECT_EQ(cut("2.2.MIME"), "Content-Type: text/html\r\n\r\n");
  EXPECT_EQ(cut("2.HEADER.FIELDS (subject)"), "Subject: inner\r\n\r\n");
  EXPECT_TRUE(cut("2.TEXT").starts_with("--b2\r\n"));
  EXPECT_EQ(cut("1.TEXT"), "");  // not a message: empty
  // As Dovecot answers: a missing part is empty, part 1 of a leaf is the leaf.
  EXPECT_EQ(cut("3"), "");
  EXPECT_EQ(cut("2.3"), "");
  EXPECT_EQ(cut("1.1"), "hello");
  EXPECT_EQ(cut("1.2"), "");
}

TEST(Section, SinglePartMessageIsPartOne) {
  const std::string m = "Subject: s\r\n\r\nbody\r\n";
  const auto s = mime::parse_structure(m);
  std::string storage;
  EXPECT_EQ(section_bytes(s, m, *parse_section("1"), storage), "body\r\n");
  EXPECT_EQ(section_bytes(s, m, *parse_section("TEXT"), storage), "body\r\n");
  EXPECT_EQ(section_bytes(s, m, *parse_section("2"), storage), "");
}

TEST(Section, HeaderFieldsKeepOrderAndFolding) {
  const std::string h = "From: a\r\nX-Long: one\r\n two\r\nTo: b\r\nx-long: again\r\n\r\n";
  EXPECT_EQ(filter_header_fields(h, {"x-LONG", "from"}, false),
            "From: a\r\nX-Long: one\r\n two\r\nx-long: again\r\n\r\n");
  EXPECT_EQ(filter_header_fields(h, {"X-Long"}, true), "From: a\r\nTo: b\r\n\r\n");
  EXPECT_EQ(filter_header_fields(h, {"Cc"}, false), "\r\n");
}

}  // namespace
}  // namespace postino::imap::wire
