// Tests for modified UTF-7 (RFC 3501 §5.1.3; RELIABILITY I02) and astrings.
#include "imap/wire/mailbox_name.hpp"

#include <gtest/gtest.h>

namespace postino::imap::wire {
namespace {

TEST(MailboxName, DecodesAndEncodesRoundTrip) {
  EXPECT_EQ(decode_mutf7("p&AOQA5A-"), "p\xc3\xa4\xc3\xa4");  // "pää"
  EXPECT_EQ(encode_mutf7("p\xc3\xa4\xc3\xa4"), "p&AOQA5A-");
  EXPECT_EQ(decode_mutf7("&2D3cAA-"), "\xf0\x9f\x90\x80");  // a surrogate pair: U+1F400
  EXPECT_EQ(decode_mutf7("~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
            "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
  EXPECT_EQ(
      encode_mutf7("~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"),
      "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
  EXPECT_EQ(decode_mutf7("Tom &- Jerry"), "Tom & Jerry");
  EXPECT_EQ(encode_mutf7("Tom & Jerry"), "Tom &- Jerry");
  const std::string emoji = "\xf0\x9f\x93\xa7 mail";  // a surrogate pair
  EXPECT_EQ(decode_mutf7(encode_mutf7(emoji)), emoji);
  EXPECT_EQ(decode_mutf7("INBOX"), "INBOX");
}

TEST(MailboxName, RefusesInvalidEncodings) {
  // "&2D0-" is a lone high surrogate, "&3AA-" a lone low one.
  for (auto bad : {"&", "&Jjo", "&Jjo!", "&U,BTFw-&ZeVnLIqe-", "&AGE-", "&2D0-", "a\xc3\xa4",
                   "&Jj-", "&3AA-"}) {
    EXPECT_FALSE(decode_mutf7(bad)) << bad;
  }
}

TEST(MailboxName, Astrings) {
  EXPECT_EQ(astring("INBOX"), "INBOX");
  EXPECT_EQ(astring("Sent Items"), "\"Sent Items\"");
  EXPECT_EQ(astring("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(astring(""), "\"\"");
  EXPECT_EQ(astring("x*"), "\"x*\"");
}

TEST(MailboxName, ListWildcards) {
  EXPECT_TRUE(list_matches("*", "INBOX/Sub"));
  EXPECT_TRUE(list_matches("%", "INBOX"));
  EXPECT_FALSE(list_matches("%", "INBOX/Sub"));  // % stops at the hierarchy delimiter
  EXPECT_TRUE(list_matches("INBOX/%", "INBOX/Sub"));
  EXPECT_TRUE(list_matches("I*b", "INBOX/Sub"));
  EXPECT_TRUE(list_matches("I%*b", "INBOX/Sub"));  // "%*" is "*"
  EXPECT_FALSE(list_matches("I%b", "INBOX/Sub"));
  EXPECT_TRUE(list_matches("%/%", "a/b"));
  EXPECT_FALSE(list_matches("", "a"));
  EXPECT_TRUE(list_matches("", ""));
  EXPECT_FALSE(list_matches("a*", ""));
  EXPECT_TRUE(list_matches("**", ""));
}

TEST(MailboxName, ListPatternsOfManyWildcardsStayLinear) {
  // Found by fuzz/imap_names: the recursive matcher took exponential time on these.
  const std::string name(200, 'a');
  std::string pattern;
  for (int i = 0; i < 100; ++i) pattern += "*a%";
  EXPECT_FALSE(list_matches(pattern + "x", name));
  EXPECT_FALSE(list_matches(std::string(5000, '*') + "1.3.2.D))", name));
  std::string many;
  for (int i = 0; i < 2000; ++i) many += i % 2 ? "*" : "a";
  EXPECT_FALSE(list_matches(many, name));  // more letters than the name has
  EXPECT_TRUE(list_matches("*" + std::string(200, 'a') + "*", name));
}

}  // namespace
}  // namespace postino::imap::wire
