// Tests for domain, address and mailbox name validation (RELIABILITY I01).
#include "store/names.hpp"

#include <gtest/gtest.h>

namespace postino::store {
namespace {

TEST(Names, Domains) {
  EXPECT_EQ(canonical_domain("Example.TEST"), "example.test");
  EXPECT_EQ(canonical_domain("example.test."), "example.test");
  EXPECT_EQ(canonical_domain("xn--bcher-kva.example"), "xn--bcher-kva.example");
  for (auto bad : {"", ".", "a..b", "-a.b", "a-.b", "a b", "a_b.c", "a/b", "[1.2.3.4]"}) {
    EXPECT_FALSE(canonical_domain(bad)) << bad;
  }
  EXPECT_FALSE(canonical_domain(std::string(64, 'a') + ".b"));
}

TEST(Names, Addresses) {
  auto a = parse_address("Demo.User+tag@Example.TEST");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->str(), "demo.user+tag@example.test");
  // RFC 5322 atext allows "$", "{" and "}": such a name is merely unknown (RELIABILITY S06).
  EXPECT_TRUE(parse_address("${run{x}}@x.test"));
  for (auto bad : {"", "@x.test", "a@", "a@@b.test", "a b@x.test", ".a@x.test", "a.@x.test",
                   "a..b@x.test", "\"q\"@x.test", "a\r@x.test", "a;b@x.test", "<a>@x.test"}) {
    EXPECT_FALSE(parse_address(bad)) << bad;
  }
}

TEST(Names, MailboxNamesAreCanonicalAndSafe) {
  const MailboxNameRules rules;
  EXPECT_EQ(canonical_mailbox_name("inbox", rules), "INBOX");
  EXPECT_EQ(canonical_mailbox_name("Inbox/Sub", rules), "INBOX/Sub");
  EXPECT_EQ(canonical_mailbox_name("Work/inbox", rules), "Work/inbox");
  EXPECT_EQ(canonical_mailbox_name("Zürich", rules), "Zürich");
  for (auto bad : {"", "../x", "a/../../x", "/etc", "~root", "a//b", "./a", "a/", "a/.", "a\nb",
                   "a\rb", "a\tb"}) {
    EXPECT_FALSE(canonical_mailbox_name(bad, rules)) << bad;
  }
  EXPECT_FALSE(canonical_mailbox_name(std::string_view("a\0b", 3), rules));
  EXPECT_FALSE(canonical_mailbox_name(std::string(1000, 'a'), rules));
  std::string deep = "a";
  for (int i = 0; i < 300; ++i) deep += "/a";
  EXPECT_FALSE(canonical_mailbox_name(deep, MailboxNameRules{100000, 16}));
  EXPECT_FALSE(canonical_mailbox_name("\xff\xfe", rules));
}

TEST(Names, Utf8Validation) {
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("\xe2\x82\xac"));       // €
  EXPECT_FALSE(is_valid_utf8("\xe2\x82"));          // truncated
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong "/"
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // > U+10FFFF
}

}  // namespace
}  // namespace postino::store
